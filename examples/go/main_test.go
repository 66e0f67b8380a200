package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scbkit/scbkit/internal/testcluster"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

// clusterCA signs client certificates with the shared test cluster's CA.
type clusterCA struct{ c *testcluster.Cluster }

func (a clusterCA) Issue(ctx context.Context, req *scb.CertificateRequest) ([]*x509.Certificate, error) {
	key, err := scb.ParsePrivateKeyPEM(a.c.CA.KeyPEM(), nil)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: req.Subject,
		NotBefore: req.NotBefore, NotAfter: req.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if tmpl.NotAfter.After(a.c.CA.Cert.NotAfter) {
		tmpl.NotAfter = a.c.CA.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.c.CA.Cert, req.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	return []*x509.Certificate{leaf}, err
}

func (a clusterCA) Roots(context.Context) ([]*x509.Certificate, error) {
	return []*x509.Certificate{a.c.CA.Cert}, nil
}

func writeBundle(t *testing.T, c *testcluster.Cluster, contactPoints []string) string {
	t.Helper()
	b, err := scb.Build(context.Background(), scb.Request{
		ClusterName: "scbtest", ClientID: "example-go", Environment: "testing", CA: clusterCA{c},
		ContactPoints: contactPoints, LocalDatacenter: c.Nodes[0].DC,
		Credentials: &scb.Credentials{Username: c.Username, Password: c.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "scb.zip")
	if err := b.WriteFile(p, scb.WriteOptions{}, false); err != nil {
		t.Fatal(err)
	}
	return p
}

func runExample(args []string, env map[string]string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestExampleAgainstCluster(t *testing.T) {
	c := testcluster.FromEnv(t)
	if c.CA == nil {
		t.Skip("external cluster without a CA key")
	}
	path := writeBundle(t, c, c.Hosts())

	code, out, errOut := runExample([]string{"-bundle", path}, map[string]string{"SCB_PASSWORD": c.Password})
	t.Logf("stdout:\n%sstderr:\n%s", out, errOut)
	if code != 0 || !strings.Contains(out, `wrote and read back row example-go-`) || !strings.Contains(out, `"hello from example-go"`) {
		t.Fatalf("exit %d", code)
	}

	const wrong = "definitely-not-the-password"
	code, _, errOut = runExample([]string{"-bundle", path}, map[string]string{"SCB_PASSWORD": wrong})
	t.Logf("wrong password:\n%s", errOut)
	if code != 1 || !strings.Contains(errOut, "authentication failure") || strings.Contains(errOut, wrong) {
		t.Fatalf("exit %d", code)
	}
}

func TestExampleFailures(t *testing.T) {
	c := testcluster.FromEnv(t)
	if c.CA == nil {
		t.Skip("external cluster without a CA key")
	}
	closed := "127.0.0.1:1"
	code, _, errOut := runExample([]string{"-bundle", writeBundle(t, c, []string{closed}), "-timeout", "20s"}, map[string]string{"SCB_PASSWORD": c.Password})
	t.Logf("no hosts:\n%s", errOut)
	if code != 1 || !strings.Contains(errOut, "no host reachable") {
		t.Fatalf("exit %d", code)
	}

	// A bundle from a CA the cluster does not know.
	other, err := ca.New(ca.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "scbtest", ClientID: "example-go", CA: other,
		ContactPoints: c.Hosts(), LocalDatacenter: c.Nodes[0].DC})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "foreign.zip")
	if err := b.WriteFile(p, scb.WriteOptions{}, false); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runExample([]string{"-bundle", p, "-user", c.Username}, map[string]string{"SCB_PASSWORD": c.Password})
	t.Logf("foreign CA:\n%s", errOut)
	if code != 1 || !strings.Contains(errOut, "TLS failure") || !strings.Contains(errOut, "certificate signed by unknown authority") {
		t.Fatalf("exit %d", code)
	}
}

func TestExampleUsage(t *testing.T) {
	if code, _, _ := runExample(nil, nil); code != 2 {
		t.Fatalf("no -bundle: exit %d, want 2", code)
	}
	code, _, errOut := runExample([]string{"-bundle", filepath.Join(t.TempDir(), "missing.zip")}, nil)
	if code != 1 || !strings.Contains(errOut, "check the -bundle path") {
		t.Fatalf("missing bundle: exit %d: %s", code, errOut)
	}
}
