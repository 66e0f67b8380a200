package testcluster

// This file holds all test-certificate handling of the package. The shared
// test cluster's CA is the project's own (scb/ca: a root and an issuing
// intermediate in a CA directory, created by InitCA), so its nodes run on
// server certificates issued exactly as `scb ca issue-server` issues them
// and accept the bundles `scb generate --dir <ca_dir>` makes. NewCA and
// LoadCA keep a minimal single-level CA for tests that need a foreign CA
// and for external clusters given as a certificate and key.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/scbkit/scbkit/scb"
	sca "github.com/scbkit/scbkit/scb/ca"
)

// DefaultServerHosts are the subject alternative names of the server
// certificates issued for test nodes: every node address the package uses
// plus localhost.
var DefaultServerHosts = []string{"127.0.0.1", "127.0.0.2", "localhost"}

// CA is a test certificate authority: a self-signed ECDSA P-256 root whose
// key is held in memory. It is for tests only.
type CA struct {
	// Cert is the parsed root certificate.
	Cert *x509.Certificate
	// CertPEM is Cert as a PEM "CERTIFICATE" block.
	CertPEM []byte

	key    crypto.Signer
	keyPEM []byte

	// local, when set, issues leaves through the project's CA (root +
	// intermediate); Dir is its CA directory.
	local *sca.Local
	// Dir is the scb/ca directory of a CA made by InitCA or OpenCA, usable
	// as `scb generate --dir`.
	Dir string
}

// InitCA creates a CA with the project's scb/ca package in dir (unencrypted
// keys: it is a throw-away test CA). It is valid for three years, so that
// `scb generate --dir` with any profile's default or maximum validity fits
// in it.
func InitCA(dir, commonName string) (*CA, error) {
	l, err := sca.Init(dir, sca.InitOptions{
		Config:                  sca.Config{Name: commonName, Validity: 3 * 365 * 24 * time.Hour},
		InsecureUnencryptedKeys: true,
	})
	if err != nil {
		return nil, fmt.Errorf("create test CA: %w", err)
	}
	return wrapLocal(dir, l)
}

// OpenCA opens a CA directory made by InitCA.
func OpenCA(dir string) (*CA, error) {
	l, err := sca.Open(dir, sca.OpenOptions{})
	if err != nil {
		return nil, fmt.Errorf("open test CA: %w", err)
	}
	return wrapLocal(dir, l)
}

func wrapLocal(dir string, l *sca.Local) (*CA, error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, "root-key.pem"))
	if err != nil {
		return nil, fmt.Errorf("read test CA root key: %w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("test CA root key: %w", err)
	}
	return &CA{Cert: l.Root(), CertPEM: pemCert(l.Root().Raw), key: key, keyPEM: keyPEM, local: l, Dir: dir}, nil
}

// SCB returns the CA as an scb.CA for scb.Build, or nil for a single-level
// CA from NewCA or LoadCA.
func (c *CA) SCB() scb.CA {
	if c.local == nil {
		return nil
	}
	return c.local
}

// KeyPair is a certificate issued by a CA with its private key.
type KeyPair struct {
	// Cert is the parsed leaf certificate.
	Cert *x509.Certificate
	// CertPEM holds the leaf followed by its issuer chain, without the root.
	// Roots issued by CA are self-signed, so for this package the chain is
	// just the leaf.
	CertPEM []byte
	// KeyPEM is the private key as an unencrypted PKCS#8 "PRIVATE KEY" block.
	KeyPEM []byte
}

// Validity bounds a certificate's lifetime. The zero value means "from one
// minute ago until 24 hours from now".
type Validity struct {
	NotBefore time.Time
	NotAfter  time.Time
}

func (v Validity) resolve() (time.Time, time.Time) {
	nb, na := v.NotBefore, v.NotAfter
	now := time.Now()
	if nb.IsZero() {
		nb = now.Add(-time.Minute)
	}
	if na.IsZero() {
		na = now.Add(24 * time.Hour)
	}
	return nb, na
}

// NewCA creates a new self-signed ECDSA P-256 root CA valid for 30 days.
func NewCA(commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ca key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	skid, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"scbkit test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create ca certificate: %w", err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return nil, err
	}
	return LoadCA(pemCert(der), keyPEM)
}

// LoadCA parses a CA certificate and its PKCS#8 private key from PEM. The
// certificate must be a CA certificate and the key must match it.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("ca certificate: not a CA certificate")
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, errors.New("ca key does not match the ca certificate")
	}
	return &CA{Cert: cert, CertPEM: pemCert(cert.Raw), key: key, keyPEM: keyPEM}, nil
}

// KeyPEM returns the CA's private key as a PKCS#8 PEM block. It is needed to
// hand the CA to another process (the shared test cluster state file).
func (ca *CA) KeyPEM() []byte { return append([]byte(nil), ca.keyPEM...) }

// Pool returns a certificate pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// IssueServer issues a server certificate (EKU serverAuth) for hosts, each an
// IP address or a DNS name. With no hosts it uses DefaultServerHosts.
func (ca *CA) IssueServer(hosts []string, v Validity) (*KeyPair, error) {
	if len(hosts) == 0 {
		hosts = DefaultServerHosts
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0], Organization: []string{"scbkit test"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if ca.local != nil {
		nb, na := v.resolve()
		sc, err := sca.IssueServer(context.Background(), ca.local, sca.ServerRequest{
			Hosts: hosts, Validity: na.Sub(nb), Now: func() time.Time { return nb.Add(5 * time.Minute) },
		})
		if err != nil {
			return nil, err
		}
		keyPEM, err := marshalKey(sc.Key)
		if err != nil {
			return nil, err
		}
		return &KeyPair{Cert: sc.Chain[0], CertPEM: scb.EncodeCertificatesPEM(sc.Chain...), KeyPEM: keyPEM}, nil
	}
	return ca.issue(tmpl, v)
}

// IssueClient issues a client certificate (EKU clientAuth) with the given
// common name.
func (ca *CA) IssueClient(commonName string, v Validity) (*KeyPair, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{"scbkit test"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if ca.local != nil {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		nb, na := v.resolve()
		chain, err := ca.local.Issue(context.Background(), &scb.CertificateRequest{
			PublicKey: key.Public(), Subject: tmpl.Subject, Usage: scb.UsageClient, NotBefore: nb, NotAfter: na,
		})
		if err != nil {
			return nil, fmt.Errorf("issue certificate: %w", err)
		}
		keyPEM, err := marshalKey(key)
		if err != nil {
			return nil, err
		}
		return &KeyPair{Cert: chain[0], CertPEM: scb.EncodeCertificatesPEM(chain...), KeyPEM: keyPEM}, nil
	}
	return ca.issue(tmpl, v)
}

func (ca *CA) issue(tmpl *x509.Certificate, v Validity) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = v.resolve()
	if !tmpl.NotAfter.After(tmpl.NotBefore) {
		return nil, errors.New("issue certificate: NotAfter is not after NotBefore")
	}
	tmpl.BasicConstraintsValid = true
	tmpl.AuthorityKeyId = ca.Cert.SubjectKeyId
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse issued certificate: %w", err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, CertPEM: pemCert(der), KeyPEM: keyPEM}, nil
}

// TLSCertificate returns the key pair as a tls.Certificate for use in a
// tls.Config.
func (kp *KeyPair) TLSCertificate() (tls.Certificate, error) {
	c, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load key pair: %w", err)
	}
	return c, nil
}

// String describes the key pair without its private key.
func (kp *KeyPair) String() string {
	if kp == nil || kp.Cert == nil {
		return "KeyPair(<nil>)"
	}
	return fmt.Sprintf("KeyPair(%s, serial %s)", kp.Cert.Subject.CommonName, kp.Cert.SerialNumber)
}

// String describes the CA without its private key.
func (ca *CA) String() string {
	if ca == nil || ca.Cert == nil {
		return "CA(<nil>)"
	}
	return fmt.Sprintf("CA(%s)", ca.Cert.Subject.CommonName)
}

func randomSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil
}

func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return sum[:20], nil
}

func marshalKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal pkcs#8 key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// parseCertPEM returns the first CERTIFICATE block of data.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no CERTIFICATE PEM block found")
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
			return c, nil
		}
	}
}

// parseKeyPEM parses the first PKCS#8 "PRIVATE KEY" block of data. It never
// includes key material in its errors.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PKCS#8 PRIVATE KEY PEM block found")
		}
		if b.Type != "PRIVATE KEY" {
			continue
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, errors.New("parse pkcs#8 private key: malformed key")
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}
