package scb

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"errors"
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

// decodePFX reads a PKCS#12 file. checkPFXWork bounds the work first:
// go-pkcs12 honours any iteration count the file states.
func decodePFX(data []byte, password string) (crypto.PrivateKey, []*x509.Certificate, error) {
	if err := checkPFXWork(data, password); err != nil {
		return nil, nil, err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, nil, err
	}
	return key, append([]*x509.Certificate{leaf}, cas...), nil
}

// decodeIdentityJKS reads the PrivateKeyEntry of an identity keystore.
func decodeIdentityJKS(data []byte, password string) (crypto.PrivateKey, []*x509.Certificate, error) {
	if err := checkJKSStructure(data); err != nil {
		return nil, nil, err
	}
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
	if err := checkJKSStructure(data); err != nil {
		return nil, err
	}
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

// checkJKSStructure walks a JKS file and checks every length and count
// against the bytes actually present. keystore-go allocates whatever a
// length or count field says before reading (a 41-byte file can ask for
// 160 GiB and kill the process with a fatal out-of-memory error), so
// untrusted stores go through this first.
func checkJKSStructure(data []byte) error {
	bad := errors.New("malformed Java keystore")
	r := data
	take := func(n uint64) bool {
		if uint64(len(r)) < n {
			return false
		}
		r = r[n:]
		return true
	}
	u32 := func() (uint64, bool) {
		if len(r) < 4 {
			return 0, false
		}
		v := binary.BigEndian.Uint32(r)
		r = r[4:]
		return uint64(v), true
	}
	u16 := func() (uint64, bool) {
		if len(r) < 2 {
			return 0, false
		}
		v := binary.BigEndian.Uint16(r)
		r = r[2:]
		return uint64(v), true
	}
	magic, ok := u32()
	if !ok || magic != 0xFEEDFEED {
		return bad
	}
	version, ok := u32()
	if !ok || version != 1 && version != 2 {
		return bad
	}
	cert := func() bool {
		if version == 2 {
			if n, ok := u16(); !ok || !take(n) {
				return false
			}
		}
		n, ok := u32()
		return ok && take(n)
	}
	entries, ok := u32()
	if !ok {
		return bad
	}
	for range entries {
		tag, ok := u32()
		if !ok {
			return bad
		}
		if n, ok := u16(); !ok || !take(n) || !take(8) { // alias, creation time
			return bad
		}
		switch tag {
		case 1: // private key entry: protected key, then the chain
			n, ok := u32()
			if !ok || !take(n) {
				return bad
			}
			certs, ok := u32()
			if !ok || certs > uint64(len(r))/4 {
				return bad
			}
			for range certs {
				if !cert() {
					return bad
				}
			}
		case 2: // trusted certificate entry
			if !cert() {
				return bad
			}
		default:
			return bad
		}
	}
	if len(r) < sha1.Size { // the keyed digest; keystore-go ignores anything after it
		return bad
	}
	return nil
}
