package testcluster_test

// Integration tests against the shared cluster(s) started by scripts/test.sh
// (see testcluster.FromEnv). Run them with `make test`.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/scbkit/scbkit/internal/testcluster"
)

// keyspaceName returns a fresh keyspace name for one test.
func keyspaceName() string {
	return fmt.Sprintf("scbtest_%d", time.Now().UnixNano())
}

// replication returns a NetworkTopologyStrategy replication map with one
// replica in each of the cluster's data centers.
func replication(c *testcluster.Cluster) string {
	var parts []string
	for _, dc := range c.DCs() {
		parts = append(parts, fmt.Sprintf("'%s': 1", dc))
	}
	return "{'class': 'NetworkTopologyStrategy', " + strings.Join(parts, ", ") + "}"
}

func dropKeyspace(t *testing.T, s *gocql.Session, ks string) {
	t.Cleanup(func() {
		if err := s.Query("DROP KEYSPACE IF EXISTS " + ks).Exec(); err != nil {
			t.Logf("drop keyspace %s: %v", ks, err)
		}
	})
}

func clientTLS(t *testing.T, c *testcluster.Cluster, cn string, v testcluster.Validity) *tls.Config {
	t.Helper()
	tc, err := c.ClientTLS(cn, v)
	if err != nil {
		t.Fatalf("client tls: %v", err)
	}
	return tc
}

// TestClientCertAndPasswordCRUD connects with a CA-issued client certificate
// and the superuser password and runs DDL and DML.
func TestClientCertAndPasswordCRUD(t *testing.T) {
	c := testcluster.FromEnv(t)
	s := c.Session(t)
	ks := keyspaceName()
	dropKeyspace(t, s, ks)
	stmts := []string{
		"CREATE KEYSPACE " + ks + " WITH replication = " + replication(c),
		"CREATE TABLE " + ks + ".kv (k text PRIMARY KEY, v int)",
	}
	for _, q := range stmts {
		if err := s.Query(q).Exec(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Query("INSERT INTO "+ks+".kv (k, v) VALUES (?, ?)", "answer", 42).Exec(); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var v int
	if err := s.Query("SELECT v FROM "+ks+".kv WHERE k = ?", "answer").Scan(&v); err != nil {
		t.Fatalf("select: %v", err)
	}
	if v != 42 {
		t.Fatalf("select returned %d, want 42", v)
	}
}

// TestTLSVersions checks that the nodes accept TLS 1.2 and TLS 1.3.
func TestTLSVersions(t *testing.T) {
	c := testcluster.FromEnv(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			tc := clientTLS(t, c, "scbtest-tlsversion", testcluster.Validity{})
			tc.MinVersion, tc.MaxVersion = v, v
			for _, n := range c.Nodes {
				st, err := testcluster.ProbeTLS(context.Background(), n.HostPort(), tc)
				if err != nil {
					t.Fatalf("%s: %v", n.HostPort(), err)
				}
				if st.Version != v {
					t.Fatalf("%s negotiated %s, want %s", n.HostPort(), tls.VersionName(st.Version), tls.VersionName(v))
				}
			}
			if _, err := c.ReleaseVersion(context.Background(), c.Nodes[0], tc); err != nil {
				t.Fatalf("login over %s: %v", tls.VersionName(v), err)
			}
		})
	}
}

// wantTLSAlert fails unless err is a TLS alert sent by the server whose
// description is one of alerts (Go's wording, e.g. "expired certificate").
func wantTLSAlert(t *testing.T, err error, alerts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("connection succeeded, want the server to reject the handshake with a TLS alert (%s)", strings.Join(alerts, " | "))
	}
	msg := err.Error()
	i := strings.Index(msg, "remote error: tls: ")
	if i < 0 {
		t.Fatalf("error %q is not a TLS alert from the server", msg)
	}
	got := msg[i+len("remote error: tls: "):]
	for _, a := range alerts {
		if strings.HasPrefix(got, a) {
			return
		}
	}
	t.Fatalf("server sent TLS alert %q, want one of %q", got, alerts)
}

// rejections: each case is checked at the raw TLS level (specific alert,
// TLS 1.2 and 1.3) and through gocql (session creation fails with it).
func TestClientCertificateRejections(t *testing.T) {
	c := testcluster.FromEnv(t)
	n := c.Nodes[0]

	other, err := testcluster.NewCA("other test CA")
	if err != nil {
		t.Fatal(err)
	}
	otherKP, err := other.IssueClient("scbtest-other-ca", testcluster.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	expiredKP, err := c.CA.IssueClient("scbtest-expired", testcluster.Validity{
		NotBefore: time.Now().Add(-48 * time.Hour),
		NotAfter:  time.Now().Add(-24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}

	// alwaysSend presents the certificate even when it does not match the
	// CAs the server asks for (Go's client would otherwise send none).
	alwaysSend := func(kp *testcluster.KeyPair) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		cert, err := kp.TLSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}

	type tcase struct {
		name string
		cfg  func() *tls.Config
		// alerts accepted for TLS 1.2 and TLS 1.3.
		alerts12, alerts13 []string
	}
	cases := []tcase{
		{
			name: "no client certificate",
			cfg:  func() *tls.Config { return &tls.Config{RootCAs: c.ServerRoots} },
			// Java/BoringSSL: handshake_failure (1.2), certificate_required (1.3).
			alerts12: []string{"handshake failure", "bad certificate"},
			alerts13: []string{"certificate required"},
		},
		{
			name: "client certificate from another CA",
			cfg: func() *tls.Config {
				return &tls.Config{RootCAs: c.ServerRoots, GetClientCertificate: alwaysSend(otherKP)}
			},
			// Cassandra's BoringSSL engine answers an untrusted chain with
			// internal_error; a JDK engine would say bad_certificate or
			// certificate_unknown.
			alerts12: []string{"internal error", "bad certificate", "unknown certificate authority", "certificate unknown"},
			alerts13: []string{"internal error", "bad certificate", "unknown certificate authority", "certificate unknown"},
		},
		{
			name: "expired client certificate",
			cfg: func() *tls.Config {
				return &tls.Config{RootCAs: c.ServerRoots, GetClientCertificate: alwaysSend(expiredKP)}
			},
			alerts12: []string{"expired certificate"},
			alerts13: []string{"expired certificate"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				cfg := tc.cfg()
				cfg.MinVersion, cfg.MaxVersion = v, v
				_, err := testcluster.ProbeTLS(context.Background(), n.HostPort(), cfg)
				want := tc.alerts13
				if v == tls.VersionTLS12 {
					want = tc.alerts12
				}
				t.Run(tls.VersionName(v), func(t *testing.T) { wantTLSAlert(t, err, want...) })
			}
			// The same through the driver: the session cannot be created
			// and the cause is the TLS alert, not authentication. TLS 1.2
			// only: there the verdict is part of the handshake, while with
			// 1.3 it arrives after gocql has started writing, and whether
			// gocql reports the alert or a reset is a race (the raw probe
			// above covers 1.3).
			cfg := tc.cfg()
			cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
			sess, err := c.SessionConfig(cfg).CreateSession()
			if err == nil {
				sess.Close()
			}
			wantTLSAlert(t, err, append(tc.alerts12, tc.alerts13...)...)
		})
	}

	// Control: the same node accepts a valid certificate from the right CA.
	if _, err := testcluster.ProbeTLS(context.Background(), n.HostPort(), clientTLS(t, c, "scbtest-control", testcluster.Validity{})); err != nil {
		t.Fatalf("valid client certificate rejected: %v", err)
	}
}

// TestOtherCACertificateNotOffered documents Go's client behaviour: with a
// certificate from a CA the server does not list, Go sends no certificate
// and the server rejects the handshake for lack of one.
func TestOtherCACertificateNotOffered(t *testing.T) {
	c := testcluster.FromEnv(t)
	other, err := testcluster.NewCA("other test CA")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := other.IssueClient("scbtest-other-ca", testcluster.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: c.ServerRoots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	_, err = testcluster.ProbeTLS(context.Background(), c.Nodes[0].HostPort(), cfg)
	wantTLSAlert(t, err, "certificate required")
}

// TestWrongPassword: TLS succeeds, then authentication fails.
func TestWrongPassword(t *testing.T) {
	c := testcluster.FromEnv(t)
	tc := clientTLS(t, c, "scbtest-wrongpw", testcluster.Validity{})
	if _, err := testcluster.ProbeTLS(context.Background(), c.Nodes[0].HostPort(), tc); err != nil {
		t.Fatalf("tls with a valid certificate failed: %v", err)
	}
	sess, err := testcluster.SessionConfig(c.Hosts(), tc, c.Username, c.Password+"-wrong").CreateSession()
	if err == nil {
		sess.Close()
		t.Fatal("login with a wrong password succeeded")
	}
	// gocql v2 flattens the server's AUTHENTICATION error (code 0x0100)
	// into text; Cassandra's PasswordAuthenticator wording:
	want := fmt.Sprintf("Provided username %s and/or password are incorrect", c.Username)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}

	// And with no credentials at all the server demands authentication.
	cc := c.SessionConfig(tc)
	cc.Authenticator = nil
	sess, err = cc.CreateSession()
	if err == nil {
		sess.Close()
		t.Fatal("login without credentials succeeded")
	}
	if !strings.Contains(err.Error(), "authentication required") || !strings.Contains(err.Error(), "PasswordAuthenticator") {
		t.Fatalf("error %q does not say that password authentication is required", err)
	}
}

// TestServerCertificateReload replaces the primary node's server
// certificate, reloads it through nodetool and checks that new connections
// see the new certificate while an existing session keeps working.
func TestServerCertificateReload(t *testing.T) {
	c := testcluster.FromEnv(t)
	if c.External {
		t.Skip("server certificate reload needs a node started by testcluster")
	}
	n := c.Nodes[0]
	tc := clientTLS(t, c, "scbtest-reload", testcluster.Validity{})
	before := c.SessionConfig(tc)
	old, err := before.CreateSession()
	if err != nil {
		t.Fatalf("connect before reload: %v", err)
	}
	defer old.Close()

	kp, err := c.CA.IssueServer(testcluster.DefaultServerHosts, testcluster.Validity{NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.ReloadTLS(context.Background(), n, testcluster.ServerTLS{CertChainPEM: kp.CertPEM, KeyPEM: kp.KeyPEM}); err != nil {
		t.Fatalf("reload: %v", err)
	}
	t.Logf("reload took %v", time.Since(start).Round(time.Millisecond))

	var seen *x509.Certificate
	probe := tc.Clone()
	probe.VerifyConnection = func(cs tls.ConnectionState) error {
		seen = cs.PeerCertificates[0]
		return nil
	}
	if _, err := testcluster.ProbeTLS(context.Background(), n.HostPort(), probe); err != nil {
		t.Fatalf("connect after reload: %v", err)
	}
	if seen.SerialNumber.Cmp(kp.Cert.SerialNumber) != 0 {
		t.Fatalf("server presents certificate serial %s after reload, want the new %s", seen.SerialNumber, kp.Cert.SerialNumber)
	}
	// A new driver session verifies the new certificate against the same CA.
	s := c.Session(t)
	var v string
	if err := s.Query("SELECT release_version FROM system.local").Scan(&v); err != nil {
		t.Fatalf("query on a new session after reload: %v", err)
	}
	// The session opened before the reload still works.
	if err := old.Query("SELECT release_version FROM system.local").Scan(&v); err != nil {
		t.Fatalf("query on the pre-reload session: %v", err)
	}
}

// TestReloadRejectsBadKey: Cassandra validates the new files first and keeps
// serving the old certificate when they are broken; ReloadTLS reports it.
// (Cassandra does not notice a certificate paired with the wrong key: that
// reload succeeds and breaks new handshakes, so it is not tested here.)
func TestReloadRejectsBadKey(t *testing.T) {
	c := testcluster.FromEnv(t)
	if c.External {
		t.Skip("server certificate reload needs a node started by testcluster")
	}
	n := c.Nodes[0]
	good, err := os.ReadFile(n.KeystorePath())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := c.CA.IssueServer(nil, testcluster.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	// Restore the good keystore however the test ends.
	t.Cleanup(func() {
		if err := os.WriteFile(n.KeystorePath(), good, 0o600); err != nil {
			t.Errorf("restore keystore: %v", err)
		}
		if err := c.ReloadTLS(context.Background(), n, testcluster.ServerTLS{}); err != nil {
			t.Errorf("reload restored keystore: %v", err)
		}
	})
	tc := clientTLS(t, c, "scbtest-bad-reload", testcluster.Validity{})
	var before *x509.Certificate
	probe := tc.Clone()
	probe.VerifyConnection = func(cs tls.ConnectionState) error { before = cs.PeerCertificates[0]; return nil }
	if _, err := testcluster.ProbeTLS(context.Background(), n.HostPort(), probe); err != nil {
		t.Fatal(err)
	}

	// A PKCS#8 block whose content is not a key.
	junk := []byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n")
	err = c.ReloadTLS(context.Background(), n, testcluster.ServerTLS{CertChainPEM: kp.CertPEM, KeyPEM: junk})
	if err == nil || !strings.Contains(err.Error(), "cassandra rejected the new files") {
		t.Fatalf("reload of a junk key: got %v, want a rejection", err)
	}
	// The node still serves the old certificate to new connections.
	var after *x509.Certificate
	probe.VerifyConnection = func(cs tls.ConnectionState) error { after = cs.PeerCertificates[0]; return nil }
	if _, err := testcluster.ProbeTLS(context.Background(), n.HostPort(), probe); err != nil {
		t.Fatalf("node stopped serving after a rejected reload: %v", err)
	}
	if !after.Equal(before) {
		t.Fatalf("certificate changed after a rejected reload: serial %s, want %s", after.SerialNumber, before.SerialNumber)
	}
}

// TestReloadTwice: back-to-back reloads with no client connection in between
// must both be confirmed (Cassandra re-checks only cached TLS contexts).
func TestReloadTwice(t *testing.T) {
	c := testcluster.FromEnv(t)
	if c.External {
		t.Skip("server certificate reload needs a node started by testcluster")
	}
	for i := 0; i < 2; i++ {
		if err := c.ReloadTLS(context.Background(), c.Nodes[0], testcluster.ServerTLS{}); err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
	}
}

// TestMultiDCCluster checks the shared two-node, two-DC cluster: the nodes
// see each other in the right data centers and replicate across them.
func TestMultiDCCluster(t *testing.T) {
	c := testcluster.MultiDCFromEnv(t)
	if len(c.Nodes) < 2 {
		t.Fatalf("multi-DC cluster has %d nodes", len(c.Nodes))
	}
	tc := clientTLS(t, c, "scbtest-multidc", testcluster.Validity{})
	sessionOn := func(n *testcluster.Node) *gocql.Session {
		cc := testcluster.SessionConfig([]string{n.HostPort()}, tc, c.Username, c.Password)
		cc.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(n.DC)
		s, err := cc.CreateSession()
		if err != nil {
			t.Fatalf("connect to %s: %v", n.HostPort(), err)
		}
		t.Cleanup(s.Close)
		return s
	}
	n1, n2 := c.Nodes[0], c.Nodes[1]
	if n1.DC == n2.DC {
		t.Fatalf("nodes share data center %s", n1.DC)
	}
	s1, s2 := sessionOn(n1), sessionOn(n2)

	for _, p := range []struct {
		s    *gocql.Session
		self *testcluster.Node
		peer *testcluster.Node
	}{{s1, n1, n2}, {s2, n2, n1}} {
		var dc string
		if err := p.s.Query("SELECT data_center FROM system.local").Scan(&dc); err != nil {
			t.Fatal(err)
		}
		if dc != p.self.DC {
			t.Errorf("%s reports data center %q, want %q", p.self.Address, dc, p.self.DC)
		}
		var peerDC string
		if err := p.s.Query("SELECT data_center FROM system.peers_v2 WHERE peer = ? AND peer_port = ?", p.peer.Address, p.peer.StoragePort).Scan(&peerDC); err != nil {
			t.Fatalf("%s does not list peer %s: %v", p.self.Address, p.peer.Address, err)
		}
		if peerDC != p.peer.DC {
			t.Errorf("%s places peer %s in %q, want %q", p.self.Address, p.peer.Address, peerDC, p.peer.DC)
		}
	}

	ks := keyspaceName()
	dropKeyspace(t, s1, ks)
	if err := s1.Query("CREATE KEYSPACE " + ks + " WITH replication = " + replication(c)).Exec(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Query("CREATE TABLE " + ks + ".kv (k text PRIMARY KEY, v text)").Exec(); err != nil {
		t.Fatal(err)
	}
	// Written at ALL through dc1, read at LOCAL_ONE in dc2: the row must
	// have been replicated to the other data center.
	if err := s1.Query("INSERT INTO " + ks + ".kv (k, v) VALUES ('k', 'from-" + n1.DC + "')").Consistency(gocql.All).Exec(); err != nil {
		t.Fatalf("write at ALL: %v", err)
	}
	var v string
	if err := s2.Query("SELECT v FROM " + ks + ".kv WHERE k = 'k'").Consistency(gocql.LocalOne).Scan(&v); err != nil {
		t.Fatalf("read in %s: %v", n2.DC, err)
	}
	if v != "from-"+n1.DC {
		t.Fatalf("read %q in %s", v, n2.DC)
	}
}

// TestIndependentClusters checks that the shared clusters are separate:
// distinct names and ports, and schema made in one is absent from another.
func TestIndependentClusters(t *testing.T) {
	all := testcluster.AllFromEnv(t)
	if len(all) < 2 {
		if os.Getenv("CI") != "" && !all[0].External {
			t.Fatalf("scripts/test.sh should start two clusters, found %d", len(all))
		}
		t.Skip("needs two shared clusters")
	}
	a, b := all[0], all[1]
	if a.Name == b.Name {
		t.Fatalf("clusters share the name %q", a.Name)
	}
	for _, ha := range a.Hosts() {
		if slices.Contains(b.Hosts(), ha) {
			t.Fatalf("clusters share the endpoint %s", ha)
		}
	}
	sa, sb := a.Session(t), b.Session(t)
	for _, p := range []struct {
		s    *gocql.Session
		want string
	}{{sa, a.Name}, {sb, b.Name}} {
		var name string
		if err := p.s.Query("SELECT cluster_name FROM system.local").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != p.want {
			t.Fatalf("cluster_name %q, want %q", name, p.want)
		}
	}
	ks := keyspaceName()
	dropKeyspace(t, sa, ks)
	if err := sa.Query("CREATE KEYSPACE " + ks + " WITH replication = " + replication(a)).Exec(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := sb.Query("SELECT count(*) FROM system_schema.keyspaces WHERE keyspace_name = ?", ks).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("keyspace %s made in %s is visible in %s", ks, a.Name, b.Name)
	}
}

// TestStartFailureReportsLogTail starts a node with a broken truststore and
// checks that Start fails fast with Cassandra's own complaint in the error.
func TestStartFailureReportsLogTail(t *testing.T) {
	path := os.Getenv(testcluster.EnvState)
	if path == "" {
		testcluster.FromEnv(t) // fails in CI, skips by hand
		t.Skip("needs the jars of a local cluster (" + testcluster.EnvState + ")")
	}
	st, err := testcluster.ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := testcluster.NewCA("start failure CA")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.IssueServer(nil, testcluster.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("probe", testcluster.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := client.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	c, err := testcluster.Start(ctx, testcluster.Config{
		LibDir: st.LibDir,
		Java:   st.Java,
		Heap:   "256M",
		TLS: testcluster.ServerTLS{
			CertChainPEM: server.CertPEM,
			KeyPEM:       server.KeyPEM,
			TrustPEM:     []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"),
		},
		ClientTLS:    &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: ca.Pool()},
		BaseDir:      t.TempDir(),
		StartTimeout: time.Minute,
	})
	if err == nil {
		_ = c.Stop(context.Background())
		t.Fatal("start with a broken truststore succeeded")
	}
	var se *testcluster.StartError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not a *StartError", err, err)
	}
	t.Logf("failed after %v: %v", time.Since(began).Round(time.Millisecond), se.Err)
	if !strings.Contains(se.LogTail, "Exception encountered during startup") && !strings.Contains(se.LogTail, "SSL") {
		t.Fatalf("log tail does not show Cassandra's startup error:\n%s", se.LogTail)
	}
	if !strings.Contains(err.Error(), se.LogTail) {
		t.Fatal("error text does not include the log tail")
	}
}
