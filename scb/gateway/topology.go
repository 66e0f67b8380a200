package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Node is one Cassandra node as a Source reports it.
type Node struct {
	// HostID is the node's host_id in canonical lower-case UUID form; it is
	// the TLS server name (SNI) the drivers send to reach this node.
	HostID string
	// Addr is the node's native-protocol (CQL) address: rpc_address or
	// native_address with its native port.
	Addr netip.AddrPort
	// DC and Rack locate the node.
	DC, Rack string
	// Down is true when the source knows the node is down (a DOWN status
	// event, gossip). False means "not known to be down": the gateway's own
	// probe decides.
	Down bool
}

// A Source reports the nodes of a cluster. Implementations must be safe for
// concurrent use.
//
// Nodes returns every node the cluster knows, in any order, each with a
// valid HostID and Addr. It returns ctx.Err() if ctx is done first and any
// other error when the cluster could not be asked; the gateway then keeps
// the previous list (still probing each node) and asks again later.
type Source interface {
	Nodes(ctx context.Context) ([]Node, error)
}

// A Notifier is an optional Source ability: Changed returns a channel that
// receives a value whenever the source has seen a topology or status change
// (a node added, removed, up or down), so the gateway refreshes at once
// instead of at the next interval. The channel is never closed.
type Notifier interface {
	Changed() <-chan struct{}
}

// StaticSource is a Source with a fixed list of nodes, for tests and for
// clusters whose membership never changes. Liveness still comes from the
// gateway's probe.
type StaticSource []Node

// Nodes returns a copy of the list.
func (s StaticSource) Nodes(ctx context.Context) ([]Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return slices.Clone(s), nil
}

// NodeStatus is a node with the gateway's view of it.
type NodeStatus struct {
	Node
	// Live is true when the node is routed to: not reported down by the
	// source and its last probe (or proxied dial) succeeded.
	Live bool `json:"live"`
	// LastError is the last probe or dial error, empty when Live.
	LastError string `json:"last_error,omitempty"`
	// CheckedAt is when the node was last probed.
	CheckedAt time.Time `json:"checked_at"`
}

// table is an immutable routing snapshot.
type table struct {
	all     []NodeStatus // every known node, sorted by host id
	localDC string
	live    map[string]Node // live nodes by host id
	local   []string        // live host ids in the local DC, sorted
	fallbk  []string        // live host ids in any DC, sorted
	version uint64
}

func newTable(nodes []NodeStatus, localDC string, version uint64) *table {
	t := &table{live: make(map[string]Node), localDC: localDC, version: version}
	t.all = slices.Clone(nodes)
	sort.Slice(t.all, func(i, j int) bool { return t.all[i].HostID < t.all[j].HostID })
	for _, n := range t.all {
		if !n.Live {
			continue
		}
		t.live[n.HostID] = n.Node
		t.fallbk = append(t.fallbk, n.HostID)
		if n.DC == localDC {
			t.local = append(t.local, n.HostID)
		}
	}
	return t
}

// canonicalHostID returns s lower-cased if it is an 8-4-4-4-12 hex UUID.
func canonicalHostID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return "", false
			}
		}
	}
	return string(b), true
}

// monitor keeps the routing table: it asks the source for nodes, probes
// each node and publishes a new table.
type monitor struct {
	g        *Gateway
	cur      atomic.Pointer[table]
	kick     chan struct{}
	mu       sync.Mutex // guards state and nodes
	nodes    []Node     // last list from the source
	state    map[string]*probeState
	version  uint64
	ready    chan struct{} // closed after the first refresh
	readyOne sync.Once
	rr       atomic.Uint64
	localDC  string // effective local DC, guarded by mu
}

type probeState struct {
	ok        bool
	err       string
	checkedAt time.Time
}

func newMonitor(g *Gateway) *monitor {
	m := &monitor{g: g, kick: make(chan struct{}, 1), state: make(map[string]*probeState), ready: make(chan struct{}), localDC: g.cfg.LocalDC}
	m.cur.Store(newTable(nil, g.cfg.LocalDC, 0))
	return m
}

// trigger asks for a refresh soon; it never blocks.
func (m *monitor) trigger() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *monitor) run(ctx context.Context) {
	var changed <-chan struct{}
	if n, ok := m.g.cfg.Source.(Notifier); ok {
		changed = n.Changed()
	}
	t := time.NewTicker(m.g.cfg.RefreshInterval)
	defer t.Stop()
	for {
		m.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		case <-changed:
			// Status events arrive in bursts; let them settle briefly.
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// refresh asks the source for nodes and probes every one.
func (m *monitor) refresh(ctx context.Context) {
	cfg := &m.g.cfg
	began := time.Now()
	sctx, cancel := context.WithTimeout(ctx, cfg.ProbeTimeout)
	nodes, err := cfg.Source.Nodes(sctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	if err != nil {
		m.g.metrics.refreshes.inc("error")
		m.g.log().Warn("topology refresh failed; keeping the previous node list", "err", err)
		nodes = m.nodes
	} else {
		m.g.metrics.refreshes.inc("ok")
		nodes = validNodes(nodes, m.g)
		m.nodes = nodes
	}
	m.mu.Unlock()

	results := make([]probeState, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		if n.Down {
			results[i] = probeState{err: "reported down by the cluster", checkedAt: time.Now()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, cfg.ProbeTimeout)
			defer cancel()
			perr := m.g.probe(pctx, n)
			results[i] = probeState{ok: perr == nil, checkedAt: time.Now()}
			if perr != nil {
				results[i].err = perr.Error()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	seen := make(map[string]bool, len(nodes))
	for i, n := range nodes {
		seen[n.HostID] = true
		st := m.state[n.HostID]
		if st == nil {
			st = &probeState{}
			m.state[n.HostID] = st
		}
		*st = results[i]
	}
	for id := range m.state {
		if !seen[id] {
			delete(m.state, id)
		}
	}
	m.publishLocked()
	m.mu.Unlock()
	m.g.log().Debug("topology refreshed", "nodes", len(nodes), "elapsed", time.Since(began).Round(time.Millisecond))
	m.readyOne.Do(func() { close(m.ready) })
}

// markFailed takes a node out of routing after a failed dial; the next
// successful probe brings it back.
func (m *monitor) markFailed(hostID string, err error) {
	m.mu.Lock()
	st := m.state[hostID]
	if st != nil && st.ok {
		st.ok, st.err, st.checkedAt = false, err.Error(), time.Now()
		m.publishLocked()
	}
	m.mu.Unlock()
	m.trigger()
}

func (m *monitor) publishLocked() {
	statuses := make([]NodeStatus, 0, len(m.nodes))
	for _, n := range m.nodes {
		st := m.state[n.HostID]
		ns := NodeStatus{Node: n}
		if st != nil {
			ns.Live, ns.LastError, ns.CheckedAt = st.ok, st.err, st.checkedAt
		}
		statuses = append(statuses, ns)
	}
	m.version++
	if m.localDC == "" && len(m.nodes) > 0 {
		m.localDC = m.nodes[0].DC
		m.g.log().Info("local datacenter taken from the first node", "local_dc", m.localDC)
	}
	nt := newTable(statuses, m.localDC, m.version)
	old := m.cur.Swap(nt)
	for _, n := range nt.all {
		_, was := old.live[n.HostID]
		switch {
		case n.Live && !was:
			m.g.log().Info("node routed", "host_id", n.HostID, "addr", n.Addr.String(), "dc", n.DC, "rack", n.Rack)
		case !n.Live && was:
			m.g.log().Warn("node removed from routing", "host_id", n.HostID, "addr", n.Addr.String(), "dc", n.DC, "reason", n.LastError)
		}
	}
	for id, n := range old.live {
		if !slices.ContainsFunc(nt.all, func(s NodeStatus) bool { return s.HostID == id }) {
			m.g.log().Warn("node left the cluster", "host_id", id, "addr", n.Addr.String())
		}
	}
}

func validNodes(nodes []Node, g *Gateway) []Node {
	out := make([]Node, 0, len(nodes))
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		id, ok := canonicalHostID(n.HostID)
		if !ok || !n.Addr.IsValid() || n.Addr.Port() == 0 || seen[id] {
			g.log().Warn("ignoring a node without a valid host_id or native address", "host_id", n.HostID, "addr", n.Addr.String())
			continue
		}
		seen[id] = true
		n.HostID = id
		out = append(out, n)
	}
	return out
}

// probe checks that a node accepts CQL: with UpstreamTLS, a TLS handshake
// followed by an OPTIONS request answered by SUPPORTED; without, a TCP
// connect.
func (g *Gateway) probe(ctx context.Context, n Node) error {
	if g.cfg.Probe != nil {
		return g.cfg.Probe(ctx, n)
	}
	conn, err := g.dialNode(ctx, n)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, ok := conn.(*tls.Conn); !ok {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Protocol v4 OPTIONS on stream 0; any v3+ server answers SUPPORTED
	// (opcode 0x06), or ERROR for a version it does not speak, which still
	// proves it is alive.
	if _, err := conn.Write([]byte{0x04, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0}); err != nil {
		return fmt.Errorf("probe %s: %w", n.Addr, err)
	}
	var hdr [9]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return fmt.Errorf("probe %s: %w", n.Addr, err)
	}
	if hdr[0]&0x80 == 0 || (hdr[4] != 0x06 && hdr[4] != 0x00) {
		return fmt.Errorf("probe %s: not a CQL response", n.Addr)
	}
	return nil
}

// dialNode opens the gateway's connection to a node: TLS with UpstreamTLS
// when set, else plain TCP.
func (g *Gateway) dialNode(ctx context.Context, n Node) (net.Conn, error) {
	d := net.Dialer{Timeout: g.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", n.Addr.String())
	if err != nil {
		return nil, err
	}
	if g.upstreamTLS == nil {
		return raw, nil
	}
	cfg := g.upstreamTLS
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = n.Addr.Addr().Unmap().String()
		if g.cfg.Mode == Passthrough {
			// The node serves the clients' TLS: its certificate is for the
			// public name.
			cfg.ServerName = g.cfg.PublicHost
		}
	}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, g.cfg.HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("tls to node %s: %w", n.Addr, err)
	}
	return tc, nil
}

// errNoRoute is returned by route for a server name that names no live node.
var errNoRoute = errors.New("no live node")

// route picks the node for a TLS server name: a host_id names exactly that
// node; anything else (no SNI, the public host name, an IP address) gets a
// live node of the local DC, round-robin, or of any DC if the local one has
// none.
func (m *monitor) route(serverName string) (Node, bool, error) {
	t := m.cur.Load()
	if id, ok := canonicalHostID(serverName); ok {
		n, live := t.live[id]
		if !live {
			return Node{}, true, fmt.Errorf("%w with host_id %s", errNoRoute, id)
		}
		return n, true, nil
	}
	ids := t.local
	if len(ids) == 0 {
		ids = t.fallbk
	}
	if len(ids) == 0 {
		return Node{}, false, fmt.Errorf("%w in the cluster", errNoRoute)
	}
	id := ids[int(m.rr.Add(1)%uint64(len(ids)))]
	return t.live[id], false, nil
}
