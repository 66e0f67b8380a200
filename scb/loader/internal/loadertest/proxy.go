package loadertest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a loopback mutual-TLS front for a Cassandra node, standing in
// for a node whose certificates and truststore a test rotates. It
// terminates TLS with a replaceable server certificate, accepts only
// client certificates that chain to a replaceable trust pool, records
// every client certificate it accepted, and forwards the plaintext CQL
// stream over its own TLS connection to the real node. Sharing the test
// cluster between packages forbids rotating the real node's truststore
// (other packages' tests would fail meanwhile); the proxy rotates instead.
type Proxy struct {
	ln         net.Listener
	backend    string
	backendTLS *tls.Config

	mu       sync.Mutex
	cert     *tls.Certificate
	trust    *x509.CertPool
	conns    map[*proxyConn]struct{}
	accepted []*x509.Certificate
	rejected []error
	closed   bool
	wg       sync.WaitGroup
}

type proxyConn struct {
	front, back net.Conn
	leaf        *x509.Certificate
}

// StartProxy listens on 127.0.0.1 and forwards to backend (host:port) with
// backendTLS. The proxy is closed when the test ends.
func StartProxy(t testing.TB, backend string, backendTLS *tls.Config, cert tls.Certificate, trust *x509.CertPool) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, backend: backend, backendTLS: backendTLS, cert: &cert, trust: trust, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// SetServerCertificate changes the certificate new connections get.
func (p *Proxy) SetServerCertificate(c tls.Certificate) {
	p.mu.Lock()
	p.cert = &c
	p.mu.Unlock()
}

// SetTrust changes the CAs new client certificates must chain to.
func (p *Proxy) SetTrust(pool *x509.CertPool) {
	p.mu.Lock()
	p.trust = pool
	p.mu.Unlock()
}

// Accepted returns the client leaf of every accepted handshake, in order.
func (p *Proxy) Accepted() []*x509.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*x509.Certificate(nil), p.accepted...)
}

// Rejected returns the errors of refused client handshakes.
func (p *Proxy) Rejected() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.rejected...)
}

// Open returns the client leaves of the connections open now.
func (p *Proxy) Open() []*x509.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*x509.Certificate
	for c := range p.conns {
		out = append(out, c.leaf)
	}
	return out
}

// CloseOne closes one open connection whose client leaf satisfies match
// and reports whether there was one.
func (p *Proxy) CloseOne(match func(*x509.Certificate) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if match(c.leaf) {
			c.front.Close()
			c.back.Close()
			delete(p.conns, c)
			return true
		}
	}
	return false
}

// Close stops the proxy, closes every connection and waits for its
// goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.front.Close()
		c.back.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

func (p *Proxy) frontConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.cert, nil
		},
		ClientAuth: tls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			p.mu.Lock()
			trust := p.trust
			p.mu.Unlock()
			certs := make([]*x509.Certificate, len(raw))
			for i, r := range raw {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return err
				}
				certs[i] = c
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: trust, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			return err
		},
	}
}

func (p *Proxy) handle(raw net.Conn) {
	front := tls.Server(raw, p.frontConfig())
	front.SetDeadline(time.Now().Add(10 * time.Second))
	if err := front.Handshake(); err != nil {
		p.mu.Lock()
		p.rejected = append(p.rejected, err)
		p.mu.Unlock()
		raw.Close()
		return
	}
	front.SetDeadline(time.Time{})
	leaf := front.ConnectionState().PeerCertificates[0]
	back, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", p.backend, p.backendTLS)
	if err != nil {
		p.mu.Lock()
		p.rejected = append(p.rejected, errors.Join(errors.New("backend"), err))
		p.mu.Unlock()
		front.Close()
		return
	}
	pc := &proxyConn{front: front, back: back, leaf: leaf}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		front.Close()
		back.Close()
		return
	}
	p.accepted = append(p.accepted, leaf)
	p.conns[pc] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(back, front); done <- struct{}{} }()
	go func() { io.Copy(front, back); done <- struct{}{} }()
	<-done
	front.Close()
	back.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
}
