package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/gateway"
)

// pki is one test CA with the certificates a gateway test needs.
type pki struct {
	ca       *ca.Local
	pool     *x509.CertPool
	gwServer tls.Certificate // CN=localhost, SAN DNS:localhost
	gwClient tls.Certificate // the gateway's client certificate to nodes
	node     tls.Certificate // nodes: 127.0.0.1, localhost
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	c, err := ca.New(ca.Config{})
	require.NoError(t, err)
	p := &pki{ca: c, pool: x509.NewCertPool()}
	p.pool.AddCert(c.Root())
	p.gwServer = p.server(t, "localhost")
	p.node = p.server(t, "127.0.0.1", "localhost")
	p.gwClient = p.client(t, "scb-gateway")
	return p
}

func (p *pki) server(t testing.TB, hosts ...string) tls.Certificate {
	t.Helper()
	sc, err := ca.IssueServer(context.Background(), p.ca, ca.ServerRequest{Hosts: hosts})
	require.NoError(t, err)
	return tlsCert(sc.Chain, sc.Key)
}

func (p *pki) client(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	key, err := scb.DefaultKeyType.GenerateKey(nil)
	require.NoError(t, err)
	chain, err := p.ca.Issue(context.Background(), &scb.CertificateRequest{
		PublicKey: key.Public(), Subject: pkix.Name{CommonName: cn}, Usage: scb.UsageClient,
		NotAfter: time.Now().Add(24 * time.Hour),
	})
	require.NoError(t, err)
	return tlsCert(chain, key)
}

func tlsCert(chain []*x509.Certificate, key any) tls.Certificate {
	c := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

// fakeNode is a TLS server that speaks just enough CQL: OPTIONS gets
// SUPPORTED; any other request gets a RESULT frame whose body is the
// node's host_id, so a test can tell which node it reached.
type fakeNode struct {
	id     string
	dc     string
	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newHostID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func startFakeNode(t testing.TB, cfg *tls.Config, dc string) *fakeNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	n := &fakeNode{id: newHostID(), dc: dc, ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.mu.Lock()
			n.conns = append(n.conns, c)
			n.mu.Unlock()
			go n.serve(c)
		}
	}()
	t.Cleanup(n.stop)
	return n
}

func (n *fakeNode) serve(c net.Conn) {
	defer c.Close()
	for {
		var hdr [9]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[5:]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		resp := []byte{0x84, 0, hdr[2], hdr[3], 0x08}
		payload := []byte(n.id)
		if hdr[4] == 0x05 {
			resp[4], payload = 0x06, []byte{0, 0}
		}
		resp = binary.BigEndian.AppendUint32(resp, uint32(len(payload)))
		if _, err := c.Write(append(resp, payload...)); err != nil {
			return
		}
	}
}

func (n *fakeNode) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.closed = true
	n.ln.Close()
	for _, c := range n.conns {
		c.Close()
	}
}

func (n *fakeNode) node() gateway.Node {
	ap := netip.MustParseAddrPort(n.ln.Addr().String())
	return gateway.Node{HostID: n.id, Addr: ap, DC: n.dc, Rack: "rack1"}
}

// fakeSource is a mutable Source with change notifications.
type fakeSource struct {
	mu      sync.Mutex
	nodes   []gateway.Node
	err     error
	changed chan struct{}
}

func newFakeSource(nodes ...gateway.Node) *fakeSource {
	return &fakeSource{nodes: nodes, changed: make(chan struct{}, 1)}
}

func (s *fakeSource) Nodes(ctx context.Context) ([]gateway.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return append([]gateway.Node(nil), s.nodes...), nil
}

func (s *fakeSource) Changed() <-chan struct{} { return s.changed }

func (s *fakeSource) set(f func(nodes []gateway.Node) []gateway.Node) {
	s.mu.Lock()
	s.nodes = f(s.nodes)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// query sends one CQL request over c and returns the body of the answer:
// a fake node's host_id.
func query(c net.Conn) (string, error) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{0x04, 0, 0, 1, 0x07, 0, 0, 0, 0}); err != nil {
		return "", err
	}
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return "", err
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[5:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return "", err
	}
	return string(body), nil
}

// harness is a running gateway with its bundle.
type harness struct {
	pki     *pki
	gw      *gateway.Gateway
	src     *fakeSource
	bundle  *scb.Bundle
	client  *tls.Config // the bundle's TLS (BundleTLS)
	cqlAddr string
	mdAddr  string
	admin   string
	cancel  context.CancelFunc
	done    chan error
	logs    *syncBuffer
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

type harnessOpts struct {
	mode     gateway.Mode
	shutdown time.Duration
	localDC  string
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return l
}

func port(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }

// startGateway starts a gateway over src with fresh listeners and a bundle
// generated for it by scb.Build, exactly as "scb generate --gateway" does.
func startGateway(t testing.TB, p *pki, src gateway.Source, o harnessOpts) *harness {
	t.Helper()
	ml, cl, al := listen(t), listen(t), listen(t)
	if o.localDC == "" {
		o.localDC = "dc1"
	}
	b, err := scb.Build(context.Background(), scb.Request{
		ClusterName: "test", ClientID: "app", CA: p.ca, LocalDatacenter: o.localDC,
		Gateway: scb.GatewayInfo{Host: "localhost", CQLPort: port(cl), MetadataPort: port(ml)},
	})
	require.NoError(t, err)
	clientTLS, cc, err := gateway.BundleTLS(b)
	require.NoError(t, err)
	require.Equal(t, "localhost", cc.Host)
	logs := &syncBuffer{}
	upstream := &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.gwClient}}
	cert := p.gwServer
	if o.shutdown == 0 {
		o.shutdown = 2 * time.Second
	}
	g, err := gateway.New(gateway.Config{
		PublicHost: "localhost", Certificate: &cert, ClientCAs: p.pool,
		UpstreamTLS: upstream, Source: src, LocalDC: o.localDC, Mode: o.mode,
		RefreshInterval: 200 * time.Millisecond, ProbeTimeout: 2 * time.Second,
		ShutdownTimeout: o.shutdown,
		Logger:          slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{pki: p, gw: g, bundle: b, client: clientTLS, cqlAddr: cl.Addr().String(), mdAddr: "localhost:" + strconv.Itoa(port(ml)),
		admin: al.Addr().String(), cancel: cancel, done: make(chan error, 1), logs: logs}
	if fs, ok := src.(*fakeSource); ok {
		h.src = fs
	}
	go func() { h.done <- g.Serve(ctx, gateway.Listeners{Metadata: ml, CQL: cl, Admin: al}) }()
	t.Cleanup(h.stop)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	require.NoError(t, g.WaitReady(wctx))
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		panic("gateway did not stop")
	}
}

// dial connects to the SNI proxy with the bundle's credentials, sending
// sni (empty: none).
func (h *harness) dial(sni string) (net.Conn, error) {
	d := &gateway.SNIDialer{ProxyAddr: h.cqlAddr, TLS: h.client, Timeout: 5 * time.Second}
	dh, err := d.Dial(context.Background(), sni)
	if err != nil {
		return nil, err
	}
	return dh.Conn, nil
}

// reach returns the host_id of the node reached with sni, or an error.
func (h *harness) reach(sni string) (string, error) {
	c, err := h.dial(sni)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return query(c)
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func x509VerifyOpts(name string, roots *x509.CertPool, inter []*x509.Certificate) x509.VerifyOptions {
	ip := x509.NewCertPool()
	for _, c := range inter {
		ip.AddCert(c)
	}
	return x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: ip}
}

func fmtV(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }
