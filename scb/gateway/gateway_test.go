package gateway_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/gateway"
)

// cluster starts three fake nodes, two in dc1 and one in dc2, that accept
// the gateway's client certificate.
func cluster(t *testing.T, p *pki) []*fakeNode {
	nodeTLS := &tls.Config{Certificates: []tls.Certificate{p.node}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	return []*fakeNode{startFakeNode(t, nodeTLS, "dc1"), startFakeNode(t, nodeTLS, "dc1"), startFakeNode(t, nodeTLS, "dc2")}
}

func sources(nodes []*fakeNode) *fakeSource {
	var ns []gateway.Node
	for _, n := range nodes {
		ns = append(ns, n.node())
	}
	return newFakeSource(ns...)
}

func localIDs(nodes []*fakeNode, dc string) []string {
	var ids []string
	for _, n := range nodes {
		if n.dc == dc {
			ids = append(ids, n.id)
		}
	}
	slices.Sort(ids)
	return ids
}

func metricsText(t *testing.T, h *harness) string {
	resp, err := http.Get("http://" + h.admin + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestMetadataResponse(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})

	md, err := gateway.FetchMetadata(context.Background(), h.client, h.mdAddr)
	require.NoError(t, err)
	require.Equal(t, 1, md.Version)
	require.Equal(t, "dc1", md.Region)
	require.Equal(t, "sni_proxy", md.ContactInfo.Type)
	require.Equal(t, "dc1", md.ContactInfo.LocalDC)
	require.Equal(t, localIDs(nodes, "dc1"), md.ContactInfo.ContactPoints)
	_, cqlPort, _ := net.SplitHostPort(h.cqlAddr)
	require.Equal(t, "localhost:"+cqlPort, md.ContactInfo.SNIProxyAddress)

	// The raw JSON has exactly the field names the drivers read.
	var raw map[string]any
	body := rawGET(t, h, "GET /metadata?version=1 HTTP/1.0\r\nUser-Agent: cpp-driver/2.17\r\nAccept: */*\r\n\r\n", func(status string, hdr http.Header) {
		require.Contains(t, status, " 200 ")
		require.Equal(t, "application/json", hdr.Get("Content-Type"))
		require.NotEmpty(t, hdr.Get("Content-Length"))
		require.Empty(t, hdr.Get("Transfer-Encoding"))
	})
	require.NoError(t, json.Unmarshal(body, &raw))
	ci := raw["contact_info"].(map[string]any)
	for _, k := range []string{"type", "local_dc", "contact_points", "sni_proxy_address"} {
		require.Contains(t, ci, k)
	}
	require.EqualValues(t, 1, raw["version"])
}

// rawGET sends a hand-written request (HTTP/1.0, no Host header, no SNI,
// as the C++ driver does) and returns the body; the server must close the
// connection after it.
func rawGET(t *testing.T, h *harness, req string, check func(status string, hdr http.Header)) []byte {
	t.Helper()
	cfg := h.client.Clone()
	host, port, _ := net.SplitHostPort(h.mdAddr)
	_ = host
	conn, err := tls.Dial("tcp", "127.0.0.1:"+port, withoutSNI(cfg))
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	all, err := io.ReadAll(conn) // EOF: the server closed an HTTP/1.0 connection
	require.NoError(t, err)
	head, body, ok := strings.Cut(string(all), "\r\n\r\n")
	require.True(t, ok)
	lines := strings.Split(head, "\r\n")
	hdr := http.Header{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ": ")
		hdr.Add(k, v)
	}
	if check != nil {
		check(lines[0], hdr)
	}
	n, err := strconv.Atoi(hdr.Get("Content-Length"))
	require.NoError(t, err)
	require.Len(t, body, n)
	return []byte(body)
}

// withoutSNI verifies the server as "localhost" but sends no server name.
func withoutSNI(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	name, roots := c.ServerName, c.RootCAs
	c.ServerName = ""
	c.InsecureSkipVerify = true
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		_, err := cs.PeerCertificates[0].Verify(x509VerifyOpts(name, roots, cs.PeerCertificates[1:]))
		return err
	}
	return c
}

func TestMetadataErrors(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: h.client}}
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/other", 404},
		{"POST", "/metadata", 405},
		{"GET", "/metadata?anything=1&version=2", 200},
	} {
		req, _ := http.NewRequest(tc.method, "https://"+h.mdAddr+tc.path, nil)
		resp, err := cl.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, tc.code, resp.StatusCode, tc.path)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		if tc.code != 200 {
			var e struct{ Message string }
			require.NoError(t, json.Unmarshal(body, &e))
			require.NotEmpty(t, e.Message)
		}
	}

	// No live local node: 503 with a JSON message, and /readyz says so.
	for _, n := range nodes[:2] {
		n.stop()
	}
	h.gw.Refresh()
	eventually(t, "503", func() bool {
		_, err := gateway.FetchMetadata(context.Background(), h.client, h.mdAddr)
		return err != nil && strings.Contains(err.Error(), "status 503: no live node in datacenter dc1")
	})
	resp, err := http.Get("http://" + h.admin + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 503, resp.StatusCode)
	// Routing without SNI falls back to the other DC's node.
	id, err := h.reach("")
	require.NoError(t, err)
	require.Equal(t, nodes[2].id, id)
}

func TestClientCertificateRequired(t *testing.T) {
	p := newPKI(t)
	h := startGateway(t, p, sources(cluster(t, p)), harnessOpts{})
	other := newPKI(t) // another CA, same names
	foreign := h.client.Clone()
	foreign.Certificates = []tls.Certificate{other.client(t, "intruder")}
	none := h.client.Clone()
	none.Certificates = nil

	for name, cfg := range map[string]*tls.Config{"other CA": foreign, "no certificate": none} {
		t.Run(name, func(t *testing.T) {
			_, err := gateway.FetchMetadata(context.Background(), cfg, h.mdAddr)
			require.Error(t, err)
			require.Contains(t, err.Error(), "tls")
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				c := cfg.Clone()
				c.MaxVersion = v
				d := &gateway.SNIDialer{ProxyAddr: h.cqlAddr, TLS: c}
				dh, err := d.Dial(context.Background(), "")
				if err == nil { // TLS 1.3: the rejection comes after the client's Finished
					_, err = query(dh.Conn)
					dh.Conn.Close()
				}
				require.Error(t, err, "version %x", v)
			}
		})
	}
	// The client may see the rejection (TLS 1.3) before the gateway has
	// finished counting it: wait for the count, do not race it.
	eventually(t, "four failed handshakes counted", func() bool {
		return strings.Contains(metricsText(t, h), "scb_gateway_tls_handshake_failures_total 4\n")
	})
	m := metricsText(t, h)
	require.Contains(t, m, "scb_gateway_cql_connections_routed_total 0\n")
	eventually(t, "the failed handshakes logged", func() bool {
		return strings.Contains(h.logs.String(), "client tls handshake failed")
	})
}

func TestRoutingIsExact(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})
	for _, n := range nodes {
		for range 3 {
			id, err := h.reach(n.id)
			require.NoError(t, err)
			require.Equal(t, n.id, id)
		}
		// SNI is matched case-insensitively.
		id, err := h.reach(strings.ToUpper(n.id))
		require.NoError(t, err)
		require.Equal(t, n.id, id)
	}
	// No SNI, or the public name: a live node of the local DC.
	seen := map[string]bool{}
	for range 6 {
		for _, sni := range []string{"", "localhost"} {
			id, err := h.reach(sni)
			require.NoError(t, err)
			seen[id] = true
		}
	}
	require.Equal(t, map[string]bool{nodes[0].id: true, nodes[1].id: true}, seen)

	// An unknown host_id is refused after authentication: closed, logged
	// and counted.
	_, err := h.reach(newHostID())
	require.Error(t, err)
	require.Contains(t, h.logs.String(), "connection refused: no route")
	require.Contains(t, metricsText(t, h), `scb_gateway_routing_failures_total{reason="unknown_host_id"} 1`)

	// TLS 1.2 only (the C# driver's maximum) works.
	c12 := h.client.Clone()
	c12.MaxVersion = tls.VersionTLS12
	d := &gateway.SNIDialer{ProxyAddr: h.cqlAddr, TLS: c12}
	dh, err := d.Dial(context.Background(), nodes[1].id)
	require.NoError(t, err)
	require.Equal(t, uint16(tls.VersionTLS12), dh.Conn.(*tls.Conn).ConnectionState().Version)
	id, err := query(dh.Conn)
	require.NoError(t, err)
	require.Equal(t, nodes[1].id, id)
	dh.Conn.Close()
}

func TestDeadNodesLeave(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})
	// A connection open before the node stops keeps working for the others.
	keep, err := h.dial(nodes[0].id)
	require.NoError(t, err)
	defer keep.Close()

	// 1. The node stops: the probe removes it.
	nodes[1].stop()
	h.gw.Refresh()
	eventually(t, "node 1 to leave /metadata", func() bool {
		md, err := gateway.FetchMetadata(context.Background(), h.client, h.mdAddr)
		return err == nil && slices.Equal(md.ContactInfo.ContactPoints, []string{nodes[0].id})
	})
	_, err = h.reach(nodes[1].id)
	require.Error(t, err)
	id, err := query(keep)
	require.NoError(t, err)
	require.Equal(t, nodes[0].id, id)

	// 2. The cluster reports a node down (status event): it leaves at once.
	h.src.set(func(ns []gateway.Node) []gateway.Node {
		ns[0].Down = true
		return ns
	})
	eventually(t, "node 0 to leave routing", func() bool {
		_, err := h.reach(nodes[0].id)
		return err != nil
	})
	var nodesResp []struct {
		HostID string `json:"host_id"`
		Live   bool   `json:"live"`
	}
	resp, err := http.Get("http://" + h.admin + "/nodes")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&nodesResp))
	resp.Body.Close()
	require.Len(t, nodesResp, 3)

	// 3. It comes back up.
	h.src.set(func(ns []gateway.Node) []gateway.Node {
		ns[0].Down = false
		return ns
	})
	eventually(t, "node 0 to return", func() bool {
		id, err := h.reach(nodes[0].id)
		return err == nil && id == nodes[0].id
	})

	// 4. The source fails: the last list is kept, nodes still probed.
	h.src.mu.Lock()
	h.src.err = errors.New("cluster unreachable")
	h.src.mu.Unlock()
	h.gw.Refresh()
	time.Sleep(500 * time.Millisecond)
	id, err = h.reach(nodes[2].id)
	require.NoError(t, err)
	require.Equal(t, nodes[2].id, id)
	require.Contains(t, metricsText(t, h), `scb_gateway_topology_refreshes_total{result="error"}`)
}

func TestTwoInstancesRouteEveryHost(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	src := sources(nodes)
	a := startGateway(t, p, src, harnessOpts{})
	b := startGateway(t, p, src, harnessOpts{})
	for _, h := range []*harness{a, b} {
		md, err := gateway.FetchMetadata(context.Background(), h.client, h.mdAddr)
		require.NoError(t, err)
		require.Equal(t, localIDs(nodes, "dc1"), md.ContactInfo.ContactPoints)
		for _, n := range nodes {
			id, err := h.reach(n.id)
			require.NoError(t, err)
			require.Equal(t, n.id, id)
		}
	}
	// A bundle made for one instance works against the other: nothing in
	// the TLS session is instance-specific.
	d := &gateway.SNIDialer{ProxyAddr: b.cqlAddr, TLS: a.client}
	dh, err := d.Dial(context.Background(), nodes[2].id)
	require.NoError(t, err)
	id, err := query(dh.Conn)
	require.NoError(t, err)
	require.Equal(t, nodes[2].id, id)
	dh.Conn.Close()
}

func TestGracefulShutdownDrains(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{shutdown: 1500 * time.Millisecond})
	c, err := h.dial(nodes[0].id)
	require.NoError(t, err)
	defer c.Close()
	_, err = query(c)
	require.NoError(t, err)

	began := time.Now()
	h.cancel()
	// Readiness turns off and new connections are refused at once...
	eventually(t, "listener closed", func() bool {
		_, err := net.DialTimeout("tcp", h.cqlAddr, time.Second)
		return err != nil
	})
	// ...while the open connection is still served during the drain.
	id, err := query(c)
	require.NoError(t, err)
	require.Equal(t, nodes[0].id, id)
	select {
	case err := <-h.done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	h.cancel = nil
	require.GreaterOrEqual(t, time.Since(began), 1400*time.Millisecond)
	_, err = query(c)
	require.Error(t, err, "connection must be closed after the drain timeout")
	require.Contains(t, h.logs.String(), "drain timeout")
}

func TestPassthrough(t *testing.T) {
	p := newPKI(t)
	// In passthrough the node holds the client's TLS session: it presents
	// the public-name certificate and verifies the bundle client itself.
	nodeTLS := &tls.Config{Certificates: []tls.Certificate{p.gwServer}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	nodes := []*fakeNode{startFakeNode(t, nodeTLS, "dc1"), startFakeNode(t, nodeTLS, "dc1")}
	h := startGateway(t, p, sources(nodes), harnessOpts{mode: gateway.Passthrough})
	for _, n := range nodes {
		id, err := h.reach(n.id)
		require.NoError(t, err)
		require.Equal(t, n.id, id)
	}
	_, err := h.reach(newHostID())
	require.Error(t, err)
	require.Contains(t, err.Error(), "unrecognized name")
	// A foreign client certificate is refused by the node.
	other := newPKI(t)
	foreign := h.client.Clone()
	foreign.Certificates = []tls.Certificate{other.client(t, "intruder")}
	d := &gateway.SNIDialer{ProxyAddr: h.cqlAddr, TLS: foreign}
	dh, err := d.Dial(context.Background(), nodes[0].id)
	if err == nil {
		_, err = query(dh.Conn)
		dh.Conn.Close()
	}
	require.Error(t, err)
}

func TestAdminEndpoints(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + h.admin + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, path)
	}
	_, err := h.reach(nodes[0].id)
	require.NoError(t, err)
	_, err = gateway.FetchMetadata(context.Background(), h.client, h.mdAddr)
	require.NoError(t, err)
	m := metricsText(t, h)
	for _, want := range []string{
		"# TYPE scb_gateway_cql_connections_accepted_total counter",
		"scb_gateway_cql_connections_routed_total 1",
		`scb_gateway_cql_bytes_total{direction="client_to_node"} 9`,
		`scb_gateway_metadata_requests_total{code="200"} 1`,
		`scb_gateway_topology_refreshes_total{result="ok"}`,
		`scb_gateway_node_live{host_id="` + nodes[0].id + `",dc="dc1",rack="rack1"} 1`,
	} {
		require.Contains(t, m, want)
	}
	// Every line is a comment or "name{labels} value".
	sc := bufio.NewScanner(strings.NewReader(m))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		require.Len(t, f, 2, l)
		_, err := strconv.ParseFloat(f[1], 64)
		require.NoError(t, err, l)
	}
}

func TestNoSecretsLogged(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})
	_, _ = h.reach(nodes[0].id)
	_, _ = h.reach(newHostID())
	_, _ = gateway.FetchMetadata(context.Background(), h.client, h.mdAddr)
	h.stop()
	logs := h.logs.String()
	require.NotEmpty(t, logs)
	cc, _ := h.bundle.Get(scb.CloudConfigPath)
	parsed, err := scb.ParseCloudConfig(cc)
	require.NoError(t, err)
	for _, secret := range []string{"PRIVATE KEY", parsed.KeyStorePassword, parsed.TrustStorePassword, parsed.PFXCertPassword} {
		require.NotContains(t, logs, secret)
	}
	s := gateway.CassandraConfig{Username: "gw", Password: "hunter2-secret"}
	require.NotContains(t, s.String(), "hunter2")
	require.NotContains(t, strings.ReplaceAll(strings.ReplaceAll(fmtV(s), " ", ""), "\n", ""), "hunter2")
}

func TestNewValidates(t *testing.T) {
	p := newPKI(t)
	cert := p.gwServer
	ok := gateway.Config{PublicHost: "localhost", Certificate: &cert, ClientCAs: p.pool, Source: gateway.StaticSource{}, UpstreamTLS: &tls.Config{}}
	_, err := gateway.New(ok)
	require.NoError(t, err)
	for name, mut := range map[string]func(*gateway.Config){
		"no host":     func(c *gateway.Config) { c.PublicHost = "" },
		"no cert":     func(c *gateway.Config) { c.Certificate = nil },
		"no CAs":      func(c *gateway.Config) { c.ClientCAs = nil },
		"no source":   func(c *gateway.Config) { c.Source = nil },
		"no upstream": func(c *gateway.Config) { c.UpstreamTLS = nil },
		"bad port":    func(c *gateway.Config) { c.PublicCQLPort = 70000 },
	} {
		c := ok
		mut(&c)
		_, err := gateway.New(c)
		require.Error(t, err, name)
	}
	m, err := gateway.ParseMode("PASSTHROUGH")
	require.NoError(t, err)
	require.Equal(t, gateway.Passthrough, m)
	_, err = gateway.ParseMode("splice")
	require.Error(t, err)
}

// TLS 1.2 and 1.3 are offered on both ports; 1.0 and 1.1 are not.
func TestTLSVersions(t *testing.T) {
	p := newPKI(t)
	nodes := cluster(t, p)
	h := startGateway(t, p, sources(nodes), harnessOpts{})
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		c := h.client.Clone()
		c.MinVersion, c.MaxVersion = v, v
		_, mdErr := gateway.FetchMetadata(context.Background(), c, h.mdAddr)
		d := &gateway.SNIDialer{ProxyAddr: h.cqlAddr, TLS: c}
		dh, cqlErr := d.Dial(context.Background(), nodes[0].id)
		if cqlErr == nil {
			require.Equal(t, v, dh.Conn.(*tls.Conn).ConnectionState().Version)
			dh.Conn.Close()
		}
		if v >= tls.VersionTLS12 {
			require.NoError(t, mdErr, tls.VersionName(v))
			require.NoError(t, cqlErr, tls.VersionName(v))
		} else {
			require.Error(t, mdErr, tls.VersionName(v))
			require.Error(t, cqlErr, tls.VersionName(v))
		}
	}
}
