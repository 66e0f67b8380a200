package scb_test

// Fuzz tests for every parser of untrusted input in package scb. Seeds come
// from real bundles built at start-up plus the hostile cases of
// hostile_test.go. Run one with, for example:
//
//	go test ./scb -run '^$' -fuzz FuzzDecode -fuzztime 30s

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/youmark/pkcs8"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

// fuzzBundle is one real bundle shared by the fuzzers' seed corpora.
var fuzzBundle = sync.OnceValues(func() (*scb.Bundle, error) {
	c, err := ca.New(ca.Config{})
	if err != nil {
		return nil, err
	}
	return scb.Build(context.Background(), scb.Request{ClusterName: "fuzz", ClientID: "seed", CA: c,
		ContactPoints: []string{"10.1.2.3:9042", "[::1]:9142"}})
})

func encodeFuzz(t testing.TB, b *scb.Bundle, f scb.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, b.Encode(&buf, scb.WriteOptions{Format: f, Compression: scb.CompressionFastest}))
	return buf.Bytes()
}

// fuzzLimits keep each run of FuzzDecode small.
var fuzzLimits = scb.Limits{MaxFiles: 64, MaxFileSize: 256 << 10, MaxTotalSize: 1 << 20}

func FuzzDecode(f *testing.F) {
	b, err := fuzzBundle()
	require.NoError(f, err)
	f.Add(encodeFuzz(f, b, scb.FormatZip))
	f.Add(encodeFuzz(f, b, scb.FormatTarGz))
	small := &scb.Bundle{}
	require.NoError(f, small.Set("a/b.txt", []byte("hello")))
	require.NoError(f, small.Set("c", nil))
	f.Add(encodeFuzz(f, small, scb.FormatZip))
	f.Add(encodeFuzz(f, small, scb.FormatTarGz))
	f.Add(encodeFuzz(f, &scb.Bundle{}, scb.FormatZip))
	for _, hc := range append(hostileZips(f), hostileTars(f)...) {
		if len(hc.data) < 64<<10 {
			f.Add(hc.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := scb.Decode(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			require.Nil(t, b)
			if !errors.Is(err, scb.ErrMalformedArchive) && !errors.Is(err, scb.ErrTooLarge) &&
				!errors.Is(err, scb.ErrUnsupportedEntry) && !errors.Is(err, scb.ErrUnsafePath) {
				t.Fatalf("rejection without a documented sentinel: %v", err)
			}
			return
		}
		checkWithinLimits(t, b, fuzzLimits)
		// Whatever is accepted survives a round trip through both
		// streaming formats unchanged.
		for _, format := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
			var buf bytes.Buffer
			require.NoError(t, b.Encode(&buf, scb.WriteOptions{Format: format}), "re-encode as %s", format)
			again, err := scb.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), fuzzLimits)
			require.NoError(t, err, "decode re-encoded %s", format)
			requireSameFiles(t, b, again)
		}
	})
}

func checkWithinLimits(t *testing.T, b *scb.Bundle, lim scb.Limits) {
	t.Helper()
	require.LessOrEqual(t, b.Len(), lim.MaxFiles)
	var total int64
	for _, f := range b.Files() {
		require.NoError(t, scb.CheckPath(f.Path))
		require.LessOrEqual(t, int64(len(f.Data)), lim.MaxFileSize, f.Path)
		total += int64(len(f.Data))
	}
	require.LessOrEqual(t, total, lim.MaxTotalSize)
}

func requireSameFiles(t *testing.T, want, got *scb.Bundle) {
	t.Helper()
	require.Equal(t, want.Paths(), got.Paths())
	for _, f := range want.Files() {
		d, _ := got.Get(f.Path)
		require.True(t, bytes.Equal(f.Data, d), "%s differs", f.Path)
	}
}

func FuzzParseManifest(f *testing.F) {
	b, err := fuzzBundle()
	require.NoError(f, err)
	m, _ := b.Get(scb.ManifestPath)
	f.Add(m)
	f.Add(scb.NewManifest(&scb.Bundle{}).Encode())
	f.Add([]byte(`{"format":"scb-manifest/1","algorithm":"sha256","files":[]}`))
	f.Add(bytes.Replace(m, []byte(`"README.md"`), []byte(`"../README.md"`), 1))
	f.Add(bytes.Replace(m, []byte("sha256\","), []byte("sha512\","), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := scb.ParseManifest(data)
		if err != nil {
			require.Nil(t, m)
			require.ErrorIs(t, err, scb.ErrInvalid)
			return
		}
		// Accepted means canonical: encoding gives the very same bytes.
		require.Equal(t, string(data), string(m.Encode()))
		seen := map[string]bool{}
		for _, e := range m.Files {
			require.NoError(t, scb.CheckPath(e.Path))
			require.True(t, scb.InManifest(e.Path), e.Path)
			require.False(t, seen[e.Path], "duplicate %s", e.Path)
			seen[e.Path] = true
			require.GreaterOrEqual(t, e.Size, int64(0))
			require.Len(t, e.SHA256, 64)
		}
	})
}

func FuzzCheckPath(f *testing.F) {
	for _, p := range []string{
		"metadata.json", "certificates/ca-cert.pem", "config/driver-configs/java/application.conf",
		"", ".", "..", "../x", "a/../b", "/abs", `a\b`, "C:x", "a//b", "a/", "./a", "a\x00b", "a\nb",
		"é/ü", "a:b", "CON", "a/.../b", "\xff\xfe", "\u202e", "..a", "a..", strings.Repeat("a/", 256),
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := scb.CheckPath(p)
		var b scb.Bundle
		setErr := b.Set(p, []byte("x"))
		if err != nil {
			require.ErrorIs(t, err, scb.ErrUnsafePath)
			require.Error(t, setErr, "Bundle.Set accepted a path CheckPath refused")
			return
		}
		require.NoError(t, setErr)
		require.NotEmpty(t, p)
		require.LessOrEqual(t, len(p), scb.MaxPathLength)
		require.Equal(t, path.Clean(p), p)
		require.False(t, path.IsAbs(p))
		require.True(t, filepath.IsLocal(filepath.FromSlash(p)), "%q is not local", p)
		require.NotContains(t, p, `\`)
		for _, el := range strings.Split(p, "/") {
			require.NotEqual(t, "..", el)
			require.NotEqual(t, ".", el)
		}
		for _, r := range p {
			require.False(t, r < 0x20 || r == 0x7f, "control character %U in %q", r, p)
		}
		// A path that is accepted can be written and read back in both
		// streaming formats.
		for _, format := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
			var buf bytes.Buffer
			require.NoError(t, b.Encode(&buf, scb.WriteOptions{Format: format}), "encode %q as %s", p, format)
			again, err := scb.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), scb.Limits{})
			require.NoError(t, err, "decode %q from %s", p, format)
			require.Equal(t, []string{p}, again.Paths())
		}
	})
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 1024) // small: a seed only
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, k := range []crypto.Signer{ec, ec384, rk, ed} {
		plain, err := scb.MarshalPrivateKeyPEM(k, nil)
		require.NoError(f, err)
		f.Add(plain, []byte(nil))
		f.Add(plain, []byte("pw"))
	}
	f.Add(encryptedKeyPEM(f, ec, "pw", cheapAES), []byte("pw"))
	f.Add(encryptedKeyPEM(f, ec, "pw", cheapAES), []byte("wrong"))
	f.Add(encryptedKeyPEM(f, ec, "pw", &pkcs8.Opts{Cipher: pkcs8.TripleDESCBC, KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 8, IterationCount: 8, HMACHash: crypto.SHA1}}), []byte("pw"))
	f.Add(encryptedKeyPEM(f, ec, "pw", &pkcs8.Opts{Cipher: pkcs8.AES128CBC, KDFOpts: pkcs8.ScryptOpts{SaltSize: 8, CostParameter: 16, BlockSize: 1, ParallelizationParameter: 1}}), []byte("pw"))
	der := x509.MarshalPKCS1PrivateKey(rk)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), []byte(nil))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		k, err := scb.ParsePrivateKeyPEM(data, pass)
		if err != nil {
			require.Nil(t, k)
			// The message is one of a fixed set, so it cannot carry any
			// bytes of the (secret) input.
			require.Regexp(t, keyErrorMessages, err.Error())
			return
		}
		// An accepted key re-encodes as PKCS#8 and parses to the same key.
		out, err := scb.MarshalPrivateKeyPEM(k, nil)
		require.NoError(t, err)
		k2, err := scb.ParsePrivateKeyPEM(out, nil)
		require.NoError(t, err)
		type equaler interface{ Equal(crypto.PrivateKey) bool }
		require.True(t, k.(equaler).Equal(k2))
	})
}

// FuzzValidateJKS puts fuzzed bytes in place of identity.jks or
// trustStore.jks (the first byte chooses which) of a real bundle: Validate
// must neither panic nor run out of memory. cert.pfx has its own fuzz
// target, FuzzCheckPFXWork (the bound on PKCS#12 work that runs before
// go-pkcs12).
func FuzzValidateJKS(f *testing.F) {
	b, err := fuzzBundle()
	require.NoError(f, err)
	id, _ := b.Get(scb.CloudIdentityPath)
	trust, _ := b.Get(scb.CloudTrustStorePath)
	f.Add(append([]byte{0}, id...))
	f.Add(append([]byte{1}, trust...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		p := scb.CloudIdentityPath
		if data[0]&1 == 1 {
			p = scb.CloudTrustStorePath
		}
		c := cloneBundle(t, b)
		require.NoError(t, c.Set(p, data[1:]))
		err := scb.Validate(c, scb.ValidateOptions{})
		if err == nil {
			orig, _ := b.Get(p)
			require.Equal(t, orig, data[1:], "a changed %s passed Validate", p)
		}
	})
}
