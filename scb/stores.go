package scb

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// Aliases used in the Java keystores.
const (
	IdentityAlias = "client"
	TrustAlias    = "ca"
)

// encodePFX writes key and chain as PKCS#12 protected by password.
func encodePFX(rnd io.Reader, key crypto.Signer, chain []*x509.Certificate, password string, legacy bool) ([]byte, error) {
	enc := pkcs12.Modern2023
	if legacy {
		enc = pkcs12.LegacyDES
	}
	pfx, err := enc.WithRand(rnd).Encode(key, chain[0], chain[1:], password)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12: %w", err)
	}
	return pfx, nil
}

// encodeIdentityJKS writes a real JKS keystore with one PrivateKeyEntry
// (alias "client") whose key is protected by the store password, as the
// DataStax Java driver expects.
func encodeIdentityJKS(rnd io.Reader, now time.Time, key crypto.Signer, chain []*x509.Certificate, password string) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	ks := keystore.New(keystore.WithCustomRandomNumberGenerator(rnd))
	entry := keystore.PrivateKeyEntry{CreationTime: now, PrivateKey: der}
	for _, c := range chain {
		entry.CertificateChain = append(entry.CertificateChain, keystore.Certificate{Type: "X509", Content: c.Raw})
	}
	if err := ks.SetPrivateKeyEntry(IdentityAlias, entry, []byte(password)); err != nil {
		return nil, fmt.Errorf("encode JKS: %w", err)
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		return nil, fmt.Errorf("encode JKS: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeTrustJKS writes a real JKS keystore holding each root as a
// trustedCertEntry ("ca", "ca-2", ...).
func encodeTrustJKS(rnd io.Reader, now time.Time, roots []*x509.Certificate, password string) ([]byte, error) {
	ks := keystore.New(keystore.WithCustomRandomNumberGenerator(rnd))
	for i, r := range roots {
		alias := TrustAlias
		if i > 0 {
			alias = fmt.Sprintf("%s-%d", TrustAlias, i+1)
		}
		if err := ks.SetTrustedCertificateEntry(alias, keystore.TrustedCertificateEntry{
			CreationTime: now, Certificate: keystore.Certificate{Type: "X509", Content: r.Raw},
		}); err != nil {
			return nil, fmt.Errorf("encode JKS: %w", err)
		}
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		return nil, fmt.Errorf("encode JKS: %w", err)
	}
	return buf.Bytes(), nil
}

// decodePFX reads a PKCS#12 file.
func decodePFX(data []byte, password string) (crypto.PrivateKey, []*x509.Certificate, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, nil, err
	}
	return key, append([]*x509.Certificate{leaf}, cas...), nil
}

// decodeIdentityJKS reads the PrivateKeyEntry of an identity keystore.
func decodeIdentityJKS(data []byte, password string) (crypto.PrivateKey, []*x509.Certificate, error) {
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		return nil, nil, err
	}
	e, err := ks.GetPrivateKeyEntry(IdentityAlias, []byte(password))
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	var chain []*x509.Certificate
	for _, c := range e.CertificateChain {
		cert, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, cert)
	}
	return key, chain, nil
}

// decodeTrustJKS reads every trusted certificate of a trust store.
func decodeTrustJKS(data []byte, password string) ([]*x509.Certificate, error) {
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, a := range ks.Aliases() {
		e, err := ks.GetTrustedCertificateEntry(a)
		if err != nil {
			continue
		}
		c, err := x509.ParseCertificate(e.Certificate.Content)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
