package gateway_test

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/scbkit/scbkit/scb/gateway"
)

// BenchmarkRoundTrip measures one CQL request/response on an open
// connection against a fake node: directly (mutual TLS to the node),
// through the gateway in terminate mode, and in passthrough mode. The
// difference is what the gateway adds per request; Cassandra's own work is
// not included. Run with:
//
//	go test -run XXX -bench RoundTrip -benchtime 20000x ./scb/gateway
func BenchmarkRoundTrip(b *testing.B) {
	p := newPKI(b)
	// p.node is valid for 127.0.0.1 (terminate mode dials the IP) and for
	// localhost (passthrough: the client checks the public name).
	nodeTLS := &tls.Config{Certificates: []tls.Certificate{p.node}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	node := startFakeNode(b, nodeTLS, "dc1")
	term := startGateway(b, p, newFakeSource(node.node()), harnessOpts{})
	pass := startGateway(b, p, newFakeSource(node.node()), harnessOpts{mode: gateway.Passthrough})
	dialDirect := func() (net.Conn, error) {
		cfg := term.client.Clone()
		return tls.Dial("tcp", node.ln.Addr().String(), cfg)
	}
	for _, c := range []struct {
		name string
		dial func() (net.Conn, error)
	}{
		{"direct", dialDirect},
		{"terminate", func() (net.Conn, error) { return term.dial(node.id) }},
		{"passthrough", func() (net.Conn, error) { return pass.dial(node.id) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			conn, err := c.dial()
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			b.ResetTimer()
			for b.Loop() {
				if _, err := query(conn); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"-parallel", func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				conn, err := c.dial()
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				for pb.Next() {
					if _, err := query(conn); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
