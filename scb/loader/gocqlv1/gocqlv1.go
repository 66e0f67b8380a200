// Package gocqlv1 connects the legacy github.com/gocql/gocql driver
// (v1.7.0) to a Cassandra cluster with a secure connection bundle, for
// existing users of that driver; new code should use package gocqlv1
// (github.com/apache/cassandra-gocql-driver/v2). The API is the same:
//
//	b, err := loader.Open("scb.zip", loader.Options{})
//	...
//	session, err := gocqlv1.Connect(ctx, b, gocqlv1.WithPassword("app", password))
//
// Everything comes from the bundle: contact points, local datacenter,
// mutual TLS (the bundle's CA only, hostname verification per contact
// point), timeouts, consistency, retries, pool size, DC- and token-aware
// routing and compression. gocql v1.7.0 has Snappy built in but LZ4 only
// as a separate module, so a bundle asking for "lz4" connects without
// compression (compression is optional in CQL). Only credentials come
// from the caller: the package never reads environment variables.
//
// Pass a *loader.Watcher instead of a *loader.Bundle for certificate
// rotation without restarts.
package gocqlv1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/gocql/gocql"

	"github.com/scbkit/scbkit/scb/loader"
)

// An Option changes how Connect and NewClusterConfig configure the driver.
type Option func(*settings)

type settings struct {
	username, password string
	auth               bool
	keyspace           string
	configure          []func(*gocql.ClusterConfig)
}

// WithPassword logs in with Cassandra's PasswordAuthenticator. An empty
// username means the username recorded in the bundle. The password is
// never printed or logged.
func WithPassword(username, password string) Option {
	return func(s *settings) { s.username, s.password, s.auth = username, password, true }
}

// WithKeyspace sets the session's keyspace.
func WithKeyspace(keyspace string) Option {
	return func(s *settings) { s.keyspace = keyspace }
}

// WithClusterConfig lets f change the driver configuration after the
// bundle's settings were applied, for anything the bundle does not cover
// (page size, observers, address translation, ...). Changing HostDialer or
// SslOpts is refused: the bundle's TLS would be lost.
func WithClusterConfig(f func(*gocql.ClusterConfig)) Option {
	return func(s *settings) { s.configure = append(s.configure, f) }
}

// NewClusterConfig returns a driver configuration for src without
// connecting. It fails with a *loader.ValidityError if the client
// certificate is not valid now, so no dial is ever made with an expired
// certificate.
func NewClusterConfig(src loader.Source, opts ...Option) (*gocql.ClusterConfig, error) {
	cfg, _, err := newConfig(src, opts)
	return cfg, err
}

// Connect opens a session with src (a *loader.Bundle or *loader.Watcher).
// A failure to connect is a *loader.ConnectError whose Kind tells TLS
// failures (loader.ErrServerCertificate, loader.ErrClientCertificateRejected),
// loader.ErrAuth, loader.ErrUnreachable and loader.ErrTimeout apart. An
// expired client certificate gives a *loader.ValidityError before any
// dial. If ctx ends first, Connect returns at once and the session being
// created is closed in the background when the driver gives up (within the
// bundle's connect timeout).
func Connect(ctx context.Context, src loader.Source, opts ...Option) (*gocql.Session, error) {
	cfg, rec, err := newConfig(src, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		s   *gocql.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := cfg.CreateSession()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, loader.ClassifyConnect(cfg.Hosts, r.err, rec.all())
		}
		return r.s, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, loader.ClassifyConnect(cfg.Hosts, ctx.Err(), rec.all())
	}
}

func newConfig(src loader.Source, opts []Option) (*gocql.ClusterConfig, *recorder, error) {
	if src == nil {
		return nil, nil, errors.New("gocqlv1: nil bundle source")
	}
	var s settings
	for _, o := range opts {
		o(&s)
	}
	b := src.Current()
	if err := b.CheckValidity(); err != nil {
		return nil, nil, err
	}
	eps := b.Endpoints()
	p := b.Params()
	hosts := make([]string, len(eps.ContactPoints))
	for i, e := range eps.ContactPoints {
		hosts[i] = e.String()
	}
	cfg := gocql.NewCluster(hosts...)
	cfg.Port = eps.ContactPoints[0].Port // for nodes discovered from system.peers
	cfg.ConnectTimeout = p.ConnectTimeout.Std()
	cfg.Timeout = p.RequestTimeout.Std()
	cfg.WriteTimeout = p.RequestTimeout.Std()
	cfg.NumConns = p.ConnectionsPerHost
	cons, ok := consistencies[strings.ToUpper(p.Consistency)]
	if !ok {
		return nil, nil, fmt.Errorf("gocqlv1: unsupported consistency %q", p.Consistency)
	}
	cfg.Consistency = cons
	cfg.RetryPolicy = nil
	if p.RetryPolicy != "none" && p.MaxRetries > 0 {
		cfg.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: p.MaxRetries}
	}
	switch p.LoadBalancing {
	case "dc-aware-round-robin":
		cfg.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(eps.LocalDatacenter)
	default: // "dc-aware-token-aware"
		cfg.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.DCAwareRoundRobinPolicy(eps.LocalDatacenter))
	}
	if p.Compression == "snappy" {
		// gocql v1 speaks protocol v4 at most, which has Snappy. "lz4"
		// needs a module this package does not pull in: no compression.
		cfg.Compressor = gocql.SnappyCompressor{}
	}
	if s.auth {
		user := s.username
		if user == "" {
			user = b.Username()
		}
		if user == "" {
			return nil, nil, errors.New("gocqlv1: no username: pass one to WithPassword (the bundle has none)")
		}
		cfg.Authenticator = &passwordAuth{gocql.PasswordAuthenticator{Username: user, Password: s.password}}
	}
	cfg.Keyspace = s.keyspace
	rec := &recorder{}
	hd := &hostDialer{d: &loader.Dialer{Source: src, Observe: rec.add}}
	cfg.HostDialer = hd
	for _, f := range s.configure {
		f(cfg)
	}
	if cfg.HostDialer != hd || cfg.SslOpts != nil {
		return nil, nil, errors.New("gocqlv1: WithClusterConfig must not change HostDialer or SslOpts: the bundle's TLS would be lost")
	}
	cfg.ConnectObserver = &observer{rec: rec, next: cfg.ConnectObserver}
	return cfg, rec, nil
}

var consistencies = map[string]gocql.Consistency{
	"ANY": gocql.Any, "ONE": gocql.One, "TWO": gocql.Two, "THREE": gocql.Three,
	"QUORUM": gocql.Quorum, "ALL": gocql.All, "LOCAL_QUORUM": gocql.LocalQuorum,
	"EACH_QUORUM": gocql.EachQuorum, "LOCAL_ONE": gocql.LocalOne,
}

// hostDialer makes every driver connection through loader.Dialer: TCP,
// then TLS with the source's current material, verifying the node's
// certificate against the host name the node is known by.
type hostDialer struct{ d *loader.Dialer }

func (h *hostDialer) DialHost(ctx context.Context, host *gocql.HostInfo) (*gocql.DialedHost, error) {
	ip, port := host.ConnectAddress(), host.Port()
	if len(ip) == 0 || ip.IsUnspecified() || port == 0 {
		return nil, fmt.Errorf("gocqlv1: host %s has no address to connect to", host.HostnameAndPort())
	}
	name, _, err := net.SplitHostPort(host.HostnameAndPort())
	if err != nil {
		name = ip.String()
	}
	conn, err := h.d.DialHost(ctx, net.JoinHostPort(ip.String(), strconv.Itoa(port)), name)
	if err != nil {
		return nil, err
	}
	// TLS connections cannot use writev, so coalescing would only add latency.
	return &gocql.DialedHost{Conn: conn, DisableCoalesce: true}, nil
}

// recorder keeps the connection errors of one configuration for
// classification (the driver flattens them into strings).
type recorder struct {
	mu   sync.Mutex
	errs []error
}

const maxRecorded = 32

func (r *recorder) add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < maxRecorded {
		r.errs = append(r.errs, err)
	}
}

func (r *recorder) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

type observer struct {
	rec  *recorder
	next gocql.ConnectObserver
}

func (o *observer) ObserveConnect(c gocql.ObservedConnect) {
	if c.Err != nil {
		var re gocql.RequestError
		if errors.As(c.Err, &re) && re.Code() == gocql.ErrCodeCredentials {
			o.rec.add(fmt.Errorf("%w: %s", loader.ErrAuth, re.Message()))
		} else {
			o.rec.add(c.Err)
		}
	}
	if o.next != nil {
		o.next.ObserveConnect(c)
	}
}

// passwordAuth is gocql's PasswordAuthenticator that cannot print its
// password.
type passwordAuth struct{ a gocql.PasswordAuthenticator }

func (p *passwordAuth) Challenge(req []byte) ([]byte, gocql.Authenticator, error) {
	return p.a.Challenge(req)
}

func (p *passwordAuth) Success(data []byte) error { return p.a.Success(data) }

func (p *passwordAuth) String() string {
	return fmt.Sprintf("PasswordAuthenticator{Username: %q, Password: <redacted>}", p.a.Username)
}

func (p *passwordAuth) GoString() string { return p.String() }

func (p *passwordAuth) Format(f fmt.State, _ rune) { io.WriteString(f, p.String()) }
