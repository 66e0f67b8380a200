package loader_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

// tlsServer is a loopback mutual-TLS server that greets every client with
// "ok\n" and records the client leaves it accepted.
type tlsServer struct {
	ln    net.Listener
	mu    sync.Mutex
	seen  []*x509.Certificate
	errs  []error
	wg    sync.WaitGroup
	close sync.Once
}

func serverCert(t *testing.T, issuer scb.CA, hosts ...string) tls.Certificate {
	t.Helper()
	sc, err := ca.IssueServer(context.Background(), issuer, ca.ServerRequest{Hosts: hosts})
	require.NoError(t, err)
	var der [][]byte
	for _, c := range sc.Chain {
		der = append(der, c.Raw)
	}
	return tls.Certificate{Certificate: der, PrivateKey: sc.Key, Leaf: sc.Chain[0]}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func startTLSServer(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool, maxVersion uint16) *tlsServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &tlsServer{ln: ln}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs, MaxVersion: maxVersion}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				tc := tls.Server(c, cfg)
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				if err := tc.Handshake(); err != nil {
					s.mu.Lock()
					s.errs = append(s.errs, err)
					s.mu.Unlock()
					return
				}
				s.mu.Lock()
				s.seen = append(s.seen, tc.ConnectionState().PeerCertificates[0])
				s.mu.Unlock()
				tc.SetDeadline(time.Time{})
				tc.Write([]byte("ok\n"))
				// Echo lines until the client hangs up.
				r := bufio.NewReader(tc)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					tc.Write([]byte(line))
				}
			}()
		}
	}()
	t.Cleanup(s.Close)
	return s
}

func (s *tlsServer) Close() {
	s.close.Do(func() { s.ln.Close() })
	s.wg.Wait()
}

// dialGreeted dials through d, reads the greeting and leaves the
// connection open (echoing lines).
func dialGreeted(t *testing.T, d *loader.Dialer, addr string) net.Conn {
	t.Helper()
	c, err := d.DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	requireEcho(t, c, "ok\n", "")
	return c
}

// requireEcho writes send (if any) and expects the line want back.
func requireEcho(t *testing.T, c net.Conn, want, send string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if send != "" {
		_, err := c.Write([]byte(send))
		require.NoError(t, err)
	}
	buf := make([]byte, len(want))
	_, err := io.ReadFull(c, buf)
	require.NoError(t, err)
	require.Equal(t, want, string(buf))
}

func (s *tlsServer) Addr() string { return s.ln.Addr().String() }

func (s *tlsServer) Seen() []*x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*x509.Certificate(nil), s.seen...)
}

// greet dials through d and reads the greeting.
func greet(ctx context.Context, d *loader.Dialer, addr string) error {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ok\n" {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	return nil
}

type tlsFixture struct {
	ca, other *ca.Local
	bundle    *loader.Bundle
}

func newTLSFixture(t *testing.T, mod func(*scb.Request)) *tlsFixture {
	f := &tlsFixture{ca: loadertest.NewCA(t, nil), other: loadertest.NewCA(t, nil)}
	req := scb.Request{ClusterName: "c", ClientID: "app", CA: f.ca, ContactPoints: []string{"127.0.0.1:9042"}}
	if mod != nil {
		mod(&req)
	}
	lb, err := loader.Load(loadertest.Build(t, req), loader.Options{})
	require.NoError(t, err)
	f.bundle = lb
	return f
}

func TestDialerMutualTLS(t *testing.T) {
	ctx := context.Background()
	f := newTLSFixture(t, nil)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			var observed []error
			var mu sync.Mutex
			d := &loader.Dialer{Source: f.bundle, Observe: func(err error) { mu.Lock(); observed = append(observed, err); mu.Unlock() }}

			// The node trusts the bundle's CA and has a certificate for 127.0.0.1.
			good := startTLSServer(t, serverCert(t, f.ca, "127.0.0.1"), pool(f.ca.Root()), v)
			require.NoError(t, greet(ctx, d, good.Addr()))
			require.Equal(t, f.bundle.Certificate().Raw, good.Seen()[0].Raw)

			// The static configuration also works with a plain tls.Dial.
			c, err := tls.Dial("tcp", good.Addr(), f.bundle.TLSConfig())
			require.NoError(t, err)
			c.Close()

			// Certificate for another name.
			wrongName := startTLSServer(t, serverCert(t, f.ca, "db.example.com"), pool(f.ca.Root()), v)
			err = greet(ctx, d, wrongName.Addr())
			require.ErrorIs(t, err, loader.ErrServerCertificate)
			require.ErrorIs(t, err, loader.ErrTLS)
			var hn x509.HostnameError
			require.ErrorAs(t, err, &hn)
			require.Contains(t, err.Error(), `checked as "127.0.0.1"`)

			// Node certificate from a CA the bundle does not trust.
			foreign := startTLSServer(t, serverCert(t, f.other, "127.0.0.1"), pool(f.ca.Root()), v)
			err = greet(ctx, d, foreign.Addr())
			require.ErrorIs(t, err, loader.ErrServerCertificate)
			var ua x509.UnknownAuthorityError
			require.ErrorAs(t, err, &ua)

			// The node does not trust the bundle's CA. TLS 1.2 fails in the
			// handshake, TLS 1.3 on the first read; both are classified.
			refusing := startTLSServer(t, serverCert(t, f.ca, "127.0.0.1"), pool(f.other.Root()), v)
			err = greet(ctx, d, refusing.Addr())
			require.ErrorIs(t, err, loader.ErrClientCertificateRejected, "%v", err)
			var te *loader.TLSError
			require.ErrorAs(t, err, &te)
			require.Equal(t, refusing.Addr(), te.Addr)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, observed, 3)
			ce := loader.ClassifyConnect([]string{"h:1"}, errors.New("gocql: unable to create session: flattened"), observed[2:])
			require.ErrorIs(t, ce, loader.ErrClientCertificateRejected)
			require.NotEmpty(t, ce.Hint())
		})
	}
}

func TestDialerHostnameVerificationOff(t *testing.T) {
	ctx := context.Background()
	f := newTLSFixture(t, func(r *scb.Request) { r.InsecureSkipHostnameVerification = true })
	d := &loader.Dialer{Source: f.bundle}
	wrongName := startTLSServer(t, serverCert(t, f.ca, "db.example.com"), pool(f.ca.Root()), 0)
	require.NoError(t, greet(ctx, d, wrongName.Addr()))
	// The chain is still checked.
	foreign := startTLSServer(t, serverCert(t, f.other, "127.0.0.1"), pool(f.ca.Root()), 0)
	require.ErrorIs(t, greet(ctx, d, foreign.Addr()), loader.ErrServerCertificate)
}

func TestDialerServerName(t *testing.T) {
	ctx := context.Background()
	f := newTLSFixture(t, nil)
	srv := startTLSServer(t, serverCert(t, f.ca, "node1.db.internal"), pool(f.ca.Root()), 0)
	d := &loader.Dialer{Source: f.bundle}
	// Dialled by IP, verified as the configured name.
	c, err := d.DialHost(ctx, srv.Addr(), "node1.db.internal")
	require.NoError(t, err)
	c.Close()
	_, err = d.DialHost(ctx, srv.Addr(), "node2.db.internal")
	require.ErrorIs(t, err, loader.ErrServerCertificate)
}

func TestDialerMinVersion(t *testing.T) {
	ctx := context.Background()
	f := newTLSFixture(t, func(r *scb.Request) { r.Connection.MinTLSVersion = "1.3" })
	old := startTLSServer(t, serverCert(t, f.ca, "127.0.0.1"), pool(f.ca.Root()), tls.VersionTLS12)
	err := greet(ctx, &loader.Dialer{Source: f.bundle}, old.Addr())
	require.ErrorIs(t, err, loader.ErrTLS)
}

func TestDialerUnreachable(t *testing.T) {
	f := newTLSFixture(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	var observed []error
	d := &loader.Dialer{Source: f.bundle, Observe: func(err error) { observed = append(observed, err) }}
	_, err = d.DialContext(context.Background(), "tcp", addr)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	ce := loader.ClassifyConnect([]string{addr}, errors.New("no connections were made when creating the session"), observed)
	require.ErrorIs(t, ce, loader.ErrUnreachable)
	require.Contains(t, ce.Error(), "connect to "+addr+": no contact point reachable")
}

func TestDialerTimeout(t *testing.T) {
	f := newTLSFixture(t, nil)
	// A listener that accepts TCP but never speaks TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var observed []error
	d := &loader.Dialer{Source: f.bundle, Observe: func(err error) { observed = append(observed, err) }}
	_, err = d.DialContext(ctx, "tcp", ln.Addr().String())
	require.Error(t, err)
	ce := loader.ClassifyConnect([]string{ln.Addr().String()}, err, observed)
	require.ErrorIs(t, ce, loader.ErrTimeout, "%v", ce)
}

func TestClassifyConnect(t *testing.T) {
	auth := fmt.Errorf("%w: Provided username cassandra and/or password are incorrect", loader.ErrAuth)
	cases := []struct {
		err      error
		observed []error
		want     error
	}{
		{errors.New("x"), []error{auth, syscall.ECONNREFUSED}, loader.ErrAuth},
		{errors.New("gocql: unable to create session: Provided username x and/or password are incorrect"), nil, loader.ErrAuth},
		{context.DeadlineExceeded, nil, loader.ErrTimeout},
		{errors.New("remote error: tls: bad certificate"), nil, loader.ErrClientCertificateRejected},
		{errors.New("something else"), nil, loader.ErrConnect},
	}
	for _, c := range cases {
		ce := loader.ClassifyConnect([]string{"127.0.0.1:9042"}, c.err, c.observed)
		require.ErrorIs(t, ce, c.want, "%v", ce)
	}
	ce := loader.ClassifyConnect([]string{"a:1"}, errors.New("x"), []error{auth})
	require.Equal(t, "connect to a:1: authentication failed: Provided username cassandra and/or password are incorrect", ce.Error())
}
