package gateway

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// metrics are kept as atomics and written in the Prometheus text format
// (version 0.0.4) by hand: a dozen series do not justify a client library
// and its dependencies in the core module.
type metrics struct {
	accepted          atomic.Int64
	active            atomic.Int64
	routed            atomic.Int64
	handshakeFailures atomic.Int64
	bytesIn           atomic.Int64 // client to node
	bytesOut          atomic.Int64 // node to client
	routingFailures   counterVec
	refreshes         counterVec
	metadataRequests  counterVec
}

func newMetrics() *metrics {
	return &metrics{
		routingFailures:  counterVec{label: "reason"},
		refreshes:        counterVec{label: "result"},
		metadataRequests: counterVec{label: "code"},
	}
}

type counterVec struct {
	label string
	mu    sync.Mutex
	m     map[string]*atomic.Int64
}

func (c *counterVec) inc(v string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]*atomic.Int64)
	}
	n := c.m[v]
	if n == nil {
		n = new(atomic.Int64)
		c.m[v] = n
	}
	c.mu.Unlock()
	n.Add(1)
}

func (c *counterVec) write(w io.Writer, name string) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]int64, len(keys))
	for i, k := range keys {
		vals[i] = c.m[k].Load()
	}
	c.mu.Unlock()
	for i, k := range keys {
		fmt.Fprintf(w, "%s{%s=\"%s\"} %d\n", name, c.label, escapeLabel(k), vals[i])
	}
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func header(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// writeMetrics writes every series in the Prometheus text format.
func (g *Gateway) writeMetrics(w io.Writer) {
	m := g.metrics
	header(w, "scb_gateway_cql_connections_accepted_total", "counter", "TCP connections accepted on the CQL (SNI proxy) port.")
	fmt.Fprintf(w, "scb_gateway_cql_connections_accepted_total %d\n", m.accepted.Load())
	header(w, "scb_gateway_cql_connections_routed_total", "counter", "Client connections connected to a node.")
	fmt.Fprintf(w, "scb_gateway_cql_connections_routed_total %d\n", m.routed.Load())
	header(w, "scb_gateway_cql_connections_active", "gauge", "Open client connections on the CQL port.")
	fmt.Fprintf(w, "scb_gateway_cql_connections_active %d\n", m.active.Load())
	header(w, "scb_gateway_tls_handshake_failures_total", "counter", "Client TLS handshakes that failed (including rejected client certificates).")
	fmt.Fprintf(w, "scb_gateway_tls_handshake_failures_total %d\n", m.handshakeFailures.Load())
	header(w, "scb_gateway_cql_bytes_total", "counter", "Bytes proxied, by direction.")
	fmt.Fprintf(w, "scb_gateway_cql_bytes_total{direction=\"client_to_node\"} %d\n", m.bytesIn.Load())
	fmt.Fprintf(w, "scb_gateway_cql_bytes_total{direction=\"node_to_client\"} %d\n", m.bytesOut.Load())
	header(w, "scb_gateway_routing_failures_total", "counter", "Connections not routed, by reason (unknown_host_id, no_live_node, dial_failed).")
	m.routingFailures.write(w, "scb_gateway_routing_failures_total")
	header(w, "scb_gateway_topology_refreshes_total", "counter", "Topology refreshes, by result.")
	m.refreshes.write(w, "scb_gateway_topology_refreshes_total")
	header(w, "scb_gateway_metadata_requests_total", "counter", "Metadata service requests, by HTTP status code.")
	m.metadataRequests.write(w, "scb_gateway_metadata_requests_total")
	t := g.mon.cur.Load()
	header(w, "scb_gateway_node_live", "gauge", "1 when the node is routed to, 0 when it is known but not live.")
	for _, n := range t.all {
		v := 0
		if n.Live {
			v = 1
		}
		fmt.Fprintf(w, "scb_gateway_node_live{host_id=\"%s\",dc=\"%s\",rack=\"%s\"} %d\n", n.HostID, escapeLabel(n.DC), escapeLabel(n.Rack), v)
	}
	header(w, "scb_gateway_topology_version", "gauge", "Number of routing tables published so far.")
	fmt.Fprintf(w, "scb_gateway_topology_version %d\n", t.version)
}
