package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// A Signer makes DSSE signatures with one private key. Implementations
// must be safe for concurrent use.
//
// Public returns the public key, which must be one AlgorithmOf accepts;
// the key id written next to each signature is KeyID(Public()).
//
// SignPAE returns the signature over pae, the DSSE pre-authentication
// encoding of the payload (see PAE), in the encoding of the key's
// algorithm: for ES256/ES384 an ASN.1 DER ECDSA signature over the
// SHA-256/SHA-384 digest of pae; for EdDSA a pure Ed25519 signature over
// pae itself; for PS256 an RSASSA-PSS signature over SHA-256(pae) with
// MGF1-SHA-256 and a 32-byte salt. It returns ctx.Err() if ctx is done
// before signing starts, and the key's error otherwise (for a remote key,
// whatever the KMS or HSM reported).
//
// NewSigner wraps any crypto.Signer; implement Signer yourself only when a
// signing service does not fit behind crypto.Signer. The signingtest
// package checks an implementation against this contract.
type Signer interface {
	Public() crypto.PublicKey
	SignPAE(ctx context.Context, pae []byte) ([]byte, error)
}

// NewSigner returns a Signer for key. In-memory *ecdsa.PrivateKey,
// ed25519.PrivateKey and *rsa.PrivateKey keys sign through
// github.com/sigstore/sigstore's signature package; any other
// crypto.Signer (a KMS, an HSM, a smart card) is called through its Sign
// method with the hash and options of its algorithm, and every signature
// it returns is verified before use, so a device that returns the wrong
// encoding fails loudly instead of producing bundles nobody can verify.
//
// It fails with ErrUnsupportedKey if key.Public() is not a supported key.
// The returned Signer never prints key material (String, Format,
// MarshalJSON and LogValue show only the algorithm and key id).
func NewSigner(key crypto.Signer) (Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
	}
	pub := key.Public()
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return nil, err
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	s := &keySigner{pub: pub, alg: alg, keyID: id}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		sv, err := signature.LoadECDSASigner(k, alg.hash())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
		}
		s.load = func() (signature.Signer, error) { return sv, nil }
	case ed25519.PrivateKey:
		// LoadED25519Signer is pure Ed25519. signature.LoadSigner and
		// LoadDefaultSigner would pick Ed25519ph, which most other
		// languages' libraries cannot verify.
		sv, err := signature.LoadED25519Signer(k)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
		}
		s.load = func() (signature.Signer, error) { return sv, nil }
	case *rsa.PrivateKey:
		// RSAPSSSigner.SignMessage writes the hash into its shared
		// PSSOptions, so every signature gets a fresh signer to stay
		// race-free.
		s.load = func() (signature.Signer, error) {
			return signature.LoadRSAPSSSigner(k, crypto.SHA256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
	default:
		cs := &cryptoSigner{key: key, alg: alg}
		s.load = func() (signature.Signer, error) { return cs, nil }
		s.check = true
	}
	return s, nil
}

// keySigner signs through a sigstore signature.Signer and the sigstore
// DSSE adapter.
type keySigner struct {
	pub   crypto.PublicKey
	alg   Algorithm
	keyID string
	load  func() (signature.Signer, error)
	// check verifies each signature before returning it (opaque keys).
	check bool
}

var _ Signer = (*keySigner)(nil)

func (s *keySigner) Public() crypto.PublicKey { return s.pub }

func (s *keySigner) SignPAE(ctx context.Context, pae []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sv, err := s.load()
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	a := &sigdsse.SignerAdapter{SignatureSigner: sv, Pub: s.pub, PubKeyID: s.keyID}
	sig, err := a.Sign(ctx, pae)
	if err != nil {
		return nil, fmt.Errorf("sign with key %s: %w", s.keyID, err)
	}
	if s.check {
		if err := verifyRaw(s.alg, s.pub, pae, sig); err != nil {
			return nil, fmt.Errorf("key %s returned a signature that does not verify as %s (wrong hash, padding or encoding?): %w", s.keyID, s.alg, err)
		}
	}
	return sig, nil
}

// String shows the algorithm and key id, never key material.
func (s *keySigner) String() string { return fmt.Sprintf("signing.Signer{%s %s}", s.alg, s.keyID) }

// GoString is String.
func (s *keySigner) GoString() string { return s.String() }

// Format makes every verb print String.
func (s *keySigner) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// MarshalJSON shows the algorithm and key id only.
func (s *keySigner) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Alg   Algorithm `json:"alg"`
		KeyID string    `json:"keyid"`
	}{s.alg, s.keyID})
}

// LogValue shows the algorithm and key id only.
func (s *keySigner) LogValue() slog.Value {
	return slog.GroupValue(slog.String("alg", string(s.alg)), slog.String("keyid", s.keyID))
}

// cryptoSigner is a sigstore signature.Signer over an opaque
// crypto.Signer, so KMS and HSM keys go through the same DSSE adapter as
// in-memory ones.
type cryptoSigner struct {
	key crypto.Signer
	alg Algorithm
}

var _ signature.Signer = (*cryptoSigner)(nil)

func (c *cryptoSigner) PublicKey(...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return c.key.Public(), nil
}

func (c *cryptoSigner) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	msg, err := io.ReadAll(message)
	if err != nil {
		return nil, err
	}
	h := c.alg.hash()
	if h == 0 {
		return c.key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	d := h.New()
	d.Write(msg)
	digest := d.Sum(nil)
	if c.alg == PS256 {
		return c.key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	}
	return c.key.Sign(rand.Reader, digest, h)
}

// verifyRaw checks one signature over pae with pub through the sigstore
// verifiers, after the strictness checks the format requires (DER-only
// ECDSA signatures).
func verifyRaw(alg Algorithm, pub crypto.PublicKey, pae, sig []byte) error {
	var (
		v   signature.Verifier
		err error
	)
	switch alg {
	case ES256, ES384:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return errors.New("key is not an ECDSA key")
		}
		if !isDERSignature(sig) {
			return errors.New("ECDSA signature is not ASN.1 DER")
		}
		v, err = signature.LoadECDSAVerifier(k, alg.hash())
	case EdDSA:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return errors.New("key is not an Ed25519 key")
		}
		if len(sig) != ed25519.SignatureSize {
			return errors.New("Ed25519 signature has the wrong length")
		}
		v, err = signature.LoadED25519Verifier(k)
	case PS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return errors.New("key is not an RSA key")
		}
		v, err = signature.LoadRSAPSSVerifier(k, crypto.SHA256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		return fmt.Errorf("%w: algorithm %q", ErrUnsupportedKey, alg)
	}
	if err != nil {
		return err
	}
	a := &sigdsse.VerifierAdapter{SignatureVerifier: v, Pub: pub}
	return a.Verify(context.Background(), pae, sig)
}

// VerifySignature reports whether sig is a valid signature over message
// (normally a PAE) by pub, under the rules of pub's algorithm. It returns
// an error wrapping ErrUnsupportedKey for unsupported keys and
// ErrBadSignature for signatures that do not verify.
func VerifySignature(pub crypto.PublicKey, message, sig []byte) error {
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return err
	}
	if err := verifyRaw(alg, pub, message, sig); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// isDERSignature reports whether sig is exactly a DER SEQUENCE of two
// positive INTEGERs, the only ECDSA encoding the format allows.
func isDERSignature(sig []byte) bool {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &rs)
	if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return false
	}
	again, err := asn1.Marshal(rs)
	return err == nil && bytes.Equal(again, sig)
}
