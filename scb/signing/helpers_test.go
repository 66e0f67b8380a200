package signing_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/signing"
)

var (
	keysOnce sync.Once
	keys     map[scb.KeyType]crypto.Signer
	keysErr  error
)

// testKey returns one key per type for the whole test binary (RSA keys
// take seconds to generate).
func testKey(t testing.TB, kt scb.KeyType) crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		keys = map[scb.KeyType]crypto.Signer{}
		for _, kt := range signing.SigningKeyTypes {
			var k crypto.Signer
			if k, keysErr = signing.GenerateKey(kt); keysErr != nil {
				return
			}
			keys[kt] = k
		}
	})
	require.NoError(t, keysErr)
	return keys[kt]
}

func newSigner(t testing.TB, k crypto.Signer) signing.Signer {
	t.Helper()
	s, err := signing.NewSigner(k)
	require.NoError(t, err)
	return s
}

func keySet(t testing.TB, ks ...signing.TrustedKey) *signing.KeySet {
	t.Helper()
	s, err := signing.NewKeySet(ks...)
	require.NoError(t, err)
	return s
}

func trusted(k crypto.Signer) signing.TrustedKey { return signing.TrustedKey{Public: k.Public()} }

func keyID(t testing.TB, k crypto.Signer) string {
	t.Helper()
	id, err := signing.KeyID(k.Public())
	require.NoError(t, err)
	return id
}

var genTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// testBundle builds a small, complete bundle at genTime.
func testBundle(t testing.TB) *scb.Bundle {
	t.Helper()
	now := func() time.Time { return genTime }
	c, err := ca.New(ca.Config{Now: now})
	require.NoError(t, err)
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c1", ClientID: "app", CA: c, Now: now})
	require.NoError(t, err)
	return b
}

// opaque hides the concrete key type, as a KMS or HSM key would.
type opaque struct{ k crypto.Signer }

func (o opaque) Public() crypto.PublicKey { return o.k.Public() }
func (o opaque) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, opts)
}

// p1363 is a broken device that returns raw r||s ECDSA signatures.
type p1363 struct{ k *ecdsa.PrivateKey }

func (p p1363) Public() crypto.PublicKey { return p.k.Public() }
func (p p1363) Sign(r io.Reader, d []byte, _ crypto.SignerOpts) ([]byte, error) {
	rr, ss, err := ecdsa.Sign(r, p.k, d)
	if err != nil {
		return nil, err
	}
	n := (p.k.Curve.Params().BitSize + 7) / 8
	return append(rr.FillBytes(make([]byte, n)), ss.FillBytes(make([]byte, n))...), nil
}

// ed25519ph is a broken device that signs pre-hashed.
type ed25519ph struct{ k ed25519.PrivateKey }

func (p ed25519ph) Public() crypto.PublicKey { return p.k.Public() }
func (p ed25519ph) Sign(r io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	h := crypto.SHA512.New()
	h.Write(msg)
	return p.k.Sign(r, h.Sum(nil), &ed25519.Options{Hash: crypto.SHA512})
}

// stdSigner is a user's own Signer written with the standard library only.
type stdSigner struct{ k ed25519.PrivateKey }

func (s stdSigner) Public() crypto.PublicKey { return s.k.Public() }
func (s stdSigner) SignPAE(ctx context.Context, pae []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ed25519.Sign(s.k, pae), nil
}

// privateParts renders the secret parts of k the ways a careless String
// method might.
func privateParts(k crypto.Signer) []string {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		raw, err := k.Bytes()
		if err != nil {
			panic(err)
		}
		d := new(big.Int).SetBytes(raw)
		return []string{d.String(), d.Text(16)}
	case ed25519.PrivateKey:
		return []string{hex.EncodeToString(k.Seed()), fmt.Sprint([]byte(k.Seed()))}
	case *rsa.PrivateKey:
		return []string{k.D.String(), k.D.Text(16), k.Primes[0].String()}
	}
	return nil
}
