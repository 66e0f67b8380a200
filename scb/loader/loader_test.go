package loader_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

var t0 = loadertest.T0

func fixedReq() scb.Request {
	return scb.Request{
		ClusterName: "prod-east", ClientID: "billing", Now: loadertest.Clock(t0),
		ContactPoints: []string{"10.0.0.5:9042", "db2.example.com:9142"}, LocalDatacenter: "dc-east",
		Credentials: &scb.Credentials{Username: "billing_app", Password: "s3cret-Pa55word"},
		Validity:    30 * 24 * time.Hour,
	}
}

func TestOpenEveryFormat(t *testing.T) {
	c := loadertest.NewCA(t, loadertest.Clock(t0))
	req := fixedReq()
	req.CA = c
	b := loadertest.Build(t, req)
	dir := t.TempDir()
	for _, f := range scb.Formats {
		t.Run(string(f), func(t *testing.T) {
			p := loadertest.Write(t, b, dir, "bundle."+string(f), f)
			lb, err := loader.Open(p, loader.Options{Now: loadertest.Clock(t0.Add(time.Hour))})
			require.NoError(t, err)
			eps := lb.Endpoints()
			require.Equal(t, []loader.Endpoint{{Host: "10.0.0.5", Port: 9042}, {Host: "db2.example.com", Port: 9142}}, eps.ContactPoints)
			require.Equal(t, "10.0.0.5:9042", eps.ContactPoints[0].String())
			require.Equal(t, "dc-east", eps.LocalDatacenter)
			require.Len(t, eps.Clusters, 1)
			require.Equal(t, "primary", eps.Clusters[0].Role)
			require.Equal(t, "billing_app", lb.Username())
			require.Equal(t, scb.DefaultConnectionParams(), lb.Params())
			require.True(t, lb.HostnameVerification())
			require.Equal(t, "billing", lb.Metadata().ClientID)
			require.Equal(t, "billing", lb.Certificate().Subject.CommonName)
			require.Len(t, lb.CertificateChain(), 2)
			require.Equal(t, c.Root().Raw, lb.CACertificates()[0].Raw)
			require.NoError(t, lb.CheckValidity())
			require.Same(t, lb, lb.Current())

			tc := lb.TLSConfig()
			want := x509.NewCertPool()
			want.AddCert(c.Root())
			require.True(t, want.Equal(tc.RootCAs), "RootCAs must hold the bundle CA only")
			require.Equal(t, uint16(tls.VersionTLS12), tc.MinVersion)
			require.False(t, tc.InsecureSkipVerify)
			require.Empty(t, tc.ServerName)
			cert, err := tc.GetClientCertificate(&tls.CertificateRequestInfo{})
			require.NoError(t, err)
			require.Equal(t, lb.Certificate().Raw, cert.Certificate[0])
			require.Len(t, cert.Certificate, 2, "intermediate is sent")
		})
	}
}

func TestDecodeAndLoad(t *testing.T) {
	b := loadertest.Build(t, fixedReq())
	var buf bytes.Buffer
	require.NoError(t, b.Encode(&buf, scb.WriteOptions{}))
	opts := loader.Options{Now: loadertest.Clock(t0)}
	lb, err := loader.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), opts)
	require.NoError(t, err)
	require.Equal(t, "prod-east", lb.Metadata().ClusterName)
	lb2, err := loader.Load(b, opts)
	require.NoError(t, err)
	require.Equal(t, lb.Certificate().Raw, lb2.Certificate().Raw)
	_, err = loader.Load(nil, opts)
	require.Error(t, err)
}

func TestMinTLSAndHostnameVerificationOff(t *testing.T) {
	req := fixedReq()
	req.Connection.MinTLSVersion = "1.3"
	req.InsecureSkipHostnameVerification = true
	lb, err := loader.Load(loadertest.Build(t, req), loader.Options{Now: loadertest.Clock(t0)})
	require.NoError(t, err)
	tc := lb.TLSConfig()
	require.Equal(t, uint16(tls.VersionTLS13), tc.MinVersion)
	require.False(t, lb.HostnameVerification())
	// Hostname checks are off, chain checks are not.
	require.True(t, tc.InsecureSkipVerify)
	require.NotNil(t, tc.VerifyConnection)
}

func TestValidity(t *testing.T) {
	b := loadertest.Build(t, fixedReq()) // valid from t0-5m for 30 days
	leafNotAfter := t0.Add(30 * 24 * time.Hour)

	_, err := loader.Load(b, loader.Options{Now: loadertest.Clock(leafNotAfter.Add(time.Second))})
	require.ErrorIs(t, err, loader.ErrExpired)
	var ve *loader.ValidityError
	require.ErrorAs(t, err, &ve)
	require.True(t, ve.NotAfter.Equal(leafNotAfter))
	require.Contains(t, err.Error(), "expired at 2030-07-01T12:00:00Z")
	var le *loader.Error
	require.ErrorAs(t, err, &le)
	require.Equal(t, loader.StageValidity, le.Stage)

	_, err = loader.Load(b, loader.Options{Now: loadertest.Clock(t0.Add(-time.Hour))})
	require.ErrorIs(t, err, loader.ErrNotYetValid)
	require.ErrorAs(t, err, &ve)
	require.Contains(t, err.Error(), "not valid before 2030-06-01T11:55:00Z")

	lb, err := loader.Load(b, loader.Options{Now: loadertest.Clock(leafNotAfter.Add(time.Hour)), InsecureAllowExpired: true})
	require.NoError(t, err)
	require.NoError(t, lb.CheckValidity())

	// A bundle loaded while valid reports expiry later (the connectors check
	// before dialling).
	now := t0
	lb, err = loader.Load(b, loader.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	require.NoError(t, lb.CheckValidity())
	now = leafNotAfter.Add(time.Minute)
	require.ErrorIs(t, lb.CheckValidity(), loader.ErrExpired)
}

func TestEncryptedKey(t *testing.T) {
	pass := []byte("correct horse battery staple")
	req := fixedReq()
	req.KeyPassphrase = pass
	req.OmitStockDriverFiles = true
	b := loadertest.Build(t, req)
	for name, pp := range map[string][]byte{"missing": nil, "wrong": []byte("Tr0ub4dor&3-wrong")} {
		t.Run(name, func(t *testing.T) {
			_, err := loader.Load(b, loader.Options{Now: loadertest.Clock(t0), KeyPassphrase: pp})
			require.ErrorIs(t, err, scb.ErrPassphrase)
			var le *loader.Error
			require.ErrorAs(t, err, &le)
			require.Equal(t, loader.StageKey, le.Stage)
			assertNoSecret(t, err.Error(), b, string(pass), string(pp))
		})
	}
	lb, err := loader.Load(b, loader.Options{Now: loadertest.Clock(t0), KeyPassphrase: pass})
	require.NoError(t, err)
	require.NotNil(t, lb.Certificate())
}

// assertNoSecret fails if s contains any secret string or any line of the
// bundle's private keys and passwords.
func assertNoSecret(t *testing.T, s string, b *scb.Bundle, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" {
			require.NotContains(t, s, sec)
		}
	}
	for _, p := range []string{scb.ClientKeyPath, scb.CloudKeyPath} {
		d, ok := b.Get(p)
		if !ok {
			continue
		}
		for _, line := range strings.Split(string(d), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") {
				require.NotContains(t, s, line)
			}
		}
	}
	if d, ok := b.Get(scb.CloudConfigPath); ok {
		cc, err := scb.ParseCloudConfig(d)
		require.NoError(t, err)
		for _, pw := range []string{cc.KeyStorePassword, cc.TrustStorePassword, cc.PFXCertPassword, cc.Password} {
			if pw != "" {
				require.NotContains(t, s, pw)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	good := loadertest.Build(t, fixedReq())
	other := loadertest.Build(t, fixedReq())
	var zipBuf bytes.Buffer
	require.NoError(t, good.Encode(&zipBuf, scb.WriteOptions{}))

	type tc struct {
		name  string
		data  func(t *testing.T) []byte // an archive, or
		mod   func(t *testing.T, b *scb.Bundle)
		opts  loader.Options
		stage loader.Stage
		is    error
	}
	set := func(p string, d []byte) func(t *testing.T, b *scb.Bundle) {
		return func(t *testing.T, b *scb.Bundle) { require.NoError(t, b.Set(p, d)) }
	}
	editYAML := func(from, to string) func(t *testing.T, b *scb.Bundle) {
		return func(t *testing.T, b *scb.Bundle) {
			d, _ := b.Get(scb.ClientYAMLPath)
			require.Contains(t, string(d), from)
			require.NoError(t, b.Set(scb.ClientYAMLPath, []byte(strings.Replace(string(d), from, to, 1))))
			loadertest.Remanifest(t, b)
		}
	}
	otherKey, _ := other.Get(scb.ClientKeyPath)
	otherCA, _ := other.Get(scb.CACertPath)
	hookErr := errors.New("signature: unknown signer")
	cases := []tc{
		{name: "not an archive", data: func(*testing.T) []byte { return []byte("this is not a zip file at all") }, stage: loader.StageArchive, is: scb.ErrMalformedArchive},
		{name: "truncated zip", data: func(*testing.T) []byte { return zipBuf.Bytes()[:zipBuf.Len()/2] }, stage: loader.StageArchive, is: scb.ErrMalformedArchive},
		{name: "empty", data: func(*testing.T) []byte { return nil }, stage: loader.StageArchive, is: scb.ErrMalformedArchive},
		{name: "missing CA", mod: func(t *testing.T, b *scb.Bundle) { b.Delete(scb.CACertPath); loadertest.Remanifest(t, b) }, stage: loader.StageManifest, is: scb.ErrMissingFile},
		{name: "missing manifest", mod: func(t *testing.T, b *scb.Bundle) { b.Delete(scb.ManifestPath) }, stage: loader.StageManifest, is: scb.ErrMissingFile},
		{name: "file missing but listed", mod: func(t *testing.T, b *scb.Bundle) { b.Delete(scb.ReadmePath) }, stage: loader.StageManifest, is: scb.ErrMissingFile},
		{name: "empty key", mod: set(scb.ClientKeyPath, nil), stage: loader.StageManifest, is: scb.ErrEmptyFile},
		{name: "digest mismatch", mod: set(scb.ReadmePath, []byte("tampered")), stage: loader.StageManifest, is: scb.ErrDigestMismatch},
		{name: "unlisted file", mod: set("extra.txt", []byte("x")), stage: loader.StageManifest, is: scb.ErrDigestMismatch},
		{name: "key swapped", mod: func(t *testing.T, b *scb.Bundle) { set(scb.ClientKeyPath, otherKey)(t, b); loadertest.Remanifest(t, b) }, stage: loader.StageKey, is: scb.ErrInvalid},
		{name: "key garbage", mod: func(t *testing.T, b *scb.Bundle) {
			set(scb.ClientKeyPath, []byte("garbage"))(t, b)
			loadertest.Remanifest(t, b)
		}, stage: loader.StageKey, is: scb.ErrNoKey},
		{name: "foreign CA", mod: func(t *testing.T, b *scb.Bundle) { set(scb.CACertPath, otherCA)(t, b); loadertest.Remanifest(t, b) }, stage: loader.StageContent, is: scb.ErrInvalid},
		{name: "cert garbage", mod: func(t *testing.T, b *scb.Bundle) {
			set(scb.ClientCertPath, []byte("garbage"))(t, b)
			loadertest.Remanifest(t, b)
		}, stage: loader.StageContent, is: scb.ErrInvalid},
		{name: "malformed endpoint", mod: editYAML("10.0.0.5:9042", "10.0.0.5:99999"), stage: loader.StageContent, is: loader.ErrEndpoint},
		{name: "endpoint without port", mod: editYAML("10.0.0.5:9042", "bad host name"), stage: loader.StageContent, is: loader.ErrEndpoint},
		{name: "malformed metadata endpoint", mod: func(t *testing.T, b *scb.Bundle) {
			d, _ := b.Get(scb.MetadataPath)
			require.NoError(t, b.Set(scb.MetadataPath, []byte(strings.Replace(string(d), `"10.0.0.5:9042"`, `"10.0.0.5"`, 1))))
			loadertest.Remanifest(t, b)
		}, stage: loader.StageContent, is: loader.ErrEndpoint},
		{name: "bad consistency", mod: editYAML("LOCAL_QUORUM", "SOMETIMES"), stage: loader.StageContent, is: scb.ErrInvalid},
		{name: "bad min tls", mod: editYAML("min_version: \"1.2\"", "min_version: \"1.0\""), stage: loader.StageContent, is: scb.ErrInvalid},
		{name: "malformed yaml", mod: func(t *testing.T, b *scb.Bundle) {
			set(scb.ClientYAMLPath, []byte(":\n\t- ["))(t, b)
			loadertest.Remanifest(t, b)
		}, stage: loader.StageContent, is: scb.ErrInvalid},
		{name: "malformed metadata", mod: func(t *testing.T, b *scb.Bundle) {
			set(scb.MetadataPath, []byte("{"))(t, b)
			loadertest.Remanifest(t, b)
		}, stage: loader.StageContent, is: scb.ErrInvalid},
		{name: "signature hook", opts: loader.Options{Verify: func(*scb.Bundle) error { return hookErr }}, stage: loader.StageSignature, is: hookErr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			opts.Now = loadertest.Clock(t0)
			var err error
			if c.data != nil {
				d := c.data(t)
				_, err = loader.Decode(bytes.NewReader(d), int64(len(d)), opts)
			} else {
				b := loadertest.Clone(good)
				if c.mod != nil {
					c.mod(t, b)
				}
				// Through a real archive, as a user would get it.
				p := loadertest.Write(t, b, t.TempDir(), "b.zip", scb.FormatZip)
				_, err = loader.Open(p, opts)
				require.Error(t, err)
				require.Contains(t, err.Error(), p)
			}
			require.Error(t, err)
			var le *loader.Error
			require.ErrorAs(t, err, &le, "%v", err)
			require.Equal(t, c.stage, le.Stage, "%v", err)
			require.ErrorIs(t, err, c.is)
			assertNoSecret(t, err.Error(), good, "s3cret-Pa55word")
			assertNoSecret(t, err.Error(), other)
			require.Equal(t, strings.ToLower(err.Error()[:1]), err.Error()[:1])
		})
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := loader.Open(filepath.Join(t.TempDir(), "nope.zip"), loader.Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	var le *loader.Error
	require.ErrorAs(t, err, &le)
	require.Equal(t, loader.StageArchive, le.Stage)
}

func TestSecretsNeverPrint(t *testing.T) {
	b := loadertest.Build(t, fixedReq())
	lb, err := loader.Load(b, loader.Options{Now: loadertest.Clock(t0)})
	require.NoError(t, err)
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%X"} {
		fmt.Fprintf(&out, verb+"\n", lb)
		fmt.Fprintf(&out, verb+"\n", *lb)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("loaded", "bundle", lb)
	slog.New(slog.NewTextHandler(&out, nil)).Info("loaded", "bundle", lb)
	j, err := json.Marshal(lb)
	require.NoError(t, err)
	out.Write(j)
	s := out.String()
	require.Contains(t, s, "billing")
	require.Contains(t, s, "redacted")
	assertNoSecret(t, s, b, "s3cret-Pa55word")
	// The DER of the key in hex or decimal must not appear either.
	require.NotContains(t, s, "PRIVATE KEY")
}

func TestOptionsNeverPrintPassphrase(t *testing.T) {
	pass := "correct horse battery staple"
	req := fixedReq()
	req.KeyPassphrase = []byte(pass)
	req.OmitStockDriverFiles = true
	p := loadertest.Write(t, loadertest.Build(t, req), t.TempDir(), "b.zip", scb.FormatZip)
	opts := loader.Options{KeyPassphrase: []byte(pass), Now: loadertest.Clock(t0)}
	wopts := loader.WatchOptions{Options: opts, Interval: -1}
	w, err := loader.Watch(p, wopts)
	require.NoError(t, err)
	defer w.Close()
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, verb+"\n", opts)
		fmt.Fprintf(&out, verb+"\n", &opts)
		fmt.Fprintf(&out, verb+"\n", wopts)
		fmt.Fprintf(&out, verb+"\n", w)
		fmt.Fprintf(&out, verb+"\n", *w.Current())
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "opts", opts, "watcher", w)
	s := out.String()
	require.NotContains(t, s, pass)
	require.NotContains(t, s, fmt.Sprintf("%x", pass))
	require.NotContains(t, s, fmt.Sprint([]byte(pass)))
	require.Contains(t, s, "KeyPassphrase: <redacted>")
}
