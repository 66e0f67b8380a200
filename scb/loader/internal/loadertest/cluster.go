package loadertest

import (
	"crypto/tls"
	"net"
	"strconv"
	"testing"

	"github.com/scbkit/scbkit/internal/testcluster"
	"github.com/scbkit/scbkit/scb"
)

// ClusterBundle builds a bundle for the shared test cluster c: issued by
// the CA its nodes trust, with its nodes as contact points and the first
// node's datacenter as the local one. mod may change the request.
func ClusterBundle(t testing.TB, c *testcluster.Cluster, mod func(*scb.Request)) *scb.Bundle {
	t.Helper()
	req := scb.Request{
		ClusterName: "scbtest", ClientID: "loader-it", Environment: "testing",
		CA: ClusterCA(t, c), ContactPoints: c.Hosts(), LocalDatacenter: c.Nodes[0].DC,
	}
	if req.LocalDatacenter == "" {
		req.LocalDatacenter = testcluster.DefaultDC
	}
	if mod != nil {
		mod(&req)
	}
	return Build(t, req)
}

// BackendTLS is what the proxy uses to reach node n of c: a client
// certificate of the cluster's CA, verifying the node as n.Address.
func BackendTLS(t testing.TB, c *testcluster.Cluster, n *testcluster.Node) *tls.Config {
	t.Helper()
	tc, err := c.ClientTLS("scbtest-proxy", testcluster.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	tc.ServerName = n.Address
	return tc
}

// ClosedPort returns a loopback address nothing listens on.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Silent starts a loopback listener that accepts connections and never
// answers, for timeout tests. It reports the accepted connections on the
// returned channel and is closed when the test ends.
func Silent(t testing.TB) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 100)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), accepted
}

// HostPort joins host and port.
func HostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
