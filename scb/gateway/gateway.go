package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode says how the SNI proxy treats TLS.
type Mode int

const (
	// Terminate (the default) ends the client's TLS session at the gateway,
	// which requires and verifies the client certificate against ClientCAs,
	// and opens a TLS session of its own to the node (UpstreamTLS). Node
	// certificates need only their own names; the node sees the gateway's
	// client certificate, not the application's.
	Terminate Mode = iota
	// Passthrough reads the ClientHello's server name and splices the raw
	// TCP stream to the node, which then holds the TLS session: its
	// certificate must be valid for PublicHost and it must require and
	// verify the bundle CA's client certificates itself. The gateway sees
	// no plaintext and checks no client certificate.
	Passthrough
)

// String returns "terminate" or "passthrough".
func (m Mode) String() string {
	switch m {
	case Terminate:
		return "terminate"
	case Passthrough:
		return "passthrough"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode parses "terminate" or "passthrough"; empty means Terminate.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "", "terminate":
		return Terminate, nil
	case "passthrough":
		return Passthrough, nil
	}
	return 0, fmt.Errorf("unknown gateway mode %q (want terminate or passthrough)", s)
}

// Config describes a gateway. Zero values take the documented defaults;
// PublicHost, Certificate (or GetCertificate), ClientCAs, Source and, in
// Terminate mode, UpstreamTLS are required.
type Config struct {
	// PublicHost is the DNS name clients use for the metadata service and
	// the SNI proxy: config.json "host" in the bundles, and the host part
	// of sni_proxy_address. The gateway certificate must carry it as a DNS
	// SAN and as the subject CN.
	PublicHost string
	// PublicCQLPort is the port advertised in sni_proxy_address. Zero means
	// the port of the CQL listener Serve is given.
	PublicCQLPort int
	// Certificate is presented on the metadata and CQL listeners whatever
	// server name the client sends (C++ and cqlsh send none).
	Certificate *tls.Certificate
	// GetCertificate, if set, is used instead of Certificate, so that a
	// renewed certificate can be served without a restart.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// ClientCAs verify client certificates on the metadata service and, in
	// Terminate mode, on the SNI proxy: normally the root of the CA that
	// issues the bundles. A client certificate is always required.
	ClientCAs *x509.CertPool
	// MinTLSVersion offered to clients. Zero means TLS 1.2 (the highest the
	// C# driver offers in bundle mode); TLS 1.3 is always enabled.
	MinTLSVersion uint16
	// Mode of the SNI proxy. The zero value is Terminate.
	Mode Mode
	// UpstreamTLS is used to connect to the nodes: RootCAs verify their
	// certificates and Certificates hold the gateway's client certificate,
	// which the nodes must accept. An empty ServerName means the node's IP
	// address (PublicHost in Passthrough mode). Required in Terminate mode.
	// In Passthrough mode it is only used to probe the nodes; nil there
	// means a TCP connect probe.
	UpstreamTLS *tls.Config
	// Source reports the cluster's nodes. Required. NewCassandraSource
	// gives one that follows a live cluster.
	Source Source
	// LocalDC is the datacenter whose live nodes are advertised as
	// contact points and local_dc; it must equal Cassandra's data_center
	// exactly. Empty means the datacenter of the first node Source reports.
	LocalDC string
	// Region is the "region" of the metadata response. Empty means LocalDC.
	Region string
	// RefreshInterval between topology refreshes and node probes. Zero
	// means 10 s. Status events from a Notifier source and failed dials
	// trigger a refresh at once.
	RefreshInterval time.Duration
	// ProbeTimeout bounds a node probe and a Source.Nodes call. Zero means
	// 5 s.
	ProbeTimeout time.Duration
	// Probe, if set, replaces the built-in node probe (for tests). It
	// returns nil when the node should receive connections.
	Probe func(ctx context.Context, n Node) error
	// DialTimeout bounds a connection to a node. Zero means 5 s.
	DialTimeout time.Duration
	// HandshakeTimeout bounds a TLS handshake with a client or a node. Zero
	// means 10 s.
	HandshakeTimeout time.Duration
	// ShutdownTimeout is how long Serve waits, once its context is done,
	// for open connections to finish before closing them. Zero means 30 s.
	ShutdownTimeout time.Duration
	// Logger receives structured logs. Nil means no logging. Nothing secret
	// is ever logged.
	Logger *slog.Logger
}

// Gateway is a metadata service plus SNI proxy. It is safe for concurrent
// use. Create it with New, then call Serve (or use the handlers and
// ServeCQL separately when embedding).
type Gateway struct {
	cfg         Config
	serverTLS   *tls.Config
	upstreamTLS *tls.Config
	mon         *monitor
	metrics     *metrics
	cqlPort     atomic.Int32
	closing     atomic.Bool
	monOnce     sync.Once
}

// New checks cfg and returns a gateway. It does no I/O.
func New(cfg Config) (*Gateway, error) {
	if cfg.PublicHost == "" {
		return nil, errors.New("gateway: PublicHost is required")
	}
	if cfg.Certificate == nil && cfg.GetCertificate == nil {
		return nil, errors.New("gateway: a server certificate is required")
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("gateway: ClientCAs is required: client certificates are always verified")
	}
	if cfg.Source == nil {
		return nil, errors.New("gateway: Source is required")
	}
	if cfg.Mode != Terminate && cfg.Mode != Passthrough {
		return nil, fmt.Errorf("gateway: unknown mode %v", cfg.Mode)
	}
	if cfg.Mode == Terminate && cfg.UpstreamTLS == nil {
		return nil, errors.New("gateway: UpstreamTLS is required in terminate mode")
	}
	if cfg.PublicCQLPort < 0 || cfg.PublicCQLPort > 65535 {
		return nil, fmt.Errorf("gateway: PublicCQLPort %d out of range", cfg.PublicCQLPort)
	}
	if cfg.MinTLSVersion == 0 {
		cfg.MinTLSVersion = tls.VersionTLS12
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 10 * time.Second
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 5 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	g := &Gateway{cfg: cfg, metrics: newMetrics()}
	getCert := cfg.GetCertificate
	if getCert == nil {
		c := cfg.Certificate
		getCert = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c, nil }
	}
	g.serverTLS = &tls.Config{
		MinVersion:     cfg.MinTLSVersion,
		GetCertificate: getCert,
		ClientAuth:     tls.RequireAndVerifyClientCert,
		ClientCAs:      cfg.ClientCAs,
	}
	if cfg.UpstreamTLS != nil {
		g.upstreamTLS = cfg.UpstreamTLS.Clone()
		if g.upstreamTLS.MinVersion == 0 {
			g.upstreamTLS.MinVersion = tls.VersionTLS12
		}
		if g.upstreamTLS.ClientSessionCache == nil {
			g.upstreamTLS.ClientSessionCache = tls.NewLRUClientSessionCache(256)
		}
	}
	g.mon = newMonitor(g)
	return g, nil
}

func (g *Gateway) log() *slog.Logger {
	if g.cfg.Logger == nil {
		return discardLogger
	}
	return g.cfg.Logger
}

var discardLogger = slog.New(slog.DiscardHandler)

// Listeners are the sockets Serve uses. Metadata and CQL are required;
// Admin (plain HTTP: /healthz, /readyz, /metrics) is optional and should be
// bound to a loopback or otherwise private address.
type Listeners struct {
	Metadata, CQL, Admin net.Listener
}

// Serve runs the gateway until ctx is done: it follows the topology, serves
// the metadata service and the SNI proxy, and the admin endpoints if a
// listener is given. When ctx is done it stops accepting (and /readyz turns
// 503), waits up to ShutdownTimeout for open connections to finish, closes
// the rest and returns nil. It returns an error if a listener fails.
// Serve closes the listeners.
func (g *Gateway) Serve(ctx context.Context, l Listeners) error {
	if l.Metadata == nil || l.CQL == nil {
		return errors.New("gateway: metadata and CQL listeners are required")
	}
	if g.cfg.PublicCQLPort == 0 {
		if a, ok := l.CQL.Addr().(*net.TCPAddr); ok {
			g.cqlPort.Store(int32(a.Port))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.StartTopology(ctx)

	errc := make(chan error, 3)
	meta := &http.Server{
		Handler:           g.MetadataHandler(),
		TLSConfig:         g.metadataTLS(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log().Handler(), slog.LevelDebug),
	}
	var admin *http.Server
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := meta.Serve(tls.NewListener(l.Metadata, meta.TLSConfig)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metadata service: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := g.ServeCQL(ctx, l.CQL); err != nil {
			errc <- fmt.Errorf("sni proxy: %w", err)
		}
	}()
	if l.Admin != nil {
		admin = &http.Server{Handler: g.AdminHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(g.log().Handler(), slog.LevelDebug)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := admin.Serve(l.Admin); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin: %w", err)
			}
		}()
	}
	g.log().Info("gateway serving", "public_host", g.cfg.PublicHost, "metadata", l.Metadata.Addr().String(), "cql", l.CQL.Addr().String(), "mode", g.cfg.Mode.String())

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	g.closing.Store(true)
	g.log().Info("gateway shutting down", "drain_timeout", g.cfg.ShutdownTimeout)
	sctx, scancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer scancel()
	cancel() // stops ServeCQL accepting, which then drains
	_ = meta.Shutdown(sctx)
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	wg.Wait()
	g.log().Info("gateway stopped")
	return err
}

// StartTopology starts following the cluster in the background until ctx
// is done. Serve calls it; embedders that use the handlers directly must
// call it once. Later calls do nothing.
func (g *Gateway) StartTopology(ctx context.Context) {
	g.monOnce.Do(func() { go g.mon.run(ctx) })
}

// WaitReady blocks until the first topology refresh has finished and at
// least one node is routed, or ctx is done.
func (g *Gateway) WaitReady(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-g.mon.ready:
		}
		if len(g.mon.cur.Load().fallbk) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Refresh asks for a topology refresh now; it does not wait for it.
func (g *Gateway) Refresh() { g.mon.trigger() }

// Nodes returns every node known to the gateway with its status, sorted by
// host id.
func (g *Gateway) Nodes() []NodeStatus {
	return append([]NodeStatus(nil), g.mon.cur.Load().all...)
}

func (g *Gateway) metadataTLS() *tls.Config {
	c := g.serverTLS.Clone()
	c.NextProtos = []string{"http/1.1"}
	return c
}

// CQLTLSConfig returns the server TLS configuration of the SNI proxy in
// Terminate mode (client certificate required), for embedders that accept
// connections themselves.
func (g *Gateway) CQLTLSConfig() *tls.Config { return g.serverTLS.Clone() }
