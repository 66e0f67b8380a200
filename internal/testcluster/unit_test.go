package testcluster

// Unit tests that need no Cassandra.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

func TestCAIssuesPKCS8P256Certificates(t *testing.T) {
	ca, err := NewCA("unit CA")
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != "unit CA" {
		t.Fatalf("bad CA certificate: IsCA=%v CN=%q", ca.Cert.IsCA, ca.Cert.Subject.CommonName)
	}
	server, err := ca.IssueServer(nil, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("alice", Validity{})
	if err != nil {
		t.Fatal(err)
	}
	for name, kp := range map[string]*KeyPair{"server": server, "client": client, "ca": {Cert: ca.Cert, KeyPEM: ca.KeyPEM()}} {
		b, _ := pem.Decode(kp.KeyPEM)
		if b == nil || b.Type != "PRIVATE KEY" {
			t.Fatalf("%s key is not a PKCS#8 PRIVATE KEY block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			t.Fatalf("%s key: %v", name, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok || ek.Curve != elliptic.P256() {
			t.Fatalf("%s key is %T, want ECDSA P-256", name, k)
		}
	}

	opts := x509.VerifyOptions{Roots: ca.Pool()}
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range DefaultServerHosts {
		opts.DNSName = h
		if _, err := server.Cert.Verify(opts); err != nil {
			t.Errorf("server certificate for %s: %v", h, err)
		}
	}
	opts.DNSName = "127.0.0.3"
	if _, err := server.Cert.Verify(opts); err == nil {
		t.Error("server certificate verifies for 127.0.0.3, which is not a SAN")
	}
	opts = x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := client.Cert.Verify(opts); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := server.Cert.Verify(opts); err == nil {
		t.Error("server certificate verifies for client auth")
	}
	if _, err := client.TLSCertificate(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(client.String(), "PRIVATE") || strings.Contains(ca.String(), "PRIVATE") {
		t.Error("String leaks key material")
	}
}

func TestIssueValidity(t *testing.T) {
	ca, err := NewCA("unit CA")
	if err != nil {
		t.Fatal(err)
	}
	nb, na := time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	kp, err := ca.IssueClient("expired", Validity{NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	if !kp.Cert.NotAfter.Before(time.Now()) {
		t.Fatalf("NotAfter %v is not in the past", kp.Cert.NotAfter)
	}
	_, err = x509.ParseCertificate(kp.Cert.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.IssueClient("backwards", Validity{NotBefore: na, NotAfter: nb}); err == nil {
		t.Fatal("issued a certificate whose NotAfter precedes NotBefore")
	}
}

func TestLoadCA(t *testing.T) {
	a, err := NewCA("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCA("b")
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadCA(a.CertPEM, a.KeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(a.Cert) {
		t.Fatal("LoadCA returned another certificate")
	}
	leaf, err := a.IssueClient("leaf", Validity{})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][2][]byte{
		"mismatched key": {a.CertPEM, b.KeyPEM()},
		"not a CA":       {leaf.CertPEM, leaf.KeyPEM},
		"no certificate": {[]byte("junk"), a.KeyPEM()},
		"no key":         {a.CertPEM, []byte("junk")},
		"malformed key":  {a.CertPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secret-bytes")})},
	} {
		_, err := LoadCA(in[0], in[1])
		if err == nil {
			t.Errorf("%s: LoadCA succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), "secret-bytes") {
			t.Errorf("%s: error echoes key input: %v", name, err)
		}
	}
}

func TestInitialTokens(t *testing.T) {
	if got := initialToken(0, 1); got != "0" {
		t.Errorf("one node: token %s, want 0", got)
	}
	want := []string{"-4611686018427387904", "4611686018427387904"}
	for i, w := range want {
		if got := initialToken(i, 2); got != w {
			t.Errorf("node %d of 2: token %s, want %s", i, got, w)
		}
	}
	min := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 63))
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 63), big.NewInt(1))
	for n := 1; n <= 5; n++ {
		prev := min
		for i := 0; i < n; i++ {
			tok, _ := new(big.Int).SetString(initialToken(i, n), 10)
			if tok.Cmp(prev) <= 0 || tok.Cmp(max) > 0 {
				t.Errorf("token %d of %d = %s out of order or range", i, n, tok)
			}
			prev = tok
		}
	}
}

func TestFreePorts(t *testing.T) {
	addrs := []string{"127.0.0.1", "127.0.0.2"}
	ports, err := freePorts(addrs, 4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d returned twice", p)
		}
		seen[p] = true
		for _, a := range addrs {
			l, err := net.Listen("tcp", net.JoinHostPort(a, itoa(p)))
			if err != nil {
				t.Fatalf("port %d not free on %s: %v", p, a, err)
			}
			l.Close()
		}
	}
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func TestNodeConfigFiles(t *testing.T) {
	dir := t.TempDir()
	f := newNodeFiles(filepath.Join(dir, "node1"))
	ca, err := NewCA("unit CA")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.IssueServer(nil, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	p := yamlParams{
		ClusterName: "unit \"quoted\"", InitialToken: "0", Address: "127.0.0.2", Seeds: "127.0.0.1",
		StoragePort: 7001, NativePort: 9143, Dir: f.Dir, Keystore: f.Keystore, Truststore: f.Truststore,
	}
	if err := writeNodeConfig(f, p, "dc2", "r1", ServerTLS{CertChainPEM: kp.CertPEM, KeyPEM: kp.KeyPEM, TrustPEM: ca.CertPEM}); err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(f.Yaml)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`cluster_name: "unit \"quoted\""`,
		"listen_address: 127.0.0.2",
		"native_transport_port: 9143",
		`seeds: "127.0.0.1"`,
		"authenticator: PasswordAuthenticator",
		"authorizer: CassandraAuthorizer",
		"  optional: false",
		"  require_client_auth: true",
		"PEMBasedSslContextFactory",
		"accepted_protocols: [TLSv1.3, TLSv1.2]",
		"keystore: " + f.Keystore,
		"truststore: " + f.Truststore,
	} {
		if !strings.Contains(string(y), want) {
			t.Errorf("cassandra.yaml lacks %q", want)
		}
	}
	rackdc, _ := os.ReadFile(f.RackDC)
	if !strings.Contains(string(rackdc), "dc=dc2\n") || !strings.Contains(string(rackdc), "rack=r1\n") {
		t.Errorf("cassandra-rackdc.properties = %q", rackdc)
	}
	ks, err := os.ReadFile(f.Keystore)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ks, []byte("-----BEGIN PRIVATE KEY-----")) || !bytes.Contains(ks, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Error("keystore is not PKCS#8 key + certificate")
	}
	st, err := os.Stat(f.Keystore)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("keystore mode %v, want 0600", st.Mode().Perm())
	}
}

func TestServerArgsUseJava17Flags(t *testing.T) {
	f := newNodeFiles("/w/node1")
	args := strings.Join(serverArgs("/lib", "512M", f, 7199), " ")
	for _, want := range []string{
		"-Xms512M -Xmx512M",
		"--add-opens java.base/java.lang=ALL-UNNAMED",
		"-Dcassandra.config=file:///w/node1/conf/cassandra.yaml",
		"-Dcassandra-rackdc.properties=file:///w/node1/conf/cassandra-rackdc.properties",
		"-Dcassandra.jmx.local.port=7199",
		"-Dcassandra.superuser_setup_delay_ms=0",
		"-Dcassandra.skip_wait_for_gossip_to_settle=0",
		"-cp /lib/* org.apache.cassandra.service.CassandraDaemon",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("server args lack %q", want)
		}
	}
	if n := strings.Count(args, "--add-"); n != 25 {
		t.Errorf("%d JPMS flags, want 25 (22 from jvm17-server.options, 3 for a JDK)", n)
	}
}

func TestStartValidatesConfig(t *testing.T) {
	lib := t.TempDir()
	if err := os.WriteFile(filepath.Join(lib, "cassandra-all-5.0.8.jar"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := NewCA("unit CA")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.IssueServer(nil, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	good := Config{
		LibDir: lib, Java: "/bin/true",
		TLS:       ServerTLS{CertChainPEM: kp.CertPEM, KeyPEM: kp.KeyPEM, TrustPEM: ca.CertPEM},
		ClientTLS: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}})
	for name, mutate := range map[string]func(*Config){
		"no lib dir":        func(c *Config) { c.LibDir = "" },
		"lib without jar":   func(c *Config) { c.LibDir = t.TempDir() },
		"missing java":      func(c *Config) { c.Java = "/nonexistent/java" },
		"no tls":            func(c *Config) { c.TLS = ServerTLS{} },
		"sec1 key":          func(c *Config) { c.TLS.KeyPEM = sec1 },
		"no probe cert":     func(c *Config) { c.ClientTLS = &tls.Config{} },
		"public address":    func(c *Config) { c.Nodes = []NodeSpec{{Address: "10.0.0.1"}} },
		"duplicate address": func(c *Config) { c.Nodes = []NodeSpec{{Address: "127.0.0.1"}, {Address: "127.0.0.1"}} },
	} {
		cfg := good
		mutate(&cfg)
		if _, err := Start(context.Background(), cfg); err == nil {
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

func TestStartErrorIncludesLogTail(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "stdout.log")
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("line ")
		b.WriteString(itoa(i))
		b.WriteString("\n")
	}
	if err := os.WriteFile(log, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &Node{Address: "127.0.0.1", NativePort: 9042, files: nodeFiles{Log: log}}
	err := n.startError(errors.New("boom"))
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "line 99") || strings.Contains(err.Error(), "line 10\n") {
		t.Fatalf("error does not hold just the tail:\n%v", err)
	}
}

func TestStartupWatch(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	w := &startupWatch{tail: &logTail{path: log}}
	w.update() // no file yet
	appendFile(t, log, "INFO  something\nINFO  Starting listening for CQL clients on /127.0.0.1:9042 (encrypted)...\nERROR Failed to bind po")
	w.update()
	if !w.listening || w.fatal != "" {
		t.Fatalf("listening=%v fatal=%q", w.listening, w.fatal)
	}
	appendFile(t, log, "rt 9042 on 127.0.0.1.\n")
	w.update()
	if !isPortInUse(w.fatal) {
		t.Fatalf("fatal %q not seen as port in use", w.fatal)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("unit CA")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if err := os.WriteFile(certFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, ca.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &State{
		Version: StateVersion, Dir: dir, CACert: certFile, CAKey: keyFile,
		Username: "u", Password: "p", LibDir: "/lib", Java: DefaultJava,
		Clusters: []ClusterState{{Name: "c1", Dir: dir, Nodes: []NodeState{
			{Address: "127.0.0.1", NativePort: 9042, JMXPort: 7199, DC: "dc1", Rack: "r1", PID: 1 << 30, Dir: filepath.Join(dir, "n1")},
			{Address: "127.0.0.2", NativePort: 9042, JMXPort: 7200, DC: "dc2", Rack: "r1", PID: 1 << 30, Dir: filepath.Join(dir, "n2")},
		}}},
	}
	path := filepath.Join(dir, "state.json")
	if err := WriteState(path, s); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("PRIVATE KEY")) {
		t.Fatal("state file contains key material")
	}
	got, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := got.Attach()
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if c.Name != "c1" || len(c.Nodes) != 2 || c.Nodes[1].HostPort() != "127.0.0.2:9042" || c.CA == nil {
		t.Fatalf("attached cluster %+v", c)
	}
	if dcs := c.DCs(); len(dcs) != 2 || dcs[0] != "dc1" || dcs[1] != "dc2" {
		t.Fatalf("DCs() = %v", dcs)
	}
	// Stopping a state whose processes are gone removes its files.
	if err := StopState(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("run directory still there: %v", err)
	}
	if err := StopState(context.Background(), path); err != nil {
		t.Fatalf("second stop: %v", err)
	}
}

func TestReadStateRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not json":    "{",
		"old version": `{"version": 0, "clusters": [{"nodes": [{}]}]}`,
		"no clusters": `{"version": 1, "clusters": []}`,
		"no nodes":    `{"version": 1, "clusters": [{"name": "x"}]}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadState(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestProcessRunning(t *testing.T) {
	if !processRunning(os.Getpid()) {
		t.Fatal("own process not seen as running")
	}
	if processRunning(1 << 30) {
		t.Fatal("impossible pid seen as running")
	}
}

// fakeTB records how FromEnv ends a test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = format
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = format
	runtime.Goexit()
}

func runFromEnv(tb *fakeTB) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		FromEnv(tb)
	}()
	<-done
}

func TestFromEnvWithoutCluster(t *testing.T) {
	t.Setenv(EnvState, "")
	t.Setenv(EnvCassandra, "")

	t.Setenv("CI", "true")
	tb := &fakeTB{TB: t}
	runFromEnv(tb)
	if tb.fatal == "" || tb.skip != "" {
		t.Fatalf("with CI set: fatal=%q skip=%q, want a failure", tb.fatal, tb.skip)
	}

	t.Setenv("CI", "")
	tb = &fakeTB{TB: t}
	runFromEnv(tb)
	if tb.skip == "" || tb.fatal != "" {
		t.Fatalf("without CI: fatal=%q skip=%q, want a skip", tb.fatal, tb.skip)
	}
}

func TestLookupEnvExternal(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("ext CA")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	os.WriteFile(certFile, ca.CertPEM, 0o600)
	os.WriteFile(keyFile, ca.KeyPEM(), 0o600)
	t.Setenv(EnvState, "")
	t.Setenv(EnvCassandra, "10.1.2.3:9142, db.example:9042")
	t.Setenv(EnvCACert, certFile)
	t.Setenv(EnvCAKey, keyFile)
	t.Setenv(EnvUsername, "")
	cs, err := LookupEnv()
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if !c.External || len(c.Nodes) != 2 || c.Nodes[1].HostPort() != "db.example:9042" || c.Username != DefaultUsername {
		t.Fatalf("external cluster %+v", c)
	}
	if err := c.ReloadTLS(context.Background(), c.Nodes[0], ServerTLS{}); !errors.Is(err, ErrExternal) {
		t.Fatalf("ReloadTLS on an external cluster: %v, want ErrExternal", err)
	}
	t.Setenv(EnvCAKey, "")
	if _, err := LookupEnv(); err == nil {
		t.Fatal("external cluster without a CA key accepted")
	}
	t.Setenv(EnvCAKey, keyFile)
	t.Setenv(EnvCassandra, "no-port")
	if _, err := LookupEnv(); err == nil {
		t.Fatal("endpoint without a port accepted")
	}
}

// TestInitCAIsTheProjectCA checks that the shared cluster's CA is an scb/ca
// directory: it opens with ca.Open, issues leaf + intermediate chains that
// verify against the root, and builds bundles.
func TestInitCAIsTheProjectCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	c, err := InitCA(dir, "unit")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Open(dir, ca.OpenOptions{}); err != nil {
		t.Fatalf("scb/ca cannot open the test CA: %v", err)
	}
	again, err := OpenCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cert.Equal(c.Cert) || c.SCB() == nil {
		t.Fatal("OpenCA returned another CA")
	}
	server, err := c.IssueServer(nil, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := scb.ParseCertificatesPEM(server.CertPEM)
	if err != nil || len(chain) != 2 {
		t.Fatalf("server chain: %d certificates, %v", len(chain), err)
	}
	inter := x509.NewCertPool()
	inter.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: c.Pool(), Intermediates: inter, DNSName: "localhost"}); err != nil {
		t.Fatalf("server certificate does not verify: %v", err)
	}
	client, err := c.IssueClient("unit-client", Validity{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.TLSCertificate(); err != nil {
		t.Fatal(err)
	}
	if _, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", Environment: "testing", Validity: 24 * time.Hour, CA: c.SCB()}); err != nil {
		t.Fatalf("build with the test CA: %v", err)
	}
}

// TestInitCAFitsEveryProfile: bundles with each environment's default
// validity (the longest is development's 365 days, maximum 730) can be
// issued from the shared clusters' CA without --validity.
func TestInitCAFitsEveryProfile(t *testing.T) {
	c, err := InitCA(filepath.Join(t.TempDir(), "ca"), "unit")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", Validity: 730 * 24 * time.Hour, CA: c.SCB()}); err != nil {
		t.Fatalf("a 730-day bundle does not fit in the test CA: %v", err)
	}
}
