package testcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Environment variables read by FromEnv and LookupEnv.
const (
	// EnvState names the state file of the shared cluster started by
	// scripts/test.sh ("scb-testcluster start --state FILE").
	EnvState = "SCB_TEST_STATE"
	// EnvCassandra points at an external cluster instead: a comma-separated
	// list of host:port CQL endpoints (TLS with client certificates).
	EnvCassandra = "SCB_TEST_CASSANDRA"
	// EnvCACert and EnvCAKey are PEM files of a CA whose client
	// certificates the external cluster accepts (key: PKCS#8). EnvCACert
	// also verifies the server certificate unless EnvServerCA is set.
	EnvCACert = "SCB_TEST_CA_CERT"
	EnvCAKey  = "SCB_TEST_CA_KEY"
	// EnvServerCA is an optional PEM file of the CA(s) that verify the
	// external cluster's server certificate.
	EnvServerCA = "SCB_TEST_SERVER_CA"
	// EnvUsername and EnvPassword are the external cluster's superuser
	// credentials; they default to cassandra/cassandra.
	EnvUsername = "SCB_TEST_USERNAME"
	EnvPassword = "SCB_TEST_PASSWORD"
)

// ErrNoCluster is returned by LookupEnv when no cluster is configured.
var ErrNoCluster = errors.New("no test cluster configured: set " + EnvState + " (run `make test`) or " + EnvCassandra)

// FromEnv returns the primary shared cluster for an integration test. It
// fails the test if the environment is set but unusable. With no cluster
// configured it fails the test when CI is set and skips it otherwise, so a
// hand-run `go test ./...` still passes; `make test` always provides one.
func FromEnv(t testing.TB) *Cluster {
	t.Helper()
	return AllFromEnv(t)[0]
}

// AllFromEnv is like FromEnv but returns every shared cluster (the first is
// the primary one).
func AllFromEnv(t testing.TB) []*Cluster {
	t.Helper()
	cs, err := LookupEnv()
	if errors.Is(err, ErrNoCluster) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI is set, so integration tests must not be skipped", err)
		}
		t.Skipf("skipping integration test: %v", err)
	}
	if err != nil {
		t.Fatalf("test cluster: %v", err)
	}
	return cs
}

// LookupEnv returns the clusters described by the environment (see the Env*
// constants): the shared state file if EnvState is set, else the external
// cluster of EnvCassandra. It returns ErrNoCluster if neither is set.
func LookupEnv() ([]*Cluster, error) {
	if path := os.Getenv(EnvState); path != "" {
		s, err := ReadState(path)
		if err != nil {
			return nil, err
		}
		return s.Attach()
	}
	if hosts := os.Getenv(EnvCassandra); hosts != "" {
		c, err := externalCluster(hosts)
		if err != nil {
			return nil, err
		}
		return []*Cluster{c}, nil
	}
	return nil, ErrNoCluster
}

func externalCluster(hosts string) (*Cluster, error) {
	c := &Cluster{Name: "external", External: true, keepDir: true}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not host:port: %w", EnvCassandra, h, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("%s: bad port in %q", EnvCassandra, h)
		}
		c.Nodes = append(c.Nodes, &Node{Address: host, NativePort: p})
	}
	certFile, keyFile := os.Getenv(EnvCACert), os.Getenv(EnvCAKey)
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("%s needs %s and %s (the CA whose client certificates the cluster accepts)", EnvCassandra, EnvCACert, EnvCAKey)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvCACert, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvCAKey, err)
	}
	if c.CA, err = LoadCA(certPEM, keyPEM); err != nil {
		return nil, err
	}
	c.ServerRoots = c.CA.Pool()
	if f := os.Getenv(EnvServerCA); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvServerCA, err)
		}
		if c.ServerRoots, err = certPool(b); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvServerCA, err)
		}
	}
	c.Username, c.Password = os.Getenv(EnvUsername), os.Getenv(EnvPassword)
	if c.Username == "" {
		c.Username, c.Password = DefaultUsername, DefaultPassword
	}
	return c, nil
}

// ClientTLS returns a TLS configuration for a new client certificate with
// the given common name, issued by the cluster's CA, trusting the cluster's
// server roots. The zero Validity gives a certificate valid for 24 hours.
func (c *Cluster) ClientTLS(commonName string, v Validity) (*tls.Config, error) {
	if c.CA == nil {
		return nil, errors.New("cluster has no CA to issue client certificates")
	}
	kp, err := c.CA.IssueClient(commonName, v)
	if err != nil {
		return nil, err
	}
	cert, err := kp.TLSCertificate()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      c.ServerRoots,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// SessionConfig returns a gocql configuration for all of the cluster's
// nodes, logging in as the superuser over TLS with tlsConfig.
func (c *Cluster) SessionConfig(tlsConfig *tls.Config) *gocql.ClusterConfig {
	return SessionConfig(c.Hosts(), tlsConfig, c.Username, c.Password)
}

// Session opens a superuser session with a fresh client certificate and
// closes it when the test ends.
func (c *Cluster) Session(t testing.TB) *gocql.Session {
	t.Helper()
	tc, err := c.ClientTLS("scbtest-client", Validity{})
	if err != nil {
		t.Fatalf("client tls: %v", err)
	}
	s, err := c.SessionConfig(tc).CreateSession()
	if err != nil {
		t.Fatalf("connect to cluster %s (%s): %v", c.Name, strings.Join(c.Hosts(), ","), err)
	}
	t.Cleanup(s.Close)
	return s
}

// ReleaseVersion logs in to node n with tlsConfig and returns its
// release_version; it is a cheap end-to-end check of TLS and login.
func (c *Cluster) ReleaseVersion(ctx context.Context, n *Node, tlsConfig *tls.Config) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return releaseVersion(ctx, n.HostPort(), tlsConfig, c.Username, c.Password)
}

// MultiDCFromEnv returns the first shared cluster whose nodes span more
// than one data center (scripts/test.sh starts one). It fails the test in
// CI and skips it elsewhere when there is none.
func MultiDCFromEnv(t testing.TB) *Cluster {
	t.Helper()
	for _, c := range AllFromEnv(t) {
		if len(c.DCs()) > 1 {
			return c
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no multi-DC test cluster in the environment; CI is set, so the test must not be skipped")
	}
	t.Skip("skipping: no multi-DC test cluster in the environment (scripts/test.sh starts one)")
	return nil
}

// DCs returns the cluster's data centers in node order, without repeats.
func (c *Cluster) DCs() []string {
	var dcs []string
	seen := map[string]bool{}
	for _, n := range c.Nodes {
		if n.DC != "" && !seen[n.DC] {
			seen[n.DC] = true
			dcs = append(dcs, n.DC)
		}
	}
	return dcs
}
