package signing_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
)

// TestInteropStandardLibraryOnly verifies envelopes written by this
// package with nothing but encoding/json and the standard crypto packages,
// computing PAE and key ids by hand from the specification: what a Java,
// Python, Node.js or .NET verifier does without sigstore.
func TestInteropStandardLibraryOnly(t *testing.T) {
	for _, kt := range []scb.KeyType{scb.KeyEd25519, scb.KeyECDSAP256, scb.KeyECDSAP384, scb.KeyRSA3072} {
		t.Run(string(kt), func(t *testing.T) {
			k := testKey(t, kt)
			b, _ := signed(t, k)
			raw, _ := b.Get(scb.SignaturePath)
			manifest, _ := b.Get(scb.ManifestPath)

			var env struct {
				PayloadType string `json:"payloadType"`
				Payload     string `json:"payload"`
				Signatures  []struct {
					KeyID string `json:"keyid"`
					Sig   string `json:"sig"`
				} `json:"signatures"`
			}
			require.NoError(t, json.Unmarshal(raw, &env))
			require.Equal(t, "application/vnd.scbkit.manifest+json", env.PayloadType)
			payload, err := base64.StdEncoding.DecodeString(env.Payload)
			require.NoError(t, err)
			require.Equal(t, manifest, payload, "payload is manifest.json byte for byte")

			pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(env.PayloadType), env.PayloadType, len(payload), payload)
			spki, err := x509.MarshalPKIXPublicKey(k.Public())
			require.NoError(t, err)
			id := sha256.Sum256(spki)
			require.Len(t, env.Signatures, 1)
			require.Equal(t, hex.EncodeToString(id[:]), env.Signatures[0].KeyID)
			sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
			require.NoError(t, err)

			switch pub := k.Public().(type) {
			case ed25519.PublicKey:
				require.True(t, ed25519.Verify(pub, pae, sig), "pure Ed25519 over PAE")
			case *ecdsa.PublicKey:
				var d []byte
				if pub.Curve.Params().BitSize == 384 {
					s := sha512.Sum384(pae)
					d = s[:]
				} else {
					s := sha256.Sum256(pae)
					d = s[:]
				}
				require.True(t, ecdsa.VerifyASN1(pub, d, sig), "DER ECDSA over the digest of PAE")
			case *rsa.PublicKey:
				d := sha256.Sum256(pae)
				require.NoError(t, rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: 32}))
			}
		})
	}
}
