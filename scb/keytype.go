package scb

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"strings"
)

// KeyType names a private-key algorithm and size.
type KeyType string

// Supported key types. ECDSA P-256 is the default: every driver, JVM, .NET
// runtime and browser accepts it and it is the fastest to generate.
const (
	KeyECDSAP256 KeyType = "ecdsa-p256"
	KeyECDSAP384 KeyType = "ecdsa-p384"
	KeyRSA2048   KeyType = "rsa-2048"
	KeyRSA3072   KeyType = "rsa-3072"
	KeyRSA4096   KeyType = "rsa-4096"
	// KeyEd25519 is accepted for signing keys only: Cassandra's PEM support
	// and several drivers cannot use Ed25519 TLS certificates.
	KeyEd25519 KeyType = "ed25519"
)

// DefaultKeyType is used when a request leaves the key type empty.
const DefaultKeyType = KeyECDSAP256

// CertificateKeyTypes lists the key types allowed for TLS certificates.
var CertificateKeyTypes = []KeyType{KeyECDSAP256, KeyECDSAP384, KeyRSA2048, KeyRSA3072, KeyRSA4096}

// ParseKeyType parses a key-type name such as "ecdsa-p256". The empty string
// gives DefaultKeyType. Unknown names give an error listing the valid ones.
func ParseKeyType(s string) (KeyType, error) {
	if s == "" {
		return DefaultKeyType, nil
	}
	k := KeyType(strings.ToLower(strings.TrimSpace(s)))
	for _, c := range append(CertificateKeyTypes, KeyEd25519) {
		if k == c {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown key type %q (valid: %s)", s, joinKeyTypes(append(CertificateKeyTypes, KeyEd25519)))
}

// ParseCertificateKeyType is ParseKeyType restricted to CertificateKeyTypes.
func ParseCertificateKeyType(s string) (KeyType, error) {
	k, err := ParseKeyType(s)
	if err != nil {
		return "", fmt.Errorf("unknown key type %q (valid: %s)", s, joinKeyTypes(CertificateKeyTypes))
	}
	if k == KeyEd25519 {
		return "", fmt.Errorf("key type %q cannot be used for TLS certificates (valid: %s)", s, joinKeyTypes(CertificateKeyTypes))
	}
	return k, nil
}

func joinKeyTypes(ks []KeyType) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// GenerateKey creates a new private key of type k using rnd (crypto/rand
// when nil). RSA generation takes 70 ms to over a second; keep it off
// latency-sensitive paths.
func (k KeyType) GenerateKey(rnd io.Reader) (crypto.Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch k {
	case KeyECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rnd)
	case KeyRSA2048:
		return rsa.GenerateKey(rnd, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rnd, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rnd, 4096)
	case KeyEd25519:
		_, priv, err := ed25519.GenerateKey(rnd)
		return priv, err
	}
	return nil, fmt.Errorf("unknown key type %q", string(k))
}

// KeyTypeOf reports the KeyType of a public key, or "" if it is none of the
// supported ones.
func KeyTypeOf(pub crypto.PublicKey) KeyType {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return KeyECDSAP256
		case elliptic.P384():
			return KeyECDSAP384
		}
	case *rsa.PublicKey:
		switch p.N.BitLen() {
		case 2048:
			return KeyRSA2048
		case 3072:
			return KeyRSA3072
		case 4096:
			return KeyRSA4096
		}
	case ed25519.PublicKey:
		return KeyEd25519
	}
	return ""
}
