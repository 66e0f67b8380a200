// Command example connects to Apache Cassandra with a secure connection
// bundle and the gocql v2 driver, creates a keyspace and a table, writes a
// row and reads it back.
//
//	SCB_PASSWORD=secret go run ./examples/go -bundle scb.zip [-user app]
//
// The password comes from the environment (SCB_PASSWORD), never from a
// flag; a passphrase for an encrypted client key from SCB_KEY_PASSPHRASE.
// The username defaults to the one recorded in the bundle.
//
// Every failure is explained with a hint: a rejected bundle (expired,
// modified, wrong key passphrase), TLS failures in either direction,
// authentication failures, unreachable contact points and timeouts.
// Exit codes: 0 success, 1 failure, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/gocqlv2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bundlePath := fs.String("bundle", "", "secure connection bundle (zip, tar.gz or directory); required")
	user := fs.String("user", "", "Cassandra username (default: the bundle's)")
	keyspace := fs.String("keyspace", "scbkit_example", "keyspace to create and use")
	timeout := fs.Duration("timeout", 30*time.Second, "overall time limit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bundlePath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: SCB_PASSWORD=... example -bundle scb.zip [-user NAME] [-keyspace NAME] [-timeout 30s]")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	// 1. Open and check the bundle. Nothing is extracted to disk.
	b, err := loader.Open(*bundlePath, loader.Options{KeyPassphrase: []byte(getenv("SCB_KEY_PASSPHRASE"))})
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\nhint: %s\n", err, bundleHint(err))
		return 1
	}
	username := *user
	if username == "" {
		username = b.Username()
	}
	if username == "" {
		fmt.Fprintln(stderr, "error: no username: pass -user (the bundle records none)")
		return 2
	}
	password := getenv("SCB_PASSWORD")
	if password == "" {
		fmt.Fprintln(stderr, "warning: SCB_PASSWORD is empty")
	}

	// 2. Connect: mutual TLS, endpoints and driver settings from the bundle.
	session, err := gocqlv2.Connect(ctx, b, gocqlv2.WithPassword(username, password))
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		var ce *loader.ConnectError
		switch {
		case errors.As(err, &ce):
			fmt.Fprintf(stderr, "hint (%s): %s\n", failureClass(ce), ce.Hint())
		case errors.Is(err, loader.ErrExpired), errors.Is(err, loader.ErrNotYetValid):
			fmt.Fprintf(stderr, "hint: %s\n", bundleHint(err))
		}
		return 1
	}
	defer session.Close()
	fmt.Fprintf(stdout, "connected to %s as %s (client certificate expires %s)\n",
		b.Endpoints().ContactPoints, username, b.Certificate().NotAfter.UTC().Format(time.RFC3339))

	// 3. Schema, one write, one read.
	dc := b.Endpoints().LocalDatacenter
	steps := []struct{ what, cql string }{
		{"create keyspace", fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'NetworkTopologyStrategy', '%s': 1}`, *keyspace, dc)},
		{"create table", fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.greetings (id text PRIMARY KEY, message text, written_at timestamp)`, *keyspace)},
	}
	for _, s := range steps {
		if err := session.Query(s.cql).ExecContext(ctx); err != nil {
			return queryFailed(stderr, s.what, err)
		}
	}
	id := fmt.Sprintf("%s-%d", b.Metadata().ClientID, time.Now().UnixNano())
	msg := "hello from " + b.Metadata().ClientID
	if err := session.Query(fmt.Sprintf(`INSERT INTO %s.greetings (id, message, written_at) VALUES (?, ?, ?)`, *keyspace), id, msg, time.Now()).
		ExecContext(ctx); err != nil {
		return queryFailed(stderr, "write", err)
	}
	var got string
	var at time.Time
	if err := session.Query(fmt.Sprintf(`SELECT message, written_at FROM %s.greetings WHERE id = ?`, *keyspace), id).
		ScanContext(ctx, &got, &at); err != nil {
		return queryFailed(stderr, "read", err)
	}
	fmt.Fprintf(stdout, "wrote and read back row %s: %q (written %s)\n", id, got, at.UTC().Format(time.RFC3339))
	return 0
}

// bundleHint explains why a bundle was rejected.
func bundleHint(err error) string {
	var ve *loader.ValidityError
	switch {
	case errors.As(err, &ve) && errors.Is(err, loader.ErrExpired):
		return fmt.Sprintf("the client certificate expired on %s: ask for a renewed bundle", ve.NotAfter.UTC().Format(time.RFC3339))
	case errors.As(err, &ve):
		return fmt.Sprintf("the client certificate is valid only from %s: check this machine's clock", ve.NotBefore.UTC().Format(time.RFC3339))
	case errors.Is(err, scb.ErrPassphrase):
		return "the client key is encrypted: set SCB_KEY_PASSPHRASE to its passphrase"
	case errors.Is(err, scb.ErrDigestMismatch), errors.Is(err, scb.ErrMissingFile):
		return "the bundle is damaged or was modified: download it again"
	case errors.Is(err, os.ErrNotExist):
		return "check the -bundle path"
	}
	return "the file is not a valid secure connection bundle"
}

func failureClass(ce *loader.ConnectError) string {
	switch {
	case errors.Is(ce, loader.ErrTLS):
		return "TLS failure"
	case errors.Is(ce, loader.ErrAuth):
		return "authentication failure"
	case errors.Is(ce, loader.ErrUnreachable):
		return "no host reachable"
	case errors.Is(ce, loader.ErrTimeout):
		return "timeout"
	}
	return "connection failure"
}

func queryFailed(stderr io.Writer, what string, err error) int {
	fmt.Fprintf(stderr, "error: %s: %v\n", what, err)
	var wt *gocql.RequestErrWriteTimeout
	var rt *gocql.RequestErrReadTimeout
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, gocql.ErrTimeoutNoResponse), errors.As(err, &wt), errors.As(err, &rt):
		fmt.Fprintln(stderr, "hint: the query timed out; the cluster may be overloaded, or raise request_timeout / -timeout")
	case errors.Is(err, gocql.ErrNoConnections):
		fmt.Fprintln(stderr, "hint: every connection was lost; check the nodes")
	}
	return 1
}
