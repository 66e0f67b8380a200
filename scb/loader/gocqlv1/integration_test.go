package gocqlv1_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/internal/testcluster"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/gocqlv1"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

const ks = "scbkit_loader_v1"

func openBundle(t *testing.T, b *scb.Bundle, opts loader.Options) *loader.Bundle {
	t.Helper()
	p := loadertest.Write(t, b, t.TempDir(), "bundle.zip", scb.FormatZip)
	lb, err := loader.Open(p, opts)
	require.NoError(t, err)
	return lb
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func setupSchema(t *testing.T, s *gocql.Session, table string) {
	t.Helper()
	require.NoError(t, s.Query(`CREATE KEYSPACE IF NOT EXISTS `+ks+` WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`).Exec())
	require.NoError(t, s.Query(`CREATE TABLE IF NOT EXISTS `+ks+`.`+table+` (id text PRIMARY KEY, value text)`).Exec())
}

func TestConnectReadWrite(t *testing.T) {
	c := testcluster.FromEnv(t)
	for _, comp := range []string{"none", "lz4", "snappy"} {
		t.Run(comp, func(t *testing.T) {
			b := openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) { r.Connection.Compression = comp }), loader.Options{})
			s, err := gocqlv1.Connect(ctxT(t, 2*time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password))
			require.NoError(t, err)
			defer s.Close()
			setupSchema(t, s, "kv")
			id := fmt.Sprintf("%s-%d", comp, time.Now().UnixNano())
			require.NoError(t, s.Query(`INSERT INTO `+ks+`.kv (id, value) VALUES (?, ?)`, id, "hello "+comp).Exec())
			var v string
			require.NoError(t, s.Query(`SELECT value FROM `+ks+`.kv WHERE id = ?`, id).Scan(&v))
			require.Equal(t, "hello "+comp, v)
			var user string
			require.NoError(t, s.Query(`SELECT release_version FROM system.local`).Scan(&user))
			require.True(t, strings.HasPrefix(user, "5."), user)
		})
	}
}

func TestConnectWithKeyspaceAndEncryptedKey(t *testing.T) {
	c := testcluster.FromEnv(t)
	pass := []byte("bundle key passphrase")
	sb := loadertest.ClusterBundle(t, c, func(r *scb.Request) { r.KeyPassphrase, r.OmitStockDriverFiles = pass, true })
	b := openBundle(t, sb, loader.Options{KeyPassphrase: pass})
	s, err := gocqlv1.Connect(ctxT(t, 2*time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password), gocqlv1.WithKeyspace("system"))
	require.NoError(t, err)
	defer s.Close()
	var n int
	require.NoError(t, s.Query(`SELECT count(*) FROM local`).Scan(&n))
	require.Equal(t, 1, n)
}

func TestConnectForeignCA(t *testing.T) {
	c := testcluster.FromEnv(t)
	// Client certificate and trust anchor from a CA the cluster has never
	// seen: the client refuses the node's certificate first.
	b := openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) { r.CA = loadertest.NewCA(t, nil) }), loader.Options{})
	_, err := gocqlv1.Connect(ctxT(t, time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password))
	require.ErrorIs(t, err, loader.ErrServerCertificate, "%v", err)
	require.ErrorIs(t, err, loader.ErrTLS)
	var ce *loader.ConnectError
	require.ErrorAs(t, err, &ce)
	require.Contains(t, ce.Hint(), "ca-cert.pem")
	var ua x509.UnknownAuthorityError
	require.ErrorAs(t, err, &ua)
	t.Logf("foreign CA: %v", err)
}

func TestConnectClientCertificateRejected(t *testing.T) {
	c := testcluster.FromEnv(t)
	// Trusts the node, but the client certificate comes from another CA.
	other := loadertest.NewCA(t, nil)
	clusterRoot := loadertest.ClusterCA(t, c).Cert
	b := openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) {
		r.CA = &loadertest.TrustCA{Issuer: other, RootCerts: []*x509.Certificate{clusterRoot, other.Root()}}
	}), loader.Options{})
	_, err := gocqlv1.Connect(ctxT(t, time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password))
	require.ErrorIs(t, err, loader.ErrClientCertificateRejected, "%v", err)
	t.Logf("client certificate rejected: %v", err)
}

func TestConnectWrongPassword(t *testing.T) {
	c := testcluster.FromEnv(t)
	b := openBundle(t, loadertest.ClusterBundle(t, c, nil), loader.Options{})
	const wrong = "Wr0ng-Pa55w0rd-xyzzy"
	_, err := gocqlv1.Connect(ctxT(t, time.Minute), b, gocqlv1.WithPassword(c.Username, wrong))
	require.ErrorIs(t, err, loader.ErrAuth, "%v", err)
	require.NotContains(t, err.Error(), wrong)
	t.Logf("wrong password: %v", err)

	_, err = gocqlv1.Connect(ctxT(t, time.Minute), b)
	require.ErrorIs(t, err, loader.ErrAuth, "no credentials: %v", err)
}

func TestConnectUnreachable(t *testing.T) {
	c := testcluster.FromEnv(t)
	addr := loadertest.ClosedPort(t)
	b := openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) { r.ContactPoints = []string{addr} }), loader.Options{})
	_, err := gocqlv1.Connect(ctxT(t, time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password))
	require.ErrorIs(t, err, loader.ErrUnreachable, "%v", err)
	t.Logf("unreachable: %v", err)
}

func TestConnectTimeout(t *testing.T) {
	c := testcluster.FromEnv(t)
	addr, _ := loadertest.Silent(t)
	b := openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) {
		r.ContactPoints = []string{addr}
		r.Connection.ConnectTimeout = scb.Duration(500 * time.Millisecond)
	}), loader.Options{})
	start := time.Now()
	_, err := gocqlv1.Connect(ctxT(t, time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password))
	require.ErrorIs(t, err, loader.ErrTimeout, "%v", err)
	require.Less(t, time.Since(start), 30*time.Second)

	// The context bounds Connect too.
	b = openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) { r.ContactPoints = []string{addr} }), loader.Options{})
	start = time.Now()
	_, err = gocqlv1.Connect(ctxT(t, 300*time.Millisecond), b, gocqlv1.WithPassword(c.Username, c.Password))
	require.ErrorIs(t, err, loader.ErrTimeout, "%v", err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 3*time.Second)
	t.Logf("timeout: %v", err)
}

func TestConnectRefusesExpiredBeforeDialling(t *testing.T) {
	c := testcluster.FromEnv(t)
	addr, accepted := loadertest.Silent(t)
	now := time.Now()
	b := openBundle(t, loadertest.ClusterBundle(t, c, func(r *scb.Request) { r.ContactPoints = []string{addr} }),
		loader.Options{Now: func() time.Time { return now }})
	now = now.Add(400 * 24 * time.Hour)
	_, err := gocqlv1.Connect(ctxT(t, time.Minute), b, gocqlv1.WithPassword(c.Username, c.Password))
	require.ErrorIs(t, err, loader.ErrExpired)
	var ve *loader.ValidityError
	require.ErrorAs(t, err, &ve)
	select {
	case <-accepted:
		t.Fatal("dialled with an expired certificate")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestConnectDCAwareRouting: with the bundle's local datacenter set to
// each DC of the two-DC cluster in turn, every query is coordinated by a
// node of that DC.
func TestConnectDCAwareRouting(t *testing.T) {
	var mc *testcluster.Cluster
	for _, c := range testcluster.AllFromEnv(t) {
		dcs := map[string]bool{}
		for _, n := range c.Nodes {
			dcs[n.DC] = true
		}
		if len(dcs) > 1 {
			mc = c
			break
		}
	}
	if mc == nil {
		t.Skip("no multi-datacenter test cluster: start one with topology multi-dc (make test does)")
	}
	for _, n := range mc.Nodes {
		for _, lb := range []string{"dc-aware-token-aware", "dc-aware-round-robin"} {
			t.Run(n.DC+"/"+lb, func(t *testing.T) {
				b := openBundle(t, loadertest.ClusterBundle(t, mc, func(r *scb.Request) {
					r.LocalDatacenter = n.DC
					r.Connection.LoadBalancing = lb
				}), loader.Options{})
				s, err := gocqlv1.Connect(ctxT(t, 2*time.Minute), b, gocqlv1.WithPassword(mc.Username, mc.Password))
				require.NoError(t, err)
				defer s.Close()
				for range 20 {
					var dc string
					iter := s.Query(`SELECT data_center FROM system.local`).Iter()
					iter.Scan(&dc)
					require.NoError(t, iter.Close())
					require.Equal(t, n.DC, dc)
					require.Equal(t, n.DC, iter.Host().DataCenter())
				}
			})
		}
	}
}

// workload runs queries continuously through one session and counts
// them. Workers hold gate for reading during each query, so a test can
// wait for a moment with no query in flight.
type workload struct {
	gate     sync.RWMutex
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []error
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startWorkload(t *testing.T, s *gocql.Session, table string, workers int) *workload {
	w := &workload{stop: make(chan struct{})}
	for i := range workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for n := 0; ; n++ {
				select {
				case <-w.stop:
					return
				default:
				}
				w.gate.RLock()
				id := fmt.Sprintf("w%d-%d-%d", i, n, time.Now().UnixNano())
				err := s.Query(`INSERT INTO `+ks+`.`+table+` (id, value) VALUES (?, ?)`, id, id).Exec()
				if err == nil {
					var v string
					err = s.Query(`SELECT value FROM `+ks+`.`+table+` WHERE id = ?`, id).Scan(&v)
					if err == nil && v != id {
						err = fmt.Errorf("read %q, want %q", v, id)
					}
				}
				w.gate.RUnlock()
				if err != nil {
					w.fail.Add(1)
					w.mu.Lock()
					w.errs = append(w.errs, err)
					w.mu.Unlock()
				} else {
					w.ok.Add(1)
				}
			}
		}()
	}
	t.Cleanup(w.Stop)
	return w
}

func (w *workload) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

// progress waits d and requires that queries succeeded meanwhile and none
// failed.
func (w *workload) progress(t *testing.T, d time.Duration, phase string) {
	t.Helper()
	before := w.ok.Load()
	time.Sleep(d)
	after := w.ok.Load()
	w.mu.Lock()
	errs := append([]error(nil), w.errs...)
	w.mu.Unlock()
	require.Empty(t, errs, "%s: failed queries", phase)
	require.Greater(t, after, before, "%s: no query succeeded", phase)
	t.Logf("%s: %d queries ok (total %d), 0 failed", phase, after-before, after)
}

func serverCert(t *testing.T, issuer scb.CA) tls.Certificate {
	t.Helper()
	sc, err := ca.IssueServer(context.Background(), issuer, ca.ServerRequest{Hosts: []string{"127.0.0.1", "localhost"}})
	require.NoError(t, err)
	var der [][]byte
	for _, c := range sc.Chain {
		der = append(der, c.Raw)
	}
	return tls.Certificate{Certificate: der, PrivateKey: sc.Key}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func count(certs []*x509.Certificate, leaf *x509.Certificate) int {
	n := 0
	for _, c := range certs {
		if c.Equal(leaf) {
			n++
		}
	}
	return n
}

// TestRotationUnderLoad: a workload runs through one session while the
// bundle file is atomically replaced by one from a new CA (new client
// certificate, new intermediate, new trust anchor), the server side is
// switched to accept only the new CA and to present a certificate only
// the new bundle trusts, and every connection is replaced. No query may
// fail, every new connection must present the new certificate, and no
// handshake may be refused.
//
// The "server" is a mutual-TLS proxy in front of the shared node (see
// loadertest.Proxy): rotating the shared node's own truststore would break
// the other packages' tests running at the same time.
func TestRotationUnderLoad(t *testing.T) {
	c := testcluster.FromEnv(t)
	node := c.Nodes[0]
	nodeIP := net.ParseIP(node.Address)
	caOld, caNew := loadertest.NewCA(t, nil), loadertest.NewCA(t, nil)
	proxy := loadertest.StartProxy(t, node.HostPort(), loadertest.BackendTLS(t, c, node), serverCert(t, caOld), pool(caOld.Root()))

	dir := t.TempDir()
	req := scb.Request{
		ClusterName: "scbtest", ClientID: "rotating-app", Environment: "testing",
		ContactPoints: []string{proxy.Addr()}, LocalDatacenter: node.DC,
		Connection: scb.ConnectionParams{ConnectionsPerHost: 2},
	}
	req.CA = caOld
	path := loadertest.Write(t, loadertest.Build(t, req), dir, "bundle.zip", scb.FormatZip)

	var logs syncBuffer
	reloaded := make(chan *loader.Bundle, 4)
	w, err := loader.Watch(path, loader.WatchOptions{
		Interval: 50 * time.Millisecond,
		OnReload: func(_, nb *loader.Bundle) { reloaded <- nb },
		OnError:  func(err error) { t.Errorf("reload failed: %v", err) },
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	defer w.Close()
	oldBundle := w.Current()
	oldLeaf := oldBundle.Certificate()

	toProxy := gocql.AddressTranslatorFunc(func(ip net.IP, port int) (net.IP, int) {
		if ip.Equal(nodeIP) {
			return net.ParseIP("127.0.0.1"), proxy.Port()
		}
		return ip, port
	})
	s, err := gocqlv1.Connect(ctxT(t, 2*time.Minute), w, gocqlv1.WithPassword(c.Username, c.Password),
		gocqlv1.WithClusterConfig(func(cfg *gocql.ClusterConfig) {
			cfg.AddressTranslator = toProxy
			if os.Getenv("SCB_TEST_GOCQL_DEBUG") != "" {
				cfg.Logger = log.New(os.Stderr, "gocql: ", log.LstdFlags)
			}
		}))
	require.NoError(t, err)
	defer s.Close()
	setupSchema(t, s, "rotation")

	wl := startWorkload(t, s, "rotation", 4)
	wl.progress(t, time.Second, "before rotation")
	require.Equal(t, len(proxy.Accepted()), count(proxy.Accepted(), oldLeaf), "only the old certificate so far")
	conns := len(proxy.Open())
	require.GreaterOrEqual(t, conns, 2, "control connection and pool")

	// 1. The server side starts accepting the new CA as well.
	proxy.SetTrust(pool(caOld.Root(), caNew.Root()))
	// 2. The bundle file is replaced atomically by a renewed bundle: client
	// certificate from the new CA's intermediate; trusts the new and the
	// old server CA during the transition.
	req.CA = &loadertest.TrustCA{Issuer: caNew, RootCerts: []*x509.Certificate{caNew.Root(), caOld.Root()}}
	loadertest.Write(t, loadertest.Build(t, req), dir, "bundle.zip", scb.FormatZip)
	var newBundle *loader.Bundle
	select {
	case newBundle = <-reloaded:
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher did not reload the replaced bundle")
	}
	newLeaf := newBundle.Certificate()
	require.False(t, newLeaf.Equal(oldLeaf))
	require.Equal(t, caNew.Intermediate().Raw, newBundle.CertificateChain()[1].Raw)
	wl.progress(t, time.Second, "after the bundle was replaced")

	// 3. The server side now accepts only the new CA and presents a
	// certificate that only the new bundle trusts.
	proxy.SetServerCertificate(serverCert(t, caNew))
	proxy.SetTrust(pool(caNew.Root()))
	wl.progress(t, time.Second, "old connections after the server accepts only the new CA")
	require.Empty(t, proxy.Rejected(), "no handshake was refused so far")
	// Control: the old bundle can no longer connect at all.
	_, err = (&loader.Dialer{Source: oldBundle}).DialContext(ctxT(t, 10*time.Second), "tcp", proxy.Addr())
	require.ErrorIs(t, err, loader.ErrServerCertificate)
	require.Eventually(t, func() bool { return len(proxy.Rejected()) == 1 }, 10*time.Second, 10*time.Millisecond)

	// 4. Every connection is replaced. The proxy drops them one at a time
	// while no query is in flight (the driver cannot retry a query whose
	// connection dies under it on a one-node cluster); the driver
	// reconnects with the watcher's current material.
	wl.gate.Lock()
	waitFor := func(d time.Duration, cond func() bool) bool {
		for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				return false
			}
		}
		return true
	}
	for count(proxy.Open(), oldLeaf) > 0 {
		fresh := count(proxy.Open(), newLeaf)
		require.True(t, proxy.CloseOne(func(l *x509.Certificate) bool { return l.Equal(oldLeaf) }))
		// The driver replaces a lost connection at once, though its pool
		// may merge two refills into one: no failure if none comes.
		waitFor(5*time.Second, func() bool { return count(proxy.Open(), newLeaf) > fresh })
	}
	// The control connection and at least one pool connection are back.
	back := waitFor(30*time.Second, func() bool { return count(proxy.Open(), newLeaf) >= 2 })
	time.Sleep(200 * time.Millisecond)
	wl.gate.Unlock()
	require.True(t, back, "the driver did not reconnect; proxy rejected: %v", proxy.Rejected())
	wl.progress(t, 2*time.Second, "after every connection was replaced")
	wl.Stop()

	open := proxy.Open()
	require.Equal(t, len(open), count(open, newLeaf), "every open connection presents the new certificate")
	require.GreaterOrEqual(t, len(open), 2)
	require.Len(t, proxy.Rejected(), 1, "no handshake but the control's was refused")
	require.Zero(t, wl.fail.Load())
	t.Logf("rotation: %d queries, 0 failed; %d handshakes accepted (%d with the new certificate)",
		wl.ok.Load(), len(proxy.Accepted()), count(proxy.Accepted(), newLeaf))
	require.Contains(t, logs.String(), "bundle reloaded")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
