// Command scb-testcluster starts and stops the Apache Cassandra cluster(s)
// shared by one run of the scbkit test suite.
//
// Usage:
//
//	scb-testcluster start --state FILE --lib DIR [--topology single] [--heap 512M]
//	scb-testcluster stop --state FILE
//	scb-testcluster status --state FILE
//	scb-testcluster certs --out DIR [--host H]...
//
// "start" creates a test CA, a server certificate and the clusters, waits
// until every node accepts a TLS + password login, writes the JSON state
// file and exits, leaving the nodes running. Tests find the state through
// SCB_TEST_STATE=FILE (see testcluster.FromEnv). "stop" stops every node in
// the state file and removes its files. Both are what scripts/test.sh runs.
//
// --topology is a comma-separated list of clusters, each "single" (one node
// on 127.0.0.1 in datacenter1) or "multi-dc" (127.0.0.1 in dc1 and
// 127.0.0.2 in dc2). "single,single" starts two independent clusters side by
// side with distinct names and ports.
//
// "certs" writes a test CA and a server certificate for running Cassandra
// some other way (for example in Docker, see docs/testing.md): ca.pem,
// ca-key.pem (PKCS#8, 0600), server-keystore.pem (key + certificate, the
// PEMBasedSslContextFactory keystore) and truststore.pem (the CA).
//
// Exit codes: 0 ok, 1 failure, 2 usage.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/scbkit/scbkit/internal/testcluster"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  scb-testcluster start --state FILE --lib DIR [--topology single|multi-dc|single,single|...] [--heap 512M] [--java PATH] [--base-dir DIR] [--timeout 3m] [--keep]
  scb-testcluster stop --state FILE
  scb-testcluster status --state FILE
  scb-testcluster certs --out DIR [--host 127.0.0.1 --host localhost ...]
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "start":
		err = start(ctx, args[1:], stdout, stderr)
	case "stop":
		err = stopCmd(args[1:], stderr)
	case "status":
		err = status(ctx, args[1:], stdout, stderr)
	case "certs":
		err = certs(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "scb-testcluster: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "scb-testcluster: %v\n%s", err, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "scb-testcluster: %v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func start(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "state file to write (required)")
	lib := fs.String("lib", "", "directory of cassandra-all and its dependencies (required; see scripts/fetch-cassandra.sh)")
	topology := fs.String("topology", "single", "comma-separated clusters: single | multi-dc")
	heap := fs.String("heap", testcluster.DefaultHeap, "heap (-Xms/-Xmx) of each node")
	java := fs.String("java", testcluster.DefaultJava, "Java 17 binary")
	baseDir := fs.String("base-dir", "", "parent of the run directory (default: the system temp dir)")
	timeout := fs.Duration("timeout", 3*time.Minute, "start timeout per node")
	keep := fs.Bool("keep", false, "keep work directories after a failed start, for debugging")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *state == "" || *lib == "" || fs.NArg() != 0 {
		return usageError{errors.New("start needs --state and --lib and no arguments")}
	}
	var kinds []string
	for _, k := range strings.Split(*topology, ",") {
		k = strings.TrimSpace(k)
		if k != "single" && k != "multi-dc" {
			return usageError{fmt.Errorf("unknown topology %q (want single or multi-dc)", k)}
		}
		kinds = append(kinds, k)
	}
	statePath, err := filepath.Abs(*state)
	if err != nil {
		return err
	}
	if _, err := os.Stat(statePath); err == nil {
		return fmt.Errorf("state file %s exists: a cluster may be running (run: scb-testcluster stop --state %s)", statePath, *state)
	}
	libDir, err := filepath.Abs(*lib)
	if err != nil {
		return err
	}
	base := *baseDir
	if base == "" {
		base = os.TempDir()
	}
	runDir, err := os.MkdirTemp(base, "scbtest-run-")
	if err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	ok := false
	var clusters []*testcluster.Cluster
	defer func() {
		if ok {
			return
		}
		for _, c := range clusters {
			_ = c.Stop(context.Background())
		}
		if !*keep {
			os.RemoveAll(runDir)
		}
	}()

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	// The project's own CA, as `scb ca init` makes it; the nodes' server
	// certificates come from it as from `scb ca issue-server`.
	caDir := filepath.Join(runDir, "ca")
	ca, err := testcluster.InitCA(caDir, "scbkit test")
	if err != nil {
		return err
	}
	caCert, caKey := filepath.Join(caDir, "root-cert.pem"), filepath.Join(caDir, "root-key.pem")
	server, err := ca.IssueServer(testcluster.DefaultServerHosts, testcluster.Validity{NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	probe, err := ca.IssueClient("scbtest-probe", testcluster.Validity{NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	probeCert, err := probe.TLSCertificate()
	if err != nil {
		return err
	}
	clientTLS := &tls.Config{Certificates: []tls.Certificate{probeCert}, RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}

	st := &testcluster.State{
		Version: testcluster.StateVersion, Dir: runDir, CACert: caCert, CAKey: caKey, CADir: caDir,
		Username: testcluster.DefaultUsername, Password: testcluster.DefaultPassword,
		LibDir: libDir, Java: *java,
	}
	for i, kind := range kinds {
		cfg := testcluster.Config{
			LibDir:       libDir,
			Java:         *java,
			ClusterName:  fmt.Sprintf("scbtest%d", i+1),
			Heap:         *heap,
			TLS:          testcluster.ServerTLS{CertChainPEM: server.CertPEM, KeyPEM: server.KeyPEM, TrustPEM: ca.CertPEM},
			ClientTLS:    clientTLS,
			BaseDir:      runDir,
			StartTimeout: *timeout,
			KeepWorkDir:  *keep,
			Detached:     true,
			Logger:       logger,
		}
		if kind == "multi-dc" {
			cfg.Nodes = []testcluster.NodeSpec{
				{Address: "127.0.0.1", DC: "dc1", Rack: "rack1"},
				{Address: "127.0.0.2", DC: "dc2", Rack: "rack1"},
			}
		}
		began := time.Now()
		c, err := testcluster.Start(ctx, cfg)
		if err != nil {
			return err
		}
		clusters = append(clusters, c)
		st.Clusters = append(st.Clusters, c.State())
		logger.Info("cluster ready", "cluster", c.Name, "hosts", strings.Join(c.Hosts(), ","), "elapsed", time.Since(began).Round(time.Millisecond))
	}
	if err := testcluster.WriteState(statePath, st); err != nil {
		return err
	}
	ok = true
	fmt.Fprintln(stdout, statePath)
	return nil
}

func stopCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "state file written by start (required)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *state == "" || fs.NArg() != 0 {
		return usageError{errors.New("stop needs --state and no arguments")}
	}
	// Stopping must finish even if the caller is being interrupted.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return testcluster.StopState(ctx, *state)
}

func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "state file written by start (required)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *state == "" || fs.NArg() != 0 {
		return usageError{errors.New("status needs --state and no arguments")}
	}
	s, err := testcluster.ReadState(*state)
	if err != nil {
		return err
	}
	clusters, err := s.Attach()
	if err != nil {
		return err
	}
	var failed error
	for _, c := range clusters {
		tc, err := c.ClientTLS("scbtest-status", testcluster.Validity{})
		if err != nil {
			return err
		}
		for _, n := range c.Nodes {
			v, err := c.ReleaseVersion(ctx, n, tc)
			if err != nil {
				fmt.Fprintf(stdout, "%s %s %s pid %d: DOWN: %v\n", c.Name, n.HostPort(), n.DC, n.PID, err)
				failed = errors.New("some nodes are down")
				continue
			}
			fmt.Fprintf(stdout, "%s %s %s pid %d: up, cassandra %s\n", c.Name, n.HostPort(), n.DC, n.PID, v)
		}
	}
	return failed
}

type hostList []string

func (h *hostList) String() string     { return strings.Join(*h, ",") }
func (h *hostList) Set(v string) error { *h = append(*h, v); return nil }

func certs(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to create (required; must not exist)")
	var hosts hostList
	fs.Var(&hosts, "host", "server certificate SAN (IP or DNS name); repeatable (default 127.0.0.1, 127.0.0.2, localhost)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError{errors.New("certs needs --out and no arguments")}
	}
	ca, err := testcluster.NewCA("scbkit test CA")
	if err != nil {
		return err
	}
	server, err := ca.IssueServer(hosts, testcluster.Validity{NotAfter: time.Now().Add(29 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	if err := os.Mkdir(*out, 0o700); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	keystore := append(append([]byte{}, server.KeyPEM...), server.CertPEM...)
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"ca.pem", ca.CertPEM, 0o644},
		{"ca-key.pem", ca.KeyPEM(), 0o600},
		{"server-keystore.pem", keystore, 0o600},
		{"truststore.pem", ca.CertPEM, 0o644},
	}
	for _, f := range files {
		p := filepath.Join(*out, f.name)
		fh, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, f.mode)
		if err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := fh.Close(); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	fmt.Fprintln(stdout, *out)
	return nil
}
