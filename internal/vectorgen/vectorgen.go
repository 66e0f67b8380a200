// Package vectorgen writes the language-neutral test vectors in
// spec/vectors: signed, tampered, expired and malformed bundles, the keys
// that sign them, and vectors.json, which says for each file how to
// verify it and what the outcome must be.
//
// Generate is run by "go test ./spec -run TestVectors -update", which
// first fixes crypto/rand with testing/cryptotest.SetGlobalRandom so that
// a regeneration with the same Go release gives the same bytes. Signing
// keys are derived from fixed seeds (ECDSA, Ed25519) or, once generated,
// read back from keys/private/, so key ids never change.
package vectorgen

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/signing"
)

// Fixed times. Bundles are generated at GeneratedAt; vectors are verified
// at VerifyAt unless they say otherwise.
var (
	GeneratedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	VerifyAt    = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	// RetiredKeyExpires is the end of the retired key's window.
	RetiredKeyExpires = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	retiredKeyFrom    = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// currentKeyFrom is the start of the rotation key's window.
	currentKeyFrom = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
)

// Index is vectors.json.
type Index struct {
	Format      string             `json:"format"`
	Description []string           `json:"description"`
	Spec        string             `json:"spec"`
	GeneratedBy string             `json:"generated_by"`
	Defaults    Defaults           `json:"defaults"`
	Outcomes    map[string]string  `json:"outcomes"`
	Checks      []string           `json:"checks"`
	Keys        []Key              `json:"keys"`
	Vectors     []Vector           `json:"vectors"`
	KeySets     map[string]KeySetF `json:"key_sets"`
}

// Defaults documents the values every vector spells out again.
type Defaults struct {
	Limits               Limits `json:"limits"`
	ExpiryWarningSeconds int64  `json:"expiry_warning_seconds"`
	Threshold            int    `json:"threshold"`
}

// Limits are the archive limits a verifier must apply.
type Limits struct {
	MaxFiles     int   `json:"max_files"`
	MaxFileSize  int64 `json:"max_file_size"`
	MaxTotalSize int64 `json:"max_total_size"`
}

// Key describes one key used by the vectors.
type Key struct {
	Name        string  `json:"name"`
	Alg         string  `json:"alg"`
	KeyID       string  `json:"keyid"`
	PublicPEM   string  `json:"public_pem"`
	PrivatePEM  string  `json:"private_pem_test_only"`
	InTrusted   bool    `json:"in_trusted_key_set"`
	NotBefore   *string `json:"nbf,omitempty"`
	Expires     *string `json:"exp,omitempty"`
	Description string  `json:"description"`
}

// KeySetF names a trusted key file.
type KeySetF struct {
	File        string   `json:"file"`
	Description string   `json:"description"`
	Keys        []string `json:"keys"`
}

// Vector is one test case.
type Vector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	File        string `json:"file"`
	// DetachedSignature is a file to check as the archive's detached
	// signature, or null: only the named file is checked, never one found
	// by name.
	DetachedSignature *string `json:"detached_signature"`
	// TrustedKeys is a key-set file, or null for "no trusted keys".
	TrustedKeys *string `json:"trusted_keys"`
	Threshold   int     `json:"threshold"`
	VerifyAt    string  `json:"verify_at"`
	Limits      Limits  `json:"limits"`
	Expect      Expect  `json:"expect"`
}

// Expect is a vector's expected outcome.
type Expect struct {
	Outcome string `json:"outcome"`
	// Check is the first failing check, or null when valid.
	Check *string `json:"check"`
	// Signers are the trusted key ids whose manifest signatures counted,
	// in envelope order (valid, signed vectors only).
	Signers []string `json:"signers,omitempty"`
}

// DefaultLimits are scb's defaults, which every vector uses.
var DefaultLimits = Limits{MaxFiles: 1000, MaxFileSize: 8 << 20, MaxTotalSize: 64 << 20}

type gen struct {
	dir     string
	keys    map[string]crypto.Signer
	keyInfo []Key
	index   *Index
	ca      *ca.Local
	otherCA *ca.Local
}

func str(s string) *string { return &s }

// Generate (re)writes the corpus in dir (spec/vectors). Files it does not
// write are left alone, except that bundles/ is emptied first. reseed, when
// not nil, is called once the keys exist and before anything else is
// generated; the test uses it to restart its fixed random stream, so the
// bundles do not depend on whether the keys were generated or read back.
func Generate(dir string, reseed func()) error {
	g := &gen{dir: dir, keys: map[string]crypto.Signer{}}
	if err := os.RemoveAll(filepath.Join(dir, "bundles")); err != nil {
		return err
	}
	for _, d := range []string{"bundles", "keys/private"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := g.makeKeys(); err != nil {
		return err
	}
	if reseed != nil {
		reseed()
	}
	now := func() time.Time { return GeneratedAt }
	var err error
	if g.ca, err = ca.New(ca.Config{Name: "scbkit test vectors", Now: now}); err != nil {
		return err
	}
	if g.otherCA, err = ca.New(ca.Config{Name: "unrelated", Now: now}); err != nil {
		return err
	}
	g.index = &Index{
		Format: "scbkit-test-vectors/1",
		Description: []string{
			"Language-neutral test vectors for secure connection bundles (spec/bundle-format.md).",
			"For each vector: read 'file' (and 'detached_signature' when not null), verify it with the trusted keys in 'trusted_keys' (null: none),",
			"at time 'verify_at', with the archive 'limits' and signature 'threshold' given, and compare with 'expect'.",
			"'expect.outcome' is 'valid' or the outcome class of the first failing check in the order of 'checks'; 'expect.check' names that check.",
			"Private keys under keys/private are for tests only and are published on purpose.",
		},
		Spec:        "../bundle-format.md",
		GeneratedBy: "go test ./spec -run TestVectors -update",
		Defaults:    Defaults{Limits: DefaultLimits, ExpiryWarningSeconds: int64((30 * 24 * time.Hour).Seconds()), Threshold: 1},
		Outcomes:    outcomes,
		Checks:      []string{"detached_signature", "archive", "completeness", "signature", "manifest", "chain", "validity", "consistency"},
		Keys:        g.keyInfo,
		KeySets: map[string]KeySetF{
			"trusted":  {File: "keys/trusted.jwks.json", Description: "JWKS with every trusted key; retired-p256 and current-p384 carry nbf/exp windows", Keys: []string{"signer-p256", "signer-ed25519", "current-p384", "signer-rsa3072", "retired-p256"}},
			"p256-pem": {File: "keys/signer-p256.pub.pem", Description: "the single key signer-p256 as a PEM SubjectPublicKeyInfo", Keys: []string{"signer-p256"}},
		},
	}
	if err := g.bundles(); err != nil {
		return err
	}
	if err := g.archives(); err != nil {
		return err
	}
	return g.write("vectors.json", encodeJSON(g.index))
}

var outcomes = map[string]string{
	"valid":                "every check passed (warnings allowed)",
	"error":                "verification could not run (unreadable input, no trusted keys where a signature is required)",
	"malformed_archive":    "not a readable zip or tar.gz, a duplicate entry, or a corrupt entry",
	"unsafe_path":          "an entry name is absolute, contains '..', '.', an empty element, a backslash, a drive letter or a control character",
	"too_large":            "an entry (by its declared or actual size), the number of entries or the total size exceeds the limits",
	"unsupported_entry":    "an entry is a symbolic or hard link, device, FIFO or other non-regular file",
	"incomplete":           "a required file is missing or empty, or only some stock-driver files are present",
	"malformed_metadata":   "metadata.json does not parse or lacks required fields",
	"unsigned":             "trusted keys were given (or a detached signature required) but there is no signature",
	"malformed_signature":  "the DSSE envelope (or detached statement) is not well-formed",
	"bad_signature":        "a signature by a trusted key does not verify, the payloadType is wrong, or the signed payload is not this manifest.json",
	"unknown_signer":       "no signature (or fewer than 'threshold') is by a trusted key",
	"key_outside_validity": "the trusted keys that signed are all outside their nbf/exp window at verify_at",
	"malformed_manifest":   "manifest.json is not canonical or not well-formed",
	"digest_mismatch":      "a file differs from manifest.json, is missing from it, is not covered by it, or the archive differs from its detached statement",
	"chain_invalid":        "the client certificate does not chain to certificates/ca-cert.pem for clientAuth, or metadata names another CA",
	"expired":              "a certificate of the chain has expired at verify_at",
	"not_yet_valid":        "a certificate of the chain is not yet valid at verify_at",
	"inconsistent":         "files that hold the same certificate or key disagree",
}

func (g *gen) write(rel string, data []byte) error {
	return os.WriteFile(filepath.Join(g.dir, filepath.FromSlash(rel)), data, 0o644)
}

func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// keySpec describes a vector key.
type keySpec struct {
	name, desc string
	kt         scb.KeyType
	trusted    bool
	nbf, exp   time.Time
}

var keySpecs = []keySpec{
	{name: "signer-p256", kt: scb.KeyECDSAP256, trusted: true, desc: "the default signer: ECDSA P-256, SHA-256"},
	{name: "signer-ed25519", kt: scb.KeyEd25519, trusted: true, desc: "pure Ed25519"},
	{name: "current-p384", kt: scb.KeyECDSAP384, trusted: true, nbf: currentKeyFrom, desc: "ECDSA P-384, SHA-384; valid from 2025-02-01 (the key that replaced retired-p256)"},
	{name: "signer-rsa3072", kt: scb.KeyRSA3072, trusted: true, desc: "RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt, 3072-bit key"},
	{name: "retired-p256", kt: scb.KeyECDSAP256, trusted: true, nbf: retiredKeyFrom, exp: RetiredKeyExpires, desc: "trusted only until 2025-03-01 (exp)"},
	{name: "untrusted-ed25519", kt: scb.KeyEd25519, trusted: false, desc: "in no trusted key set"},
}

// seedKey derives a deterministic ECDSA or Ed25519 key from name.
func seedKey(name string, kt scb.KeyType) (crypto.Signer, error) {
	seed := sha256.Sum256([]byte("scbkit test vector key " + name))
	switch kt {
	case scb.KeyEd25519:
		return ed25519.NewKeyFromSeed(seed[:]), nil
	case scb.KeyECDSAP256:
		return ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:])
	case scb.KeyECDSAP384:
		s := sha256.Sum256(seed[:])
		return ecdsa.ParseRawPrivateKey(elliptic.P384(), append(seed[:], s[:16]...))
	}
	return signing.GenerateKey(kt)
}

func (g *gen) makeKeys() error {
	var trustedKeys []signing.TrustedKey
	for _, ks := range keySpecs {
		priv := "keys/private/" + ks.name + ".key.pem"
		var k crypto.Signer
		if data, err := os.ReadFile(filepath.Join(g.dir, priv)); err == nil {
			if k, err = signing.ParsePrivateKey(data, nil); err != nil {
				return fmt.Errorf("%s: %w", priv, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		} else if k, err = seedKey(ks.name, ks.kt); err != nil {
			return err
		}
		g.keys[ks.name] = k
		data, err := signing.EncodePrivateKey(k, signing.PrivateKeyEncoding{InsecureUnencrypted: true})
		if err != nil {
			return err
		}
		if err := g.write(priv, data); err != nil {
			return err
		}
		pubName := "keys/" + ks.name + ".pub.pem"
		pub, err := signing.EncodePublicKeyPEM(k.Public())
		if err != nil {
			return err
		}
		if err := g.write(pubName, pub); err != nil {
			return err
		}
		id, _ := signing.KeyID(k.Public())
		alg, _ := signing.AlgorithmOf(k.Public())
		info := Key{Name: ks.name, Alg: string(alg), KeyID: id, PublicPEM: pubName, PrivatePEM: priv, InTrusted: ks.trusted, Description: ks.desc}
		if !ks.nbf.IsZero() {
			info.NotBefore = str(ks.nbf.Format(time.RFC3339))
		}
		if !ks.exp.IsZero() {
			info.Expires = str(ks.exp.Format(time.RFC3339))
		}
		g.keyInfo = append(g.keyInfo, info)
		if ks.trusted {
			trustedKeys = append(trustedKeys, signing.TrustedKey{Public: k.Public(), NotBefore: ks.nbf, Expires: ks.exp})
		}
	}
	set, err := signing.NewKeySet(trustedKeys...)
	if err != nil {
		return err
	}
	return g.write("keys/trusted.jwks.json", set.EncodeJWKS())
}

func (g *gen) keyID(name string) string {
	id, _ := signing.KeyID(g.keys[name].Public())
	return id
}

func (g *gen) build(validity time.Duration) (*scb.Bundle, error) {
	return scb.Build(context.Background(), scb.Request{
		ClusterName: "vectors", ClientID: "app", Environment: "testing",
		ContactPoints: []string{"127.0.0.1:9042"}, Validity: validity,
		CA: g.ca, Now: func() time.Time { return GeneratedAt }, GeneratorVersion: "vectors",
	})
}

func (g *gen) sign(b *scb.Bundle, names ...string) error {
	for _, n := range names {
		s, err := signing.NewSigner(g.keys[n])
		if err != nil {
			return err
		}
		if err := signing.SignBundle(context.Background(), b, s); err != nil {
			return err
		}
	}
	return nil
}

// reseal recomputes manifest.json after a change and signs it with names.
func (g *gen) reseal(b *scb.Bundle, names ...string) error {
	b.Delete(scb.SignaturePath)
	if err := b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()); err != nil {
		return err
	}
	return g.sign(b, names...)
}

func (g *gen) envelope(b *scb.Bundle) (*signing.Envelope, error) {
	data, _ := b.Get(scb.SignaturePath)
	return signing.ParseEnvelope(data)
}

func clone(b *scb.Bundle) *scb.Bundle {
	c := &scb.Bundle{}
	for _, f := range b.Files() {
		c.Set(f.Path, bytes.Clone(f.Data))
	}
	return c
}

func (g *gen) writeBundle(name string, b *scb.Bundle, f scb.Format) ([]byte, error) {
	var buf bytes.Buffer
	if err := b.Encode(&buf, scb.WriteOptions{Format: f}); err != nil {
		return nil, err
	}
	return buf.Bytes(), g.write("bundles/"+name, buf.Bytes())
}

type vec struct {
	name, desc, file string
	detached         string
	keys             string // key-set file; "-" for none
	threshold        int
	at               time.Time
	outcome, check   string
	signers          []string
}

func (g *gen) add(v vec) {
	if v.keys == "" {
		v.keys = "keys/trusted.jwks.json"
	}
	if v.at.IsZero() {
		v.at = VerifyAt
	}
	if v.threshold == 0 {
		v.threshold = 1
	}
	out := Vector{
		Name: v.name, Description: v.desc, File: "bundles/" + v.file, Threshold: v.threshold,
		VerifyAt: v.at.UTC().Format(time.RFC3339), Limits: DefaultLimits,
		Expect: Expect{Outcome: v.outcome, Signers: v.signers},
	}
	if v.detached != "" {
		out.DetachedSignature = str("bundles/" + v.detached)
	}
	if v.keys != "-" {
		out.TrustedKeys = str(v.keys)
	}
	if v.check != "" {
		out.Expect.Check = str(v.check)
	}
	g.index.Vectors = append(g.index.Vectors, out)
}

func (g *gen) bundles() error {
	base, err := g.build(0)
	if err != nil {
		return err
	}
	p256, ed, p384, rsa, retired, untrusted := "signer-p256", "signer-ed25519", "current-p384", "signer-rsa3072", "retired-p256", "untrusted-ed25519"
	signedWith := func(names ...string) (*scb.Bundle, error) {
		b := clone(base)
		return b, g.sign(b, names...)
	}

	// Valid bundles.
	b, err := signedWith(p256)
	if err != nil {
		return err
	}
	validZip, err := g.writeBundle("valid-p256.zip", b, scb.FormatZip)
	if err != nil {
		return err
	}
	g.add(vec{name: "valid-p256", file: "valid-p256.zip", outcome: "valid", signers: []string{g.keyID(p256)},
		desc: "complete bundle signed by signer-p256 (ECDSA P-256)"})
	g.add(vec{name: "valid-p256-pem-key", file: "valid-p256.zip", keys: "keys/signer-p256.pub.pem", outcome: "valid", signers: []string{g.keyID(p256)},
		desc: "the same bundle, trusting a single PEM public key"})
	if _, err := g.writeBundle("valid-p256.tar.gz", b, scb.FormatTarGz); err != nil {
		return err
	}
	g.add(vec{name: "valid-p256-targz", file: "valid-p256.tar.gz", outcome: "valid", signers: []string{g.keyID(p256)},
		desc: "the same bundle as tar.gz"})
	sigP256, err := g.detached("valid-p256.zip", validZip, p256)
	if err != nil {
		return err
	}
	g.add(vec{name: "valid-p256-detached", file: "valid-p256.zip", detached: "valid-p256.zip.sig", outcome: "valid", signers: []string{g.keyID(p256)},
		desc: "the zip with its detached signature (an archive statement signed by signer-p256)"})
	g.add(vec{name: "not-yet-valid", file: "valid-p256.zip", at: GeneratedAt.Add(-30 * 24 * time.Hour), outcome: "not_yet_valid", check: "validity",
		desc: "valid-p256.zip verified a month before its certificates start"})

	b, err = signedWith(ed)
	if err != nil {
		return err
	}
	edZip, err := g.writeBundle("valid-ed25519.zip", b, scb.FormatZip)
	if err != nil {
		return err
	}
	g.add(vec{name: "valid-ed25519", file: "valid-ed25519.zip", outcome: "valid", signers: []string{g.keyID(ed)},
		desc: "complete bundle signed by signer-ed25519 (pure Ed25519 over the PAE)"})

	b, err = signedWith(p256, untrusted, p384, ed, rsa)
	if err != nil {
		return err
	}
	if _, err := g.writeBundle("valid-multi.zip", b, scb.FormatZip); err != nil {
		return err
	}
	multi := []string{g.keyID(p256), g.keyID(p384), g.keyID(ed), g.keyID(rsa)}
	g.add(vec{name: "valid-multi", file: "valid-multi.zip", outcome: "valid", signers: multi,
		desc: "signed by five keys: four trusted (P-256, P-384, Ed25519, RSA-PSS) and one unknown, which is ignored"})
	g.add(vec{name: "valid-multi-threshold-4", file: "valid-multi.zip", threshold: 4, outcome: "valid", signers: multi,
		desc: "four distinct trusted signers meet a threshold of 4"})
	g.add(vec{name: "multi-threshold-5", file: "valid-multi.zip", threshold: 5, outcome: "unknown_signer", check: "signature",
		desc: "the unknown key does not count towards a threshold of 5"})

	b, err = signedWith(retired, p384)
	if err != nil {
		return err
	}
	if _, err := g.writeBundle("rotation.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "rotation", file: "rotation.zip", outcome: "valid", signers: []string{g.keyID(p384)},
		desc: "signed by retired-p256 (window over) and current-p384 (in window): valid through current-p384"})
	g.add(vec{name: "rotation-before-cutover", file: "rotation.zip", at: time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC), outcome: "valid", signers: []string{g.keyID(retired)},
		desc: "the same bundle before current-p384's nbf: valid through retired-p256"})

	// Signature problems.
	b = clone(base)
	if _, err := g.writeBundle("unsigned.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "unsigned", file: "unsigned.zip", outcome: "unsigned", check: "signature",
		desc: "no signatures/manifest.dsse.json while trusted keys are given"})
	g.add(vec{name: "unsigned-no-keys", file: "unsigned.zip", keys: "-", outcome: "valid",
		desc: "the same bundle with no trusted keys: the signature check is skipped"})

	b, err = signedWith(untrusted)
	if err != nil {
		return err
	}
	if _, err := g.writeBundle("unknown-signer.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "unknown-signer", file: "unknown-signer.zip", outcome: "unknown_signer", check: "signature",
		desc: "signed only by untrusted-ed25519"})

	b, err = signedWith(retired)
	if err != nil {
		return err
	}
	if _, err := g.writeBundle("retired-key.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "retired-key", file: "retired-key.zip", outcome: "key_outside_validity", check: "signature",
		desc: "signed only by retired-p256, whose window ended at 2025-03-01 (exp)"})

	b, err = signedWith(p256)
	if err != nil {
		return err
	}
	if err := b.Set(scb.ReadmePath, []byte("# tampered\n")); err != nil {
		return err
	}
	if _, err := g.writeBundle("tampered-file.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "tampered-file", file: "tampered-file.zip", outcome: "digest_mismatch", check: "manifest",
		desc: "README.md changed after signing; manifest and signature untouched"})

	if err := b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()); err != nil {
		return err
	}
	if _, err := g.writeBundle("tampered-manifest.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "tampered-manifest", file: "tampered-manifest.zip", outcome: "bad_signature", check: "signature",
		desc: "README.md changed and manifest.json recomputed; the envelope still holds the old manifest"})

	b, err = signedWith(p256)
	if err != nil {
		return err
	}
	env, err := g.envelope(b)
	if err != nil {
		return err
	}
	s := env.Signatures[0].Sig
	s[len(s)-1] ^= 0x01 // inside S: the DER structure stays valid
	if err := b.Set(scb.SignaturePath, env.Encode()); err != nil {
		return err
	}
	if _, err := g.writeBundle("forged-signature.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "forged-signature", file: "forged-signature.zip", outcome: "bad_signature", check: "signature",
		desc: "the last byte of signer-p256's DER signature flipped"})

	b = clone(base)
	manifest, _ := b.Get(scb.ManifestPath)
	env = signing.NewEnvelope("application/vnd.in-toto+json", manifest)
	signer, err := signing.NewSigner(g.keys[p256])
	if err != nil {
		return err
	}
	if err := env.Sign(context.Background(), signer); err != nil {
		return err
	}
	if err := b.Set(scb.SignaturePath, env.Encode()); err != nil {
		return err
	}
	if _, err := g.writeBundle("wrong-payload-type.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "wrong-payload-type", file: "wrong-payload-type.zip", outcome: "bad_signature", check: "signature",
		desc: "a valid signature by signer-p256 over manifest.json, but with payloadType application/vnd.in-toto+json"})

	b = clone(base)
	if err := b.Set(scb.SignaturePath, []byte(`{"payloadType": "application/vnd.scbkit.manifest+json", "payload": "not base64!", "signatures": []}`+"\n")); err != nil {
		return err
	}
	if _, err := g.writeBundle("malformed-envelope.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "malformed-envelope", file: "malformed-envelope.zip", outcome: "malformed_signature", check: "signature",
		desc: "signatures/manifest.dsse.json is JSON but not a valid envelope (payload not base64, no signatures)"})

	// Content problems, each re-signed by a trusted key so that only the
	// named check fails.
	b = clone(base)
	b.Delete(scb.ReadmePath)
	if err := g.reseal(b, p256); err != nil {
		return err
	}
	if _, err := g.writeBundle("missing-file.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "missing-file", file: "missing-file.zip", outcome: "incomplete", check: "completeness",
		desc: "README.md removed, manifest recomputed and signed: the bundle is authentic but incomplete"})

	b, err = signedWith(p256)
	if err != nil {
		return err
	}
	if err := b.Set("signatures/extra.sh", []byte("#!/bin/sh\necho not covered\n")); err != nil {
		return err
	}
	if _, err := g.writeBundle("uncovered-file.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "uncovered-file", file: "uncovered-file.zip", outcome: "digest_mismatch", check: "manifest",
		desc: "an extra file under signatures/, which the manifest cannot cover"})

	b = clone(base)
	if err := b.Set(scb.CACertPath, scb.EncodeCertificatesPEM(g.otherCA.Root())); err != nil {
		return err
	}
	if err := g.reseal(b, p256); err != nil {
		return err
	}
	if _, err := g.writeBundle("foreign-ca.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "foreign-ca", file: "foreign-ca.zip", outcome: "chain_invalid", check: "chain",
		desc: "certificates/ca-cert.pem replaced by an unrelated CA; signed after the change"})

	other, err := g.build(0)
	if err != nil {
		return err
	}
	b = clone(base)
	cert, _ := other.Get(scb.CloudCertPath)
	if err := b.Set(scb.CloudCertPath, cert); err != nil {
		return err
	}
	if err := g.reseal(b, p256); err != nil {
		return err
	}
	if _, err := g.writeBundle("inconsistent.zip", b, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "inconsistent", file: "inconsistent.zip", outcome: "inconsistent", check: "consistency",
		desc: "the stock-driver 'cert' holds another client's certificate from the same CA; signed after the change"})

	expired, err := g.build(30 * 24 * time.Hour)
	if err != nil {
		return err
	}
	if err := g.sign(expired, p256); err != nil {
		return err
	}
	if _, err := g.writeBundle("expired.zip", expired, scb.FormatZip); err != nil {
		return err
	}
	g.add(vec{name: "expired", file: "expired.zip", outcome: "expired", check: "validity",
		desc: "client certificate valid for 30 days from 2025-01-01, verified at 2025-06-01"})

	// Detached signature over other bytes.
	if err := g.write("bundles/detached-mismatch.zip", edZip); err != nil {
		return err
	}
	if err := g.write("bundles/detached-mismatch.zip.sig", sigP256); err != nil {
		return err
	}
	g.add(vec{name: "detached-mismatch", file: "detached-mismatch.zip", detached: "detached-mismatch.zip.sig", outcome: "digest_mismatch", check: "detached_signature",
		desc: "a valid detached signature of valid-p256.zip next to a different (itself valid) archive: rejected before unpacking"})
	return nil
}

func (g *gen) detached(name string, archive []byte, signer string) ([]byte, error) {
	s, err := signing.NewSigner(g.keys[signer])
	if err != nil {
		return nil, err
	}
	sig, err := signing.SignArchive(context.Background(), name, archive, nil, s)
	if err != nil {
		return nil, err
	}
	return sig, g.write("bundles/"+name+".sig", sig)
}

// entry is one raw archive entry for the malformed archives.
type entry struct {
	name     string
	data     []byte
	declared uint64 // zip: declared uncompressed size, when not len(data)
	link     string // tar: symlink target
}

func rawZip(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.declared != 0 {
			// Stored entry whose headers claim a larger size.
			h := &zip.FileHeader{Name: e.name, Method: zip.Store, CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.declared, Modified: GeneratedAt}
			w, err := zw.CreateRaw(h)
			if err != nil {
				return nil, err
			}
			w.Write(e.data)
			continue
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: GeneratedAt}
		h.SetMode(0o600)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		w.Write(e.data)
	}
	err := zw.Close()
	return buf.Bytes(), err
}

func rawTarGz(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data)), ModTime: GeneratedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	err := gw.Close()
	return buf.Bytes(), err
}

func (g *gen) archives() error {
	readme := entry{name: "README.md", data: []byte("# vector\n")}
	valid, err := os.ReadFile(filepath.Join(g.dir, "bundles", "valid-p256.zip"))
	if err != nil {
		return err
	}
	cases := []struct {
		name, file, outcome, desc string
		data                      func() ([]byte, error)
	}{
		{"malformed-truncated", "malformed-truncated.zip", "malformed_archive", "valid-p256.zip cut to its first half: no central directory",
			func() ([]byte, error) { return slices.Clone(valid[:len(valid)/2]), nil }},
		{"not-an-archive", "not-an-archive.zip", "malformed_archive", "a text file named .zip",
			func() ([]byte, error) { return []byte("this is not a bundle\n"), nil }},
		{"duplicate-entry", "duplicate-entry.zip", "malformed_archive", "two entries named README.md",
			func() ([]byte, error) {
				return rawZip([]entry{readme, {name: "README.md", data: []byte("# second\n")}})
			}},
		{"path-traversal", "path-traversal.zip", "unsafe_path", "an entry named ../evil",
			func() ([]byte, error) { return rawZip([]entry{readme, {name: "../evil", data: []byte("x")}}) }},
		{"absolute-path", "absolute-path.zip", "unsafe_path", "an entry named /etc/evil",
			func() ([]byte, error) { return rawZip([]entry{readme, {name: "/etc/evil", data: []byte("x")}}) }},
		{"backslash-path", "backslash-path.zip", "unsafe_path", `an entry named ..\evil (a Windows path separator)`,
			func() ([]byte, error) { return rawZip([]entry{readme, {name: `..\evil`, data: []byte("x")}}) }},
		{"oversized-entry", "oversized-entry.zip", "too_large", "a stored entry whose headers declare 1 GiB (it holds 16 bytes): rejected from the declared size, before reading",
			func() ([]byte, error) {
				return rawZip([]entry{readme, {name: "big.bin", data: []byte("0123456789abcdef"), declared: 1 << 30}})
			}},
		{"path-traversal-targz", "path-traversal.tar.gz", "unsafe_path", "a tar.gz entry named ../evil",
			func() ([]byte, error) { return rawTarGz([]entry{readme, {name: "../evil", data: []byte("x")}}) }},
		{"symlink-targz", "symlink.tar.gz", "unsupported_entry", "a tar.gz symbolic link named key pointing at /etc/passwd",
			func() ([]byte, error) { return rawTarGz([]entry{readme, {name: "key", link: "/etc/passwd"}}) }},
	}
	for _, c := range cases {
		data, err := c.data()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if err := g.write("bundles/"+c.file, data); err != nil {
			return err
		}
		g.add(vec{name: c.name, file: c.file, outcome: c.outcome, check: "archive", desc: c.desc})
	}
	return nil
}
