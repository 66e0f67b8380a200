package loader

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// material is the TLS state of one loaded bundle.
type material struct {
	cert       tls.Certificate // chain and key; Leaf set
	chain      []*x509.Certificate
	roots      *x509.CertPool
	rootCerts  []*x509.Certificate
	hostVerify bool
	serverName string
	minVersion uint16
}

func (m *material) getClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return &m.cert, nil
}

// staticConfig is the configuration of a fixed bundle. With hostname
// verification on it relies on crypto/tls's own verification against
// RootCAs; with it off the chain is still verified, in VerifyConnection.
func (m *material) staticConfig(now func() time.Time) *tls.Config {
	c := &tls.Config{
		MinVersion:           m.minVersion,
		RootCAs:              m.roots,
		ServerName:           m.serverName,
		GetClientCertificate: m.getClientCertificate,
		Time:                 now,
	}
	if !m.hostVerify {
		// Hostname checking is off by the bundle's choice; the chain is
		// still verified against the bundle's CA in VerifyConnection.
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error { return m.verifyServer(cs, now, "") }
	}
	return c
}

// dynamicConfig is the configuration of a reloadable bundle: every
// handshake takes the client certificate, CA pool, hostname policy and
// minimum version of the material current at that moment. crypto/tls can
// only verify against a fixed RootCAs, so verification is done in
// VerifyConnection (fail-closed: without a server name to check while
// hostname verification is on, the handshake fails).
func dynamicConfig(get func() *material, now func() time.Time) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: get().serverName,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return get().getClientCertificate(cri)
		},
		// Verification is not skipped: VerifyConnection below does all of
		// it against the current bundle's CA.
		InsecureSkipVerify: true,
	}
	// The name to check is read from this very configuration at handshake
	// time (set by Dialer or the caller); crypto/tls does not report an IP
	// address it was given as ServerName, so it cannot come from cs alone.
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		name := c.ServerName
		if name == "" {
			name = cs.ServerName
		}
		return get().verifyServer(cs, now, name)
	}
	return c
}

// verifyServer checks the node's certificate chain against the bundle's
// trust anchors and, when hostname verification is on, against the
// bundle's server_name or else name, the host the connection was made for.
func (m *material) verifyServer(cs tls.ConnectionState, now func() time.Time, name string) error {
	if cs.Version < m.minVersion {
		return fmt.Errorf("tls: negotiated %s but the bundle requires at least %s", tls.VersionName(cs.Version), tls.VersionName(m.minVersion))
	}
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("tls: the node sent no certificate")
	}
	t := time.Now()
	if now != nil {
		t = now()
	}
	opts := x509.VerifyOptions{
		Roots:         m.roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   t,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if m.hostVerify {
		opts.DNSName = m.serverName
		if opts.DNSName == "" {
			opts.DNSName = name
		}
		if opts.DNSName == "" {
			return errors.New("tls: hostname verification is on but no server name was set for the connection (set tls.Config.ServerName, or dial with loader.Dialer)")
		}
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// Dialer opens mutual-TLS connections to cluster nodes with the current
// material of a Source. The driver adapters plug it into their drivers;
// it can also serve any other client that takes a dial function.
type Dialer struct {
	// Source supplies the TLS configuration and the connect timeout.
	// Required.
	Source Source
	// NetDialer dials TCP. Nil means a net.Dialer with the bundle's
	// connect timeout and a 30s keep-alive.
	NetDialer interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}
	// Observe, if set, is called with every failed dial or handshake:
	// net errors as they are, TLS failures as *TLSError, including a
	// rejection of the client certificate that TLS 1.3 only reveals on the
	// first read. It must be safe for concurrent use.
	Observe func(error)
}

// DialContext dials addr ("host:port") and completes the TLS handshake,
// checking the node's certificate against addr's host. network must be a
// TCP network.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx, network, addr, host)
}

// DialHost dials addr and completes the TLS handshake, checking the node's
// certificate against serverName (a DNS name or IP address; the bundle's
// server_name takes precedence). Drivers that know a node by the name it
// was configured with but connect to its IP address use this.
func (d *Dialer) DialHost(ctx context.Context, addr, serverName string) (net.Conn, error) {
	return d.dial(ctx, "tcp", addr, serverName)
}

func (d *Dialer) observe(err error) {
	if d.Observe != nil {
		d.Observe(err)
	}
}

func (d *Dialer) dial(ctx context.Context, network, addr, serverName string) (net.Conn, error) {
	if d.Source == nil {
		return nil, errors.New("loader: Dialer has no Source")
	}
	b := d.Source.Current()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.Params().ConnectTimeout.Std())
		defer cancel()
	}
	nd := d.NetDialer
	if nd == nil {
		nd = &net.Dialer{Timeout: b.Params().ConnectTimeout.Std(), KeepAlive: 30 * time.Second}
	}
	raw, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		d.observe(err)
		return nil, err
	}
	cfg := d.Source.TLSConfig()
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			err = fmt.Errorf("tls handshake with %s: %w", addr, err)
			d.observe(err)
			return nil, err
		}
		te := &TLSError{Addr: addr, Kind: tlsKind(err), Err: err}
		if b.HostnameVerification() {
			te.ServerName = cfg.ServerName
		}
		d.observe(te)
		return nil, te
	}
	return &clientConn{Conn: tc, addr: addr, observe: d.observe}, nil
}

// clientConn turns a TLS alert received before any data (how TLS 1.3
// reports that the server refused the client certificate) into a
// *TLSError, so drivers report it instead of a bare "remote error".
type clientConn struct {
	*tls.Conn
	addr    string
	gotData atomic.Bool
	observe func(error)
}

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.gotData.Store(true)
	}
	if err != nil && !c.gotData.Load() {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "remote error" {
			te := &TLSError{Addr: c.addr, Kind: ErrClientCertificateRejected, Err: err}
			c.observe(te)
			return n, te
		}
	}
	return n, err
}
