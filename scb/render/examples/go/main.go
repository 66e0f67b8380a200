// Command example connects to Cassandra over mutual TLS with the bundle's
// gocql settings (config/driver-configs/go/connection-params.json), writes a
// row and reads it back.
//
// Usage: go run . [BUNDLE]   (the extracted bundle directory; default
// $SCB_BUNDLE, else "."). Credentials come from SCB_USERNAME and
// SCB_PASSWORD. Exit codes: 0 ok, 1 other error, 2 bad bundle or usage,
// 3 authentication failed, 4 TLS failed, 5 no host available, 6 timed out.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

const conf = "config/driver-configs/go/connection-params.json"

type params struct {
	Hosts            []string `json:"hosts"`
	LocalDatacenter  string   `json:"local_datacenter"`
	Consistency      string   `json:"consistency"`
	TimeoutMS        int64    `json:"timeout_ms"`
	ConnectTimeoutMS int64    `json:"connect_timeout_ms"`
	NumConns         int      `json:"num_conns"`
	TokenAware       bool     `json:"token_aware"`
	RetryPolicy      string   `json:"retry_policy"`
	MaxRetries       int      `json:"max_retries"`
	Compression      string   `json:"compression"`
	TLS              struct {
		CAPath               string `json:"ca_path"`
		CertPath             string `json:"cert_path"`
		KeyPath              string `json:"key_path"`
		KeyEncrypted         bool   `json:"key_encrypted"`
		HostnameVerification bool   `json:"hostname_verification"`
		ServerName           string `json:"server_name"`
		MinVersion           string `json:"min_version"`
	} `json:"tls"`
}

func clusterConfig(root, user, password string) (*gocql.ClusterConfig, *params, error) {
	var p params
	data, err := os.ReadFile(filepath.Join(root, conf))
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", conf, err)
	}
	if p.Compression != "none" || p.TLS.KeyEncrypted {
		return nil, nil, errors.New("this example handles no compression and a plain key only")
	}
	in := func(rel string) string { return filepath.Join(root, rel) } // paths are relative to the bundle root
	caPEM, err := os.ReadFile(in(p.TLS.CAPath))
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, nil, errors.New("no CA certificate in " + p.TLS.CAPath)
	}
	cert, err := tls.LoadX509KeyPair(in(p.TLS.CertPath), in(p.TLS.KeyPath))
	if err != nil {
		return nil, nil, err
	}
	// Our own tls.Config: gocql's EnableHostVerification=false without one
	// would skip every certificate check.
	tc := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, ServerName: p.TLS.ServerName}
	if p.TLS.MinVersion == "1.3" {
		tc.MinVersion = tls.VersionTLS13
	}
	if !p.TLS.HostnameVerification {
		// INSECURE, tests only: verify the chain, not the name.
		tc.InsecureSkipVerify = true
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			certs := make([]*x509.Certificate, len(raw))
			for i, r := range raw {
				if certs[i], err = x509.ParseCertificate(r); err != nil {
					return err
				}
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	c := gocql.NewCluster(p.Hosts...)
	c.SslOpts = &gocql.SslOptions{Config: tc, EnableHostVerification: p.TLS.HostnameVerification}
	c.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: password}
	if c.Consistency, err = gocql.ParseConsistencyWrapper(p.Consistency); err != nil {
		return nil, nil, err
	}
	c.Timeout = time.Duration(p.TimeoutMS) * time.Millisecond
	c.ConnectTimeout = time.Duration(p.ConnectTimeoutMS) * time.Millisecond
	c.NumConns = p.NumConns
	lb := gocql.DCAwareRoundRobinPolicy(p.LocalDatacenter)
	if p.TokenAware {
		lb = gocql.TokenAwareHostPolicy(lb)
	}
	c.PoolConfig.HostSelectionPolicy = lb
	if p.RetryPolicy == "simple" {
		c.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: p.MaxRetries}
	}
	return c, &p, nil
}

// withRetry retries idempotent requests on timeouts with exponential backoff.
func withRetry(fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		var te gocql.RequestErrWriteTimeout
		var re gocql.RequestErrReadTimeout
		var ue gocql.RequestErrUnavailable
		transient := errors.Is(err, gocql.ErrTimeoutNoResponse) || errors.As(err, &te) || errors.As(err, &re) || errors.As(err, &ue)
		if err == nil || !transient || attempt == 3 {
			return err
		}
		fmt.Fprintf(os.Stderr, "attempt %d failed (%v), retrying\n", attempt, err)
		time.Sleep(200 * time.Millisecond << attempt)
	}
}

func classify(err error) (int, string) {
	var ce x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ne net.Error
	msg := err.Error()
	switch {
	case strings.Contains(msg, "authentication") || strings.Contains(msg, "Bad credentials") || strings.Contains(msg, "password"):
		return 3, "authentication failed: check SCB_USERNAME / SCB_PASSWORD"
	case errors.As(err, &ce) || errors.As(err, &ua) || errors.As(err, &he) || strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return 4, "TLS failed: server certificate not from this bundle's CA, wrong host name, or client certificate refused"
	case errors.Is(err, gocql.ErrNoConnectionsStarted) || errors.Is(err, gocql.ErrNoConnections):
		return 5, "no host available: check contact points, datacenter and network"
	case errors.Is(err, gocql.ErrTimeoutNoResponse) || errors.As(err, &ne) && ne.Timeout():
		return 6, "timed out"
	}
	return 1, "error"
}

func run() int {
	user, password := os.Getenv("SCB_USERNAME"), os.Getenv("SCB_PASSWORD")
	ks := os.Getenv("SCB_KEYSPACE")
	if ks == "" {
		ks = "scb_examples"
	}
	if user == "" || !regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`).MatchString(ks) {
		fmt.Fprintln(os.Stderr, "set SCB_USERNAME and SCB_PASSWORD (and a plain SCB_KEYSPACE)")
		return 2
	}
	root := os.Getenv("SCB_BUNDLE")
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	if root == "" {
		root = "."
	}
	cluster, p, err := clusterConfig(root, user, password)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		return 2
	}
	session, err := cluster.CreateSession()
	if err != nil {
		code, what := classify(err)
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		return code
	}
	defer session.Close()
	var driver, message string
	var at time.Time
	err = errors.Join(
		withRetry(func() error {
			return session.Query(fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'NetworkTopologyStrategy', '%s': 1}", ks, p.LocalDatacenter)).Exec()
		}),
		withRetry(func() error {
			return session.Query("CREATE TABLE IF NOT EXISTS " + ks + ".messages (driver text PRIMARY KEY, message text, written_at timestamp)").Exec()
		}),
		withRetry(func() error {
			return session.Query("INSERT INTO "+ks+".messages (driver, message, written_at) VALUES (?, ?, ?)", "go", "hello from gocql", time.Now()).Idempotent(true).Exec()
		}),
		withRetry(func() error {
			return session.Query("SELECT driver, message, written_at FROM "+ks+".messages WHERE driver = ?", "go").Idempotent(true).Scan(&driver, &message, &at)
		}),
	)
	if err != nil {
		code, what := classify(err)
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		return code
	}
	fmt.Printf("read back: driver=%s message=%q written_at=%s\n", driver, message, at.UTC().Format(time.RFC3339Nano))
	return 0
}

func main() { os.Exit(run()) }
