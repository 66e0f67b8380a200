package spec

import (
	"archive/zip"
	"bytes"
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
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/internal/vectorgen"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
	"github.com/scbkit/scbkit/scb/verify"
)

var update = flag.Bool("update", false, "regenerate spec/vectors before checking them")

// vectorSeed fixes crypto/rand while the vectors are generated.
const vectorSeed = 20250101

func loadIndex(t *testing.T) *vectorgen.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("vectors", "vectors.json"))
	require.NoError(t, err)
	var idx vectorgen.Index
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&idx))
	return &idx
}

func vpath(rel string) string { return filepath.Join("vectors", filepath.FromSlash(rel)) }

// TestVectors checks that the Go verifier gives every committed vector its
// expected outcome. With -update it regenerates the vectors first.
func TestVectors(t *testing.T) {
	if *update {
		cryptotest.SetGlobalRandom(t, vectorSeed)
		require.NoError(t, vectorgen.Generate("vectors", func() { cryptotest.SetGlobalRandom(t, vectorSeed+1) }))
	}
	idx := loadIndex(t)
	require.Equal(t, "scbkit-test-vectors/1", idx.Format)
	require.NotEmpty(t, idx.Vectors)
	for _, v := range idx.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, v.VerifyAt)
			require.NoError(t, err)
			opts := verify.Options{
				Now:       at,
				Threshold: v.Threshold,
				Limits:    scb.Limits{MaxFiles: v.Limits.MaxFiles, MaxFileSize: v.Limits.MaxFileSize, MaxTotalSize: v.Limits.MaxTotalSize},
			}
			if v.TrustedKeys != nil {
				opts.Keys, err = signing.ReadKeySetFile(vpath(*v.TrustedKeys))
				require.NoError(t, err)
			}
			archive, err := os.ReadFile(vpath(v.File))
			require.NoError(t, err)
			var sig []byte
			if v.DetachedSignature != nil {
				sig, err = os.ReadFile(vpath(*v.DetachedSignature))
				require.NoError(t, err)
			}
			r := verify.VerifyArchive(archive, sig, opts)
			require.Equal(t, v.Expect.Outcome, string(r.Outcome()), "%s: %v", v.Description, r.Err())
			if v.Expect.Check == nil {
				require.True(t, r.OK())
			} else {
				var ve *verify.Error
				require.ErrorAs(t, r.Err(), &ve)
				require.Equal(t, *v.Expect.Check, string(ve.Check))
			}
			if v.Expect.Signers != nil {
				require.Equal(t, v.Expect.Signers, r.Signers())
			}
		})
	}
}

// TestVectorIndex checks that vectors.json is self-consistent: every file
// it names exists, every file in bundles/ is used, every outcome and check
// is documented, and every key's id is right.
func TestVectorIndex(t *testing.T) {
	idx := loadIndex(t)
	used := map[string]bool{}
	names := map[string]bool{}
	for _, v := range idx.Vectors {
		require.False(t, names[v.Name], "duplicate vector %s", v.Name)
		names[v.Name] = true
		require.NotEmpty(t, v.Description, v.Name)
		require.Contains(t, idx.Outcomes, v.Expect.Outcome, v.Name)
		if v.Expect.Check != nil {
			require.Contains(t, idx.Checks, *v.Expect.Check, v.Name)
			require.NotEqual(t, "valid", v.Expect.Outcome)
		} else {
			require.Equal(t, "valid", v.Expect.Outcome)
		}
		for _, f := range []*string{&v.File, v.DetachedSignature, v.TrustedKeys} {
			if f != nil {
				require.FileExists(t, vpath(*f))
				used[*f] = true
			}
		}
	}
	entries, err := os.ReadDir(vpath("bundles"))
	require.NoError(t, err)
	for _, e := range entries {
		require.True(t, used["bundles/"+e.Name()], "bundles/%s is not used by any vector", e.Name())
	}
	var checks []string
	for _, c := range verify.Checks {
		checks = append(checks, string(c))
	}
	require.Equal(t, checks, idx.Checks)
	for _, k := range idx.Keys {
		pub := readPEMKey(t, vpath(k.PublicPEM))
		require.Equal(t, k.KeyID, stdKeyID(t, pub), k.Name)
		priv, err := os.ReadFile(vpath(k.PrivatePEM))
		require.NoError(t, err)
		s, err := signing.ParsePrivateKey(priv, nil)
		require.NoError(t, err)
		require.Equal(t, k.KeyID, stdKeyID(t, s.Public()), k.Name)
	}
	for _, o := range []verify.Outcome{verify.OutcomeValid, verify.OutcomeError, verify.OutcomeMalformedArchive, verify.OutcomeUnsafePath,
		verify.OutcomeTooLarge, verify.OutcomeUnsupportedEntry, verify.OutcomeIncomplete, verify.OutcomeMalformedMetadata, verify.OutcomeUnsigned,
		verify.OutcomeMalformedSignature, verify.OutcomeBadSignature, verify.OutcomeUnknownSigner, verify.OutcomeKeyOutsideValidity,
		verify.OutcomeMalformedManifest, verify.OutcomeDigestMismatch, verify.OutcomeChainInvalid, verify.OutcomeExpired,
		verify.OutcomeNotYetValid, verify.OutcomeInconsistent} {
		require.Contains(t, idx.Outcomes, string(o))
	}
	require.Len(t, idx.Outcomes, 19)
}

func readPEMKey(t *testing.T, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	b, _ := pem.Decode(data)
	require.NotNil(t, b)
	require.Equal(t, "PUBLIC KEY", b.Type)
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	require.NoError(t, err)
	return pub
}

func stdKeyID(t *testing.T, pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

type stdEnvelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// stdVerify checks one envelope with the standard library only, the way
// another language's loader would, and returns the key ids that verified.
func stdVerify(t *testing.T, raw []byte, payloadType string, pubs map[string]crypto.PublicKey) (payload []byte, ok []string) {
	t.Helper()
	var env stdEnvelope
	require.NoError(t, json.Unmarshal(raw, &env))
	require.Equal(t, payloadType, env.PayloadType)
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(env.PayloadType), env.PayloadType, len(payload), payload)
	for _, s := range env.Signatures {
		pub, known := pubs[s.KeyID]
		if !known {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		require.NoError(t, err)
		var good bool
		switch pub := pub.(type) {
		case ed25519.PublicKey:
			good = ed25519.Verify(pub, pae, sig)
		case *ecdsa.PublicKey:
			var d []byte
			if pub.Curve.Params().BitSize == 384 {
				h := sha512.Sum384(pae)
				d = h[:]
			} else {
				h := sha256.Sum256(pae)
				d = h[:]
			}
			good = ecdsa.VerifyASN1(pub, d, sig)
		case *rsa.PublicKey:
			h := sha256.Sum256(pae)
			good = rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: 32}) == nil
		}
		require.True(t, good, "signature by %s", s.KeyID)
		ok = append(ok, s.KeyID)
	}
	return payload, ok
}

// TestVectorsStandardLibrary re-verifies the signed zip vectors that are
// valid with nothing but archive/zip, encoding/json and the standard
// crypto packages: evidence that the format needs no sigstore (or Go) to
// check.
func TestVectorsStandardLibrary(t *testing.T) {
	idx := loadIndex(t)
	pubs := map[string]crypto.PublicKey{}
	for _, k := range idx.Keys {
		pubs[k.KeyID] = readPEMKey(t, vpath(k.PublicPEM))
	}
	checked := 0
	for _, v := range idx.Vectors {
		if v.Expect.Outcome != "valid" || len(v.Expect.Signers) == 0 || filepath.Ext(v.File) != ".zip" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			archive, err := os.ReadFile(vpath(v.File))
			require.NoError(t, err)
			if v.DetachedSignature != nil {
				raw, err := os.ReadFile(vpath(*v.DetachedSignature))
				require.NoError(t, err)
				payload, ok := stdVerify(t, raw, "application/vnd.scbkit.archive+json", pubs)
				require.NotEmpty(t, ok)
				var st struct {
					Size   int64  `json:"size"`
					SHA256 string `json:"sha256"`
				}
				require.NoError(t, json.Unmarshal(payload, &st))
				sum := sha256.Sum256(archive)
				require.Equal(t, hex.EncodeToString(sum[:]), st.SHA256)
				require.Equal(t, int64(len(archive)), st.Size)
			}
			zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
			require.NoError(t, err)
			files := map[string][]byte{}
			for _, f := range zr.File {
				require.Equal(t, zip.Deflate, f.Method, f.Name)
				rc, err := f.Open()
				require.NoError(t, err)
				var buf bytes.Buffer
				_, err = buf.ReadFrom(rc)
				require.NoError(t, err)
				files[f.Name] = buf.Bytes()
			}
			payload, ok := stdVerify(t, files["signatures/manifest.dsse.json"], "application/vnd.scbkit.manifest+json", pubs)
			require.Equal(t, files["manifest.json"], payload)
			for _, id := range v.Expect.Signers {
				require.True(t, slices.Contains(ok, id))
			}
			var m struct {
				Files []struct {
					Path   string `json:"path"`
					Size   int64  `json:"size"`
					SHA256 string `json:"sha256"`
				} `json:"files"`
			}
			require.NoError(t, json.Unmarshal(payload, &m))
			require.Len(t, m.Files, len(files)-2)
			for _, e := range m.Files {
				sum := sha256.Sum256(files[e.Path])
				require.Equal(t, e.SHA256, hex.EncodeToString(sum[:]), e.Path)
				require.Equal(t, e.Size, int64(len(files[e.Path])), e.Path)
			}
		})
		checked++
	}
	require.GreaterOrEqual(t, checked, 5)
}
