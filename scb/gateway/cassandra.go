package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// CassandraConfig describes how a CassandraSource connects to the cluster:
// mutual TLS plus the credentials of a role that may read system.local and
// system.peers (any role can; give the gateway one with no other grants).
type CassandraConfig struct {
	// ContactPoints are "host:port" native (CQL) endpoints. At least one is
	// required; the rest of the cluster is discovered.
	ContactPoints []string
	// TLS connects to the nodes: RootCAs verify their certificates,
	// Certificates hold a client certificate they accept. An empty
	// ServerName means each node's address. Required.
	TLS *tls.Config
	// Username and Password log in with PasswordAuthenticator. An empty
	// Username means no authentication. The password never prints.
	Username, Password string
	// Timeout bounds connecting and each query. Zero means 10 s.
	Timeout time.Duration
	// Logger receives the source's logs. Nil means none.
	Logger *slog.Logger
}

// String describes the configuration without the password.
func (c CassandraConfig) String() string {
	return fmt.Sprintf("CassandraConfig{ContactPoints:%v Username:%q Password:<redacted>}", c.ContactPoints, c.Username)
}

// GoString redacts the password.
func (c CassandraConfig) GoString() string { return c.String() }

// CassandraSource follows a live cluster: it reads system.local and
// system.peers_v2 (system.peers on clusters older than 4.0) from one node,
// and takes liveness from the driver's view, which Cassandra's UP/DOWN
// status events keep current. Those events, and topology events, also
// signal Changed, so the gateway refreshes at once.
type CassandraSource struct {
	sess    *gocql.Session
	timeout time.Duration
	changed chan struct{}
	log     *slog.Logger
}

var (
	_ Source   = (*CassandraSource)(nil)
	_ Notifier = (*CassandraSource)(nil)
)

// NewCassandraSource connects to the cluster. Close it when done.
func NewCassandraSource(ctx context.Context, cfg CassandraConfig) (*CassandraSource, error) {
	if len(cfg.ContactPoints) == 0 {
		return nil, errors.New("cassandra source: at least one contact point is required")
	}
	if cfg.TLS == nil {
		return nil, errors.New("cassandra source: TLS is required")
	}
	for _, cp := range cfg.ContactPoints {
		if _, _, err := net.SplitHostPort(cp); err != nil {
			return nil, fmt.Errorf("cassandra source: contact point %q: want host:port", cp)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	s := &CassandraSource{timeout: cfg.Timeout, changed: make(chan struct{}, 1), log: cfg.Logger}
	if s.log == nil {
		s.log = discardLogger
	}
	cc := gocql.NewCluster(cfg.ContactPoints...)
	tc := cfg.TLS.Clone()
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	cc.SslOpts = &gocql.SslOptions{Config: tc, EnableHostVerification: true}
	if cfg.Username != "" {
		cc.Authenticator = gocql.PasswordAuthenticator{Username: cfg.Username, Password: cfg.Password}
	}
	cc.Timeout = cfg.Timeout
	cc.ConnectTimeout = cfg.Timeout
	cc.NumConns = 1
	cc.Consistency = gocql.One
	cc.ReconnectInterval = 5 * time.Second
	cc.Metadata.CacheMode = gocql.Disabled // no schema needed
	cc.Metadata.HostListener = gocql.HostListenersConfig{HostStateChangeListener: s, TopologyChangeListener: s}
	type result struct {
		sess *gocql.Session
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		sess, err := cc.CreateSession()
		ch <- result{sess, err}
	}()
	select {
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.sess != nil {
				r.sess.Close()
			}
		}()
		return nil, ctx.Err()
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("cassandra source: connect: %w", r.err)
		}
		s.sess = r.sess
	}
	return s, nil
}

// Close closes the session.
func (s *CassandraSource) Close() { s.sess.Close() }

// Changed implements Notifier.
func (s *CassandraSource) Changed() <-chan struct{} { return s.changed }

func (s *CassandraSource) signal(what string, h *gocql.HostInfo) {
	s.log.Info("cluster event", "event", what, "host_id", h.HostID(), "addr", h.ConnectAddress().String())
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// OnHostUp implements gocql.HostStatusChangeListener.
func (s *CassandraSource) OnHostUp(e gocql.HostUpEvent) { s.signal("up", e.Host) }

// OnHostDown implements gocql.HostStatusChangeListener.
func (s *CassandraSource) OnHostDown(e gocql.HostDownEvent) { s.signal("down", e.Host) }

// OnNewHost implements gocql.TopologyChangeListener.
func (s *CassandraSource) OnNewHost(e gocql.NewHostEvent) { s.signal("new", e.Host) }

// OnRemovedHost implements gocql.TopologyChangeListener.
func (s *CassandraSource) OnRemovedHost(e gocql.RemovedHostEvent) { s.signal("removed", e.Host) }

// Nodes implements Source. The node that answered comes first.
func (s *CassandraSource) Nodes(ctx context.Context) ([]Node, error) {
	hosts := s.sess.GetHosts()
	down := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		if id, ok := canonicalHostID(h.HostID()); ok && !h.IsUp() {
			down[id] = true
		}
	}
	var lastErr error = errors.New("no host to ask")
	for _, h := range hosts {
		if !h.IsUp() || h.HostID() == "" {
			continue
		}
		nodes, err := s.ask(ctx, h)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		for i := range nodes {
			nodes[i].Down = down[nodes[i].HostID]
		}
		return nodes, nil
	}
	return nil, fmt.Errorf("cassandra source: %w", lastErr)
}

// ask reads system.local and the peers table from host h.
func (s *CassandraSource) ask(ctx context.Context, h *gocql.HostInfo) ([]Node, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	localRows, err := s.sess.Query("SELECT * FROM system.local WHERE key='local'").SetHostID(h.HostID()).IterContext(ctx).SliceMap()
	if err == nil && len(localRows) != 1 {
		err = errors.New("no row")
	}
	if err != nil {
		return nil, fmt.Errorf("read system.local from %s: %w", h.ConnectAddress(), err)
	}
	local := localRows[0]
	self, err := nodeFromRow(local, "rpc_address", "rpc_port", h.Port())
	if err != nil {
		return nil, fmt.Errorf("system.local of %s: %w", h.ConnectAddress(), err)
	}
	nodes := []Node{self}
	addrCol, portCol, table := "native_address", "native_port", "system.peers_v2"
	rows, err := s.sess.Query("SELECT * FROM system.peers_v2").SetHostID(h.HostID()).IterContext(ctx).SliceMap()
	if err != nil {
		// Before Cassandra 4.0 there is no peers_v2 and every node uses the
		// same native port.
		addrCol, portCol, table = "rpc_address", "", "system.peers"
		if rows, err = s.sess.Query("SELECT * FROM system.peers").SetHostID(h.HostID()).IterContext(ctx).SliceMap(); err != nil {
			return nil, fmt.Errorf("read system.peers from %s: %w", h.ConnectAddress(), err)
		}
	}
	for _, row := range rows {
		n, err := nodeFromRow(row, addrCol, portCol, h.Port())
		if err != nil {
			s.log.Warn("skipping invalid peer row", "table", table, "from", h.ConnectAddress().String(), "err", err)
			continue
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func nodeFromRow(row map[string]any, addrCol, portCol string, defaultPort int) (Node, error) {
	var n Node
	switch id := row["host_id"].(type) {
	case gocql.UUID:
		n.HostID = id.String()
	case string:
		n.HostID = id
	}
	if _, ok := canonicalHostID(n.HostID); !ok {
		return n, errors.New("no host_id")
	}
	ip, _ := row[addrCol].(net.IP)
	addr, ok := netip.AddrFromSlice(ip)
	if !ok || addr.IsUnspecified() {
		return n, fmt.Errorf("host %s has no usable %s", n.HostID, addrCol)
	}
	port := defaultPort
	if portCol != "" {
		if p, ok := row[portCol].(int); ok && p > 0 {
			port = p
		}
	}
	n.Addr = netip.AddrPortFrom(addr.Unmap(), uint16(port))
	n.DC, _ = row["data_center"].(string)
	n.Rack, _ = row["rack"].(string)
	return n, nil
}
