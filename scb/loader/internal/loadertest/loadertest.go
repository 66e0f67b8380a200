// Package loadertest holds test helpers shared by package loader and the
// driver adapters: bundle factories, a scb.CA backed by the shared test
// cluster's CA, and a recording mutual-TLS proxy.
package loadertest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/scbkit/scbkit/internal/testcluster"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

// T0 is the fixed "now" of deterministic tests.
var T0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// Clock returns a function that always returns t.
func Clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// NewCA returns an in-memory two-level CA created at now (nil: real time).
func NewCA(t testing.TB, now func() time.Time) *ca.Local {
	t.Helper()
	c, err := ca.New(ca.Config{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Build builds a bundle; req.CA defaults to a new CA, ClusterName and
// ClientID to "test-cluster" and "test-client".
func Build(t testing.TB, req scb.Request) *scb.Bundle {
	t.Helper()
	if req.CA == nil {
		req.CA = NewCA(t, req.Now)
	}
	if req.ClusterName == "" {
		req.ClusterName = "test-cluster"
	}
	if req.ClientID == "" {
		req.ClientID = "test-client"
	}
	b, err := scb.Build(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Write writes b to dir/name in format f and returns the path.
func Write(t testing.TB, b *scb.Bundle, dir, name string, f scb.Format) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := b.WriteFile(p, scb.WriteOptions{Format: f}, true); err != nil {
		t.Fatal(err)
	}
	return p
}

// Remanifest recomputes manifest.json after a test changed files, so the
// change gets past the digest check and reaches later checks.
func Remanifest(t testing.TB, b *scb.Bundle) {
	t.Helper()
	if err := b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()); err != nil {
		t.Fatal(err)
	}
}

// Clone copies b.
func Clone(b *scb.Bundle) *scb.Bundle {
	c := &scb.Bundle{}
	for _, f := range b.Files() {
		c.Set(f.Path, append([]byte(nil), f.Data...))
	}
	return c
}

// RootCA is a scb.CA that signs leaves directly with a root key, like the
// shared test cluster's CA.
type RootCA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

var _ scb.CA = (*RootCA)(nil)

// ClusterCA returns the CA the test cluster's nodes trust for client
// certificates (and whose root verifies their server certificate).
func ClusterCA(t testing.TB, c *testcluster.Cluster) *RootCA {
	t.Helper()
	if c.CA == nil {
		t.Fatal("test cluster has no CA")
	}
	k, err := scb.ParsePrivateKeyPEM(c.CA.KeyPEM(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &RootCA{Cert: c.CA.Cert, Key: k}
}

// Issue implements scb.CA.
func (r *RootCA) Issue(ctx context.Context, req *scb.CertificateRequest) ([]*x509.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	eku := []x509.ExtKeyUsage{}
	if req.Usage == 0 || req.Usage&scb.UsageClient != 0 {
		eku = append(eku, x509.ExtKeyUsageClientAuth)
	}
	if req.Usage&scb.UsageServer != 0 {
		eku = append(eku, x509.ExtKeyUsageServerAuth)
	}
	na := req.NotAfter
	if na.After(r.Cert.NotAfter) {
		na = r.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: req.Subject,
		DNSNames: req.DNSNames, IPAddresses: req.IPAddresses,
		NotBefore: req.NotBefore, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.Cert, req.PublicKey, r.Key)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{c}, nil
}

// Roots implements scb.CA.
func (r *RootCA) Roots(context.Context) ([]*x509.Certificate, error) {
	return []*x509.Certificate{r.Cert}, nil
}

// TrustCA issues through Issuer but puts Roots in the bundle's
// certificates/ca-cert.pem: a bundle whose client certificate comes from one
// CA while it trusts other CAs for the server (as during a CA rotation).
type TrustCA struct {
	Issuer    scb.CA
	RootCerts []*x509.Certificate
}

// Issue implements scb.CA.
func (m *TrustCA) Issue(ctx context.Context, req *scb.CertificateRequest) ([]*x509.Certificate, error) {
	return m.Issuer.Issue(ctx, req)
}

// Roots implements scb.CA.
func (m *TrustCA) Roots(context.Context) ([]*x509.Certificate, error) {
	if len(m.RootCerts) == 0 {
		return nil, errors.New("no roots")
	}
	return m.RootCerts, nil
}
