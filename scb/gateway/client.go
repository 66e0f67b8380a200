package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/scbkit/scbkit/scb"
)

// This file is the client side of bundle mode for Go, the way the DataStax
// drivers do it: read config.json and the PEM files at the bundle root,
// fetch /metadata, and reach every node through the SNI proxy with the
// node's host_id as the TLS server name.

// BundleTLS returns the TLS configuration of a bundle's stock-driver
// files (ca.crt, cert, key) and its config.json. RootCAs holds only
// ca.crt; ServerName is config.json "host", which every gateway
// certificate must carry.
func BundleTLS(b *scb.Bundle) (*tls.Config, *scb.CloudConfig, error) {
	get := func(p string) ([]byte, error) {
		d, ok := b.Get(p)
		if !ok {
			return nil, fmt.Errorf("bundle has no %s: it was generated without the stock-driver files", p)
		}
		return d, nil
	}
	ccData, err := get(scb.CloudConfigPath)
	if err != nil {
		return nil, nil, err
	}
	cc, err := scb.ParseCloudConfig(ccData)
	if err != nil {
		return nil, nil, err
	}
	caData, err := get(scb.CloudCAPath)
	if err != nil {
		return nil, nil, err
	}
	roots, err := scb.ParseCertificatesPEM(caData)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", scb.CloudCAPath, err)
	}
	certData, err := get(scb.CloudCertPath)
	if err != nil {
		return nil, nil, err
	}
	keyData, err := get(scb.CloudKeyPath)
	if err != nil {
		return nil, nil, err
	}
	pair, err := tls.X509KeyPair(certData, keyData)
	if err != nil {
		return nil, nil, errors.New("cert and key at the bundle root do not form a key pair")
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	return &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{pair},
		ServerName:   cc.Host,
		MinVersion:   tls.VersionTLS12,
	}, cc, nil
}

// FetchMetadata asks the metadata service at hostPort for the proxy
// address and contact points, with the bundle's TLS configuration (see
// BundleTLS). It fails unless the answer is 200 with a JSON body holding
// local_dc, at least one contact point and a sni_proxy_address with a port.
func FetchMetadata(ctx context.Context, tlsConfig *tls.Config, hostPort string) (*Metadata, error) {
	tr := &http.Transport{TLSClientConfig: tlsConfig.Clone(), DisableKeepAlives: true, ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+hostPort+MetadataPath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("metadata service %s: %w", hostPort, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("metadata service %s: %w", hostPort, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		_ = json.Unmarshal(body, &e)
		return nil, fmt.Errorf("metadata service %s: status %d: %s", hostPort, resp.StatusCode, e.Message)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("metadata service %s: content type %q, want application/json", hostPort, mt)
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("metadata service %s: malformed response: %w", hostPort, err)
	}
	ci := m.ContactInfo
	if ci.LocalDC == "" || len(ci.ContactPoints) == 0 {
		return nil, fmt.Errorf("metadata service %s: no local_dc or contact points", hostPort)
	}
	if _, _, err := net.SplitHostPort(ci.SNIProxyAddress); err != nil {
		return nil, fmt.Errorf("metadata service %s: sni_proxy_address %q: %w", hostPort, ci.SNIProxyAddress, err)
	}
	return &m, nil
}

// SNIDialer is a gocql HostDialer that reaches every node through the SNI
// proxy, sending the node's host_id as the TLS server name. The proxy's
// certificate is verified against TLS.RootCAs and TLS.ServerName (the
// bundle's config.json host), not against the host_id.
type SNIDialer struct {
	// ProxyAddr is sni_proxy_address, "host:port". Required.
	ProxyAddr string
	// TLS is the bundle's configuration (BundleTLS). ServerName is required.
	TLS *tls.Config
	// ContactPoints are host_ids used for hosts the driver knows no host_id
	// for yet (its initial contact points), in turn.
	ContactPoints []string
	// Timeout bounds the TCP connect and TLS handshake. Zero means 10 s.
	Timeout time.Duration
	next    atomic.Uint64
}

var _ gocql.HostDialer = (*SNIDialer)(nil)

// DialHost implements gocql.HostDialer.
func (d *SNIDialer) DialHost(ctx context.Context, host *gocql.HostInfo) (*gocql.DialedHost, error) {
	id := host.HostID()
	if id == "" && len(d.ContactPoints) > 0 {
		id = d.ContactPoints[int(d.next.Add(1)-1)%len(d.ContactPoints)]
	}
	return d.Dial(ctx, id)
}

// Dial connects to the node with the given host_id through the proxy. An
// empty hostID sends no server name: the proxy then picks a live node.
func (d *SNIDialer) Dial(ctx context.Context, hostID string) (*gocql.DialedHost, error) {
	if d.TLS == nil || d.TLS.ServerName == "" {
		return nil, errors.New("sni dialer: TLS with a ServerName is required")
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nd := net.Dialer{}
	raw, err := nd.DialContext(ctx, "tcp", d.ProxyAddr)
	if err != nil {
		return nil, fmt.Errorf("sni proxy %s: %w", d.ProxyAddr, err)
	}
	cfg := sniClientTLS(d.TLS, hostID)
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("sni proxy %s (host_id %s): %w", d.ProxyAddr, hostID, err)
	}
	return &gocql.DialedHost{Conn: tc, DisableCoalesce: true}, nil
}

// sniClientTLS sends hostID as SNI while verifying the certificate
// against base.ServerName. crypto/tls verifies against the SNI value, so
// its check is replaced (not skipped) by an equivalent one in
// VerifyConnection.
func sniClientTLS(base *tls.Config, hostID string) *tls.Config {
	cfg := base.Clone()
	name, roots := base.ServerName, base.RootCAs
	cfg.ServerName = hostID
	cfg.InsecureSkipVerify = true // replaced by VerifyConnection below
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("proxy sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
		return err
	}
	return cfg
}

// ClusterConfig prepares a gocql v2 cluster configuration that connects
// through the gateway named in b's config.json, exactly like the DataStax
// drivers' bundle mode: it fetches /metadata, pins local_dc as the local
// datacenter (token-aware, DC-aware round robin) and dials every node
// through the SNI proxy. Set an Authenticator before CreateSession.
func ClusterConfig(ctx context.Context, b *scb.Bundle) (*gocql.ClusterConfig, *Metadata, error) {
	tc, cc, err := BundleTLS(b)
	if err != nil {
		return nil, nil, err
	}
	md, err := FetchMetadata(ctx, tc, net.JoinHostPort(cc.Host, strconv.Itoa(cc.Port)))
	if err != nil {
		return nil, nil, err
	}
	// The driver needs addresses for its initial contact points; they are
	// never dialled (SNIDialer maps them to the metadata contact points).
	placeholders := make([]string, len(md.ContactInfo.ContactPoints))
	for i := range placeholders {
		placeholders[i] = "0.0.0." + strconv.Itoa(i+1)
	}
	_, portStr, _ := net.SplitHostPort(md.ContactInfo.SNIProxyAddress)
	port, _ := strconv.Atoi(portStr)
	cluster := gocql.NewCluster(placeholders...)
	if port > 0 {
		cluster.Port = port
	}
	cluster.HostDialer = &SNIDialer{ProxyAddr: md.ContactInfo.SNIProxyAddress, TLS: tc, ContactPoints: md.ContactInfo.ContactPoints}
	cluster.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.DCAwareRoundRobinPolicy(md.ContactInfo.LocalDC))
	cluster.Consistency = gocql.LocalQuorum
	cluster.Timeout = 10 * time.Second
	cluster.ConnectTimeout = 10 * time.Second
	return cluster, md, nil
}
