package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"

	"github.com/scbkit/scbkit/scb"
)

// Algorithm names a signature algorithm by its JOSE (RFC 7518 / RFC 8037)
// name, which is also what the "alg" member of a key-set entry holds.
type Algorithm string

// Supported algorithms. The algorithm follows from the key; there is no
// choice to make at signing time.
const (
	// ES256 is ECDSA on P-256 over SHA-256, the default. Signatures are
	// ASN.1 DER (SEQUENCE of two INTEGERs), not the fixed-width JOSE form.
	ES256 Algorithm = "ES256"
	// ES384 is ECDSA on P-384 over SHA-384, DER-encoded.
	ES384 Algorithm = "ES384"
	// EdDSA is pure Ed25519 (RFC 8032), over the message itself: not
	// Ed25519ph.
	EdDSA Algorithm = "EdDSA"
	// PS256 is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt,
	// for 3072- and 4096-bit keys.
	PS256 Algorithm = "PS256"
)

// SigningKeyTypes are the key types that may sign bundles.
var SigningKeyTypes = []scb.KeyType{scb.KeyECDSAP256, scb.KeyECDSAP384, scb.KeyEd25519, scb.KeyRSA3072, scb.KeyRSA4096}

// AlgorithmOf returns the algorithm used with pub, or an error wrapping
// ErrUnsupportedKey if pub is not a P-256, P-384, Ed25519 or 3072/4096-bit
// RSA public key.
func AlgorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			break
		}
		switch p.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		}
		return "", fmt.Errorf("%w: ECDSA curve %s (use P-256 or P-384)", ErrUnsupportedKey, p.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(p) == ed25519.PublicKeySize {
			return EdDSA, nil
		}
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			break
		}
		if bits := p.N.BitLen(); bits != 3072 && bits != 4096 {
			return "", fmt.Errorf("%w: %d-bit RSA key (use 3072 or 4096 bits)", ErrUnsupportedKey, bits)
		}
		return PS256, nil
	}
	return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// hash returns the digest algorithm of a, or 0 for EdDSA, which signs the
// message itself.
func (a Algorithm) hash() crypto.Hash {
	switch a {
	case ES256, PS256:
		return crypto.SHA256
	case ES384:
		return crypto.SHA384
	}
	return 0
}

// KeyID returns the key identifier of pub: the lower-case hexadecimal
// SHA-256 of its DER-encoded SubjectPublicKeyInfo. It fails with
// ErrUnsupportedKey for keys AlgorithmOf rejects.
func KeyID(pub crypto.PublicKey) (string, error) {
	if _, err := AlgorithmOf(pub); err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}
