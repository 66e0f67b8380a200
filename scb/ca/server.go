package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
)

// ServerRequest asks for a server certificate for a Cassandra node or an
// scbkit gateway.
type ServerRequest struct {
	// Hosts are DNS names and IP addresses; each becomes a SAN. The first is
	// also the subject common name (some drivers still look at it). At
	// least one is required.
	Hosts []string
	// KeyType of the new key. Empty means scb.DefaultKeyType.
	KeyType scb.KeyType
	// Validity of the certificate. Zero means one year.
	Validity time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the entropy source for the key. Nil means crypto/rand.
	Rand io.Reader
}

// ServerCertificate is an issued server certificate with its private key.
type ServerCertificate struct {
	// Chain is the leaf followed by its intermediates.
	Chain []*x509.Certificate
	// Roots verify the chain.
	Roots []*x509.Certificate
	// Key is the private key; it never prints itself.
	Key crypto.Signer
}

// String describes the certificate without key material.
func (s *ServerCertificate) String() string {
	return fmt.Sprintf("server certificate %q (key redacted)", s.Chain[0].Subject.CommonName)
}

// IssueServer creates a key and a serverAuth certificate for req.Hosts from
// any scb.CA.
func IssueServer(ctx context.Context, issuer scb.CA, req ServerRequest) (*ServerCertificate, error) {
	if len(req.Hosts) == 0 {
		return nil, errors.New("a server certificate needs at least one host name or IP address")
	}
	var dns []string
	var ips []net.IP
	for _, h := range req.Hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if err := checkDNSName(h); err != nil {
			return nil, err
		}
		dns = append(dns, strings.ToLower(h))
	}
	kt := req.KeyType
	if kt == "" {
		kt = scb.DefaultKeyType
	}
	if _, err := scb.ParseCertificateKeyType(string(kt)); err != nil {
		return nil, err
	}
	validity := req.Validity
	if validity == 0 {
		validity = 365 * 24 * time.Hour
	}
	if validity < 0 {
		return nil, fmt.Errorf("validity must be positive, got %s", validity)
	}
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	key, err := kt.GenerateKey(req.Rand)
	if err != nil {
		return nil, fmt.Errorf("generate server key: %w", err)
	}
	t := now().UTC()
	chain, err := issuer.Issue(ctx, &scb.CertificateRequest{
		PublicKey:   key.Public(),
		Subject:     pkix.Name{CommonName: strings.TrimSpace(req.Hosts[0])},
		DNSNames:    dns,
		IPAddresses: ips,
		Usage:       scb.UsageServer,
		NotBefore:   t.Add(-clockSkew),
		NotAfter:    t.Add(validity),
	})
	if err != nil {
		return nil, err
	}
	roots, err := issuer.Roots(ctx)
	if err != nil {
		return nil, err
	}
	return &ServerCertificate{Chain: chain, Roots: roots, Key: key}, nil
}

func checkDNSName(h string) error {
	// A wildcard is allowed as the whole first label only.
	if !scb.ValidDNSName(strings.TrimPrefix(h, "*.")) {
		return fmt.Errorf("invalid host name %q: want a DNS name or an IP address", h)
	}
	return nil
}

// Server file names written by WriteFiles.
const (
	ServerCertFile = "server-cert.pem" // leaf + intermediates
	ServerKeyFile  = "server-key.pem"  // PKCS#8
	ServerCAFile   = "ca-cert.pem"     // roots: use as the node's truststore
)

// WriteFiles writes the certificate chain, the PKCS#8 key (encrypted when
// passphrase is non-empty) and the roots into dir, creating it 0700. Files
// are 0600. Existing files are replaced only when overwrite is true; on
// error, files written by this call are removed.
func (s *ServerCertificate) WriteFiles(dir string, passphrase []byte, overwrite bool) (err error) {
	if err := atomicfile.MkdirPrivate(dir); err != nil {
		return err
	}
	key, err := scb.MarshalPrivateKeyPEM(s.Key, passphrase)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{ServerKeyFile, key},
		{ServerCertFile, scb.EncodeCertificatesPEM(s.Chain...)},
		{ServerCAFile, scb.EncodeCertificatesPEM(s.Roots...)},
	}
	if !overwrite {
		for _, f := range files {
			if atomicfile.Exists(filepath.Join(dir, f.name)) {
				return fmt.Errorf("%s: %w", filepath.Join(dir, f.name), atomicfile.ErrExists)
			}
		}
	}
	var written []string
	defer func() {
		if err != nil && !overwrite {
			for _, w := range written {
				atomicfile.Remove(w)
			}
		}
	}()
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err = atomicfile.WriteFile(p, f.data, 0o600, overwrite); err != nil {
			return err
		}
		written = append(written, p)
	}
	return nil
}
