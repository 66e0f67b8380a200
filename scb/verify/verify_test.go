package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/signing"
	"github.com/scbkit/scbkit/scb/verify"
)

var (
	ctx     = context.Background()
	genTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// verifyTime is well inside the default one-year validity.
	verifyTime = genTime.Add(90 * 24 * time.Hour)
)

var (
	keyOnce sync.Once
	key     crypto.Signer
	other   crypto.Signer
)

func keys(t testing.TB) (signer, untrusted crypto.Signer) {
	keyOnce.Do(func() {
		key, _ = signing.GenerateKey(scb.KeyECDSAP256)
		other, _ = signing.GenerateKey(scb.KeyEd25519)
	})
	return key, other
}

func trustedKeys(t testing.TB) *signing.KeySet {
	k, _ := keys(t)
	ks, err := signing.NewKeySet(signing.TrustedKey{Public: k.Public()})
	require.NoError(t, err)
	return ks
}

func newCA(t testing.TB) *ca.Local {
	c, err := ca.New(ca.Config{Now: func() time.Time { return genTime }})
	require.NoError(t, err)
	return c
}

func build(t testing.TB, c *ca.Local, mod func(*scb.Request)) *scb.Bundle {
	t.Helper()
	req := scb.Request{ClusterName: "c1", ClientID: "app", CA: c, Now: func() time.Time { return genTime }}
	if mod != nil {
		mod(&req)
	}
	b, err := scb.Build(ctx, req)
	require.NoError(t, err)
	return b
}

func sign(t testing.TB, b *scb.Bundle, k crypto.Signer) {
	t.Helper()
	s, err := signing.NewSigner(k)
	require.NoError(t, err)
	require.NoError(t, signing.SignBundle(ctx, b, s))
}

func signedBundle(t testing.TB) *scb.Bundle {
	k, _ := keys(t)
	b := build(t, newCA(t), nil)
	sign(t, b, k)
	return b
}

// reseal recomputes the manifest and signs again, as an attacker holding
// some other key could.
func reseal(t *testing.T, b *scb.Bundle, k crypto.Signer) {
	t.Helper()
	b.Delete(scb.SignaturePath)
	require.NoError(t, b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()))
	sign(t, b, k)
}

func statuses(r *verify.Report) map[verify.Check]verify.Status {
	m := map[verify.Check]verify.Status{}
	for _, res := range r.Results {
		m[res.Check] = res.Status
	}
	return m
}

func TestValidBundle(t *testing.T) {
	b := signedBundle(t)
	r := verify.Verify(b, verify.Options{Keys: trustedKeys(t), Now: verifyTime})
	require.True(t, r.OK(), "%v", r.Err())
	require.Equal(t, verify.OutcomeValid, r.Outcome())
	require.NoError(t, r.Err())
	require.Equal(t, 0, r.ExitCode())
	require.Equal(t, map[verify.Check]verify.Status{
		verify.CheckCompleteness: verify.StatusPass, verify.CheckSignature: verify.StatusPass, verify.CheckManifest: verify.StatusPass,
		verify.CheckChain: verify.StatusPass, verify.CheckValidity: verify.StatusPass, verify.CheckConsistency: verify.StatusPass,
	}, statuses(r))
	k, _ := keys(t)
	id, _ := signing.KeyID(k.Public())
	require.Equal(t, []string{id}, r.Signers())
	// Results come in check order.
	var order []verify.Check
	for _, res := range r.Results {
		order = append(order, res.Check)
	}
	require.Equal(t, verify.Checks[2:], order)
}

func TestSignatureRule(t *testing.T) {
	signed := signedBundle(t)
	unsigned := build(t, newCA(t), nil)
	for _, tc := range []struct {
		name    string
		b       *scb.Bundle
		opts    verify.Options
		status  verify.Status
		outcome verify.Outcome
	}{
		{"signed, no keys", signed, verify.Options{}, verify.StatusWarn, verify.OutcomeValid},
		{"unsigned, no keys", unsigned, verify.Options{}, verify.StatusSkip, verify.OutcomeValid},
		{"unsigned, keys", unsigned, verify.Options{Keys: trustedKeys(t)}, verify.StatusFail, verify.OutcomeUnsigned},
		{"signed, no keys, required", signed, verify.Options{RequireSignature: true}, verify.StatusFail, verify.OutcomeError},
		{"signed, keys", signed, verify.Options{Keys: trustedKeys(t)}, verify.StatusPass, verify.OutcomeValid},
		{"signed, threshold 2", signed, verify.Options{Keys: trustedKeys(t), Threshold: 2}, verify.StatusFail, verify.OutcomeUnknownSigner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = verifyTime
			r := verify.Verify(tc.b, tc.opts)
			res, ok := r.Result(verify.CheckSignature)
			require.True(t, ok)
			require.Equal(t, tc.status, res.Status, res.Message)
			require.Equal(t, tc.outcome, r.Outcome())
		})
	}
}

func TestRejections(t *testing.T) {
	_, untrusted := keys(t)
	signer, _ := keys(t)
	otherCA := newCA(t)
	tests := []struct {
		name    string
		mutate  func(t *testing.T, b *scb.Bundle)
		now     time.Time
		check   verify.Check
		outcome verify.Outcome
		is      error
	}{
		{"tampered file", func(t *testing.T, b *scb.Bundle) { require.NoError(t, b.Set(scb.ReadmePath, []byte("evil"))) },
			verifyTime, verify.CheckManifest, verify.OutcomeDigestMismatch, scb.ErrDigestMismatch},
		{"tampered manifest", func(t *testing.T, b *scb.Bundle) {
			require.NoError(t, b.Set(scb.ReadmePath, []byte("evil")))
			require.NoError(t, b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()))
		}, verifyTime, verify.CheckSignature, verify.OutcomeBadSignature, verify.ErrBadSignature},
		{"resigned by an unknown key", func(t *testing.T, b *scb.Bundle) {
			require.NoError(t, b.Set(scb.ReadmePath, []byte("evil")))
			reseal(t, b, untrusted)
		}, verifyTime, verify.CheckSignature, verify.OutcomeUnknownSigner, verify.ErrUntrusted},
		{"malformed envelope", func(t *testing.T, b *scb.Bundle) { require.NoError(t, b.Set(scb.SignaturePath, []byte("{}"))) },
			verifyTime, verify.CheckSignature, verify.OutcomeMalformedSignature, verify.ErrMalformedSignature},
		{"file outside the manifest", func(t *testing.T, b *scb.Bundle) { require.NoError(t, b.Set("signatures/run.sh", []byte("#!/bin/sh"))) },
			verifyTime, verify.CheckManifest, verify.OutcomeDigestMismatch, scb.ErrDigestMismatch},
		{"missing file", func(t *testing.T, b *scb.Bundle) { b.Delete(scb.ReadmePath) },
			verifyTime, verify.CheckCompleteness, verify.OutcomeIncomplete, scb.ErrMissingFile},
		{"partial stock files", func(t *testing.T, b *scb.Bundle) { b.Delete(scb.CloudPFXPath); reseal(t, b, signer) },
			verifyTime, verify.CheckCompleteness, verify.OutcomeIncomplete, scb.ErrMissingFile},
		{"malformed metadata", func(t *testing.T, b *scb.Bundle) {
			require.NoError(t, b.Set(scb.MetadataPath, []byte("{")))
			reseal(t, b, signer)
		},
			verifyTime, verify.CheckCompleteness, verify.OutcomeMalformedMetadata, scb.ErrInvalid},
		{"malformed manifest", func(t *testing.T, b *scb.Bundle) {
			m, _ := b.Get(scb.ManifestPath)
			require.NoError(t, b.Set(scb.ManifestPath, append(m, ' ')))
			b.Delete(scb.SignaturePath)
			sign0(t, b, signer)
		}, verifyTime, verify.CheckManifest, verify.OutcomeMalformedManifest, scb.ErrInvalid},
		{"expired", nil, genTime.AddDate(2, 0, 0), verify.CheckValidity, verify.OutcomeExpired, verify.ErrExpired},
		{"not yet valid", nil, genTime.Add(-24 * time.Hour), verify.CheckValidity, verify.OutcomeNotYetValid, verify.ErrNotYetValid},
		{"foreign CA", func(t *testing.T, b *scb.Bundle) {
			require.NoError(t, b.Set(scb.CACertPath, scb.EncodeCertificatesPEM(otherCA.Root())))
			reseal(t, b, signer)
		}, verifyTime, verify.CheckChain, verify.OutcomeChainInvalid, verify.ErrChain},
		{"CA fingerprint", func(t *testing.T, b *scb.Bundle) {
			m, _ := b.Get(scb.MetadataPath)
			fp := scb.Fingerprint(otherCA.Root())
			meta, _ := b.Metadata()
			require.NoError(t, b.Set(scb.MetadataPath, bytes.Replace(m, []byte(meta.CA.FingerprintSHA256), []byte(fp), 1)))
			reseal(t, b, signer)
		}, verifyTime, verify.CheckChain, verify.OutcomeChainInvalid, verify.ErrChain},
		{"inconsistent stock cert", func(t *testing.T, b *scb.Bundle) {
			o := build(t, otherCA, nil)
			cert, _ := o.Get(scb.CloudCertPath)
			require.NoError(t, b.Set(scb.CloudCertPath, cert))
			reseal(t, b, signer)
		}, verifyTime, verify.CheckConsistency, verify.OutcomeInconsistent, scb.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := signedBundle(t)
			if tc.mutate != nil {
				tc.mutate(t, b)
			}
			r := verify.Verify(b, verify.Options{Keys: trustedKeys(t), Now: tc.now})
			require.False(t, r.OK())
			require.Equal(t, tc.outcome, r.Outcome(), "%v", r.Err())
			require.Equal(t, 3, r.ExitCode())
			err := r.Err()
			var ve *verify.Error
			require.True(t, errors.As(err, &ve))
			require.Equal(t, tc.check, ve.Check)
			require.ErrorIs(t, err, tc.is)
			t.Log(err)
		})
	}
}

// sign0 signs whatever manifest.json holds, bypassing SignBundle's
// manifest check.
func sign0(t *testing.T, b *scb.Bundle, k crypto.Signer) {
	m, _ := b.Get(scb.ManifestPath)
	env := signing.NewEnvelope(signing.PayloadTypeManifest, m)
	s, err := signing.NewSigner(k)
	require.NoError(t, err)
	require.NoError(t, env.Sign(ctx, s))
	require.NoError(t, b.Set(scb.SignaturePath, env.Encode()))
}

func TestExpiryWarning(t *testing.T) {
	b := signedBundle(t)
	meta, _ := b.Metadata()
	r := verify.Verify(b, verify.Options{Keys: trustedKeys(t), Now: meta.ExpiresAt.Add(-10 * 24 * time.Hour)})
	require.True(t, r.OK())
	res, _ := r.Result(verify.CheckValidity)
	require.Equal(t, verify.StatusWarn, res.Status)
	require.Contains(t, res.Message, "in 10 days")
	require.Len(t, r.Warnings(), 1)

	r = verify.Verify(b, verify.Options{Keys: trustedKeys(t), Now: meta.ExpiresAt.Add(-10 * 24 * time.Hour), ExpiryWarning: -1})
	res, _ = r.Result(verify.CheckValidity)
	require.Equal(t, verify.StatusPass, res.Status)
}

func TestEncryptedClientKey(t *testing.T) {
	pass := []byte("s3cret-pass")
	b := build(t, newCA(t), func(r *scb.Request) { r.KeyPassphrase = pass; r.OmitStockDriverFiles = true })
	r := verify.Verify(b, verify.Options{Now: verifyTime})
	require.True(t, r.OK(), "%v", r.Err())
	res, _ := r.Result(verify.CheckConsistency)
	require.Equal(t, verify.StatusWarn, res.Status)
	opts := verify.Options{Now: verifyTime, KeyPassphrase: pass}
	r = verify.Verify(b, opts)
	res, _ = r.Result(verify.CheckConsistency)
	require.Equal(t, verify.StatusPass, res.Status)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", opts, opts, opts, opts), string(pass))
}

func TestReportJSON(t *testing.T) {
	b := signedBundle(t)
	require.NoError(t, b.Set(scb.ReadmePath, []byte("x")))
	r := verify.Verify(b, verify.Options{Keys: trustedKeys(t), Now: verifyTime})
	data, err := json.Marshal(r)
	require.NoError(t, err)
	var got struct {
		OK      bool   `json:"ok"`
		Outcome string `json:"outcome"`
		Time    string `json:"time"`
		Results []struct {
			Check, Status, Outcome, Message, Path, Error string
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(data, &got))
	require.False(t, got.OK)
	require.Equal(t, "digest_mismatch", got.Outcome)
	require.Equal(t, "2025-04-01T00:00:00Z", got.Time)
	require.Equal(t, "manifest", got.Results[2].Check)
	require.Equal(t, "fail", got.Results[2].Status)
	require.Equal(t, "README.md", got.Results[2].Path)
	require.NotEmpty(t, got.Results[2].Error)
}

func TestVerifyFile(t *testing.T) {
	signer, untrusted := keys(t)
	dir := t.TempDir()
	b := signedBundle(t)
	s, _ := signing.NewSigner(signer)
	for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz, scb.FormatDir} {
		t.Run(string(f), func(t *testing.T) {
			name := filepath.Join(dir, "app."+string(f))
			require.NoError(t, b.WriteFile(name, scb.WriteOptions{Format: f}, false))
			r := verify.VerifyFile(name, verify.Options{Keys: trustedKeys(t), Now: verifyTime})
			require.True(t, r.OK(), "%v", r.Err())
			res, ok := r.Result(verify.CheckArchive)
			require.True(t, ok)
			require.Equal(t, verify.StatusPass, res.Status)
			if f == scb.FormatDir {
				return
			}
			res, _ = r.Result(verify.CheckDetachedSignature)
			require.Equal(t, verify.StatusSkip, res.Status)

			// The .sig next to the archive is found and checked.
			_, err := signing.SignArchiveFile(ctx, name, s)
			require.NoError(t, err)
			r = verify.VerifyFile(name, verify.Options{Keys: trustedKeys(t), Now: verifyTime})
			require.True(t, r.OK(), "%v", r.Err())
			res, _ = r.Result(verify.CheckDetachedSignature)
			require.Equal(t, verify.StatusPass, res.Status)
			require.Equal(t, filepath.Base(name)+".sig", res.Path)

			// A changed archive is rejected before it is opened.
			data, _ := os.ReadFile(name)
			require.NoError(t, os.WriteFile(name, append(data, 0), 0o600))
			r = verify.VerifyFile(name, verify.Options{Keys: trustedKeys(t), Now: verifyTime})
			require.Equal(t, verify.OutcomeDigestMismatch, r.Outcome())
			res, _ = r.Result(verify.CheckArchive)
			require.Equal(t, verify.StatusSkip, res.Status)
			require.NoError(t, os.WriteFile(name, data, 0o600))

			// A detached signature by an unknown key fails.
			us, _ := signing.NewSigner(untrusted)
			sig, err := signing.SignArchive(ctx, name, data, nil, us)
			require.NoError(t, err)
			other := filepath.Join(dir, "other.sig")
			require.NoError(t, os.WriteFile(other, sig, 0o644))
			r = verify.VerifyFile(name, verify.Options{Keys: trustedKeys(t), Now: verifyTime, DetachedSignature: other})
			require.Equal(t, verify.OutcomeUnknownSigner, r.Outcome())
		})
	}
	t.Run("required detached", func(t *testing.T) {
		name := filepath.Join(dir, "plain.zip")
		require.NoError(t, b.WriteFile(name, scb.WriteOptions{}, false))
		r := verify.VerifyFile(name, verify.Options{Keys: trustedKeys(t), Now: verifyTime, RequireDetachedSignature: true})
		require.Equal(t, verify.OutcomeUnsigned, r.Outcome())
	})
	t.Run("missing", func(t *testing.T) {
		r := verify.VerifyFile(filepath.Join(dir, "nope.zip"), verify.Options{})
		require.Equal(t, verify.OutcomeError, r.Outcome())
		require.Equal(t, 1, r.ExitCode())
	})
	t.Run("too large", func(t *testing.T) {
		name := filepath.Join(dir, "big.zip")
		require.NoError(t, b.WriteFile(name, scb.WriteOptions{}, false))
		r := verify.VerifyFile(name, verify.Options{Limits: scb.Limits{MaxTotalSize: 1}})
		// The archive file is within MaxTotalSize + 1 MiB; the decoder
		// enforces the limit on content.
		require.Equal(t, verify.OutcomeTooLarge, r.Outcome())
	})
}

func FuzzVerifyArchive(f *testing.F) {
	// Seeds without the PKCS#12 and JKS stores: their key derivation makes
	// each execution slow under coverage instrumentation.
	k, _ := keys(f)
	small := build(f, newCA(f), func(r *scb.Request) { r.OmitStockDriverFiles = true })
	sign(f, small, k)
	var buf bytes.Buffer
	require.NoError(f, small.Encode(&buf, scb.WriteOptions{}))
	f.Add(bytes.Clone(buf.Bytes()))
	buf.Reset()
	require.NoError(f, small.Encode(&buf, scb.WriteOptions{Format: scb.FormatTarGz}))
	f.Add(bytes.Clone(buf.Bytes()))
	f.Add([]byte("PK\x03\x04"))
	ks := trustedKeys(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := verify.VerifyArchive(data, nil, verify.Options{Keys: ks, Now: verifyTime, Limits: scb.Limits{MaxFiles: 50, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20}})
		if r.Outcome() == "" {
			t.Fatal("no outcome")
		}
		if r.OK() != (r.Outcome() == verify.OutcomeValid) {
			t.Fatal("OK and Outcome disagree")
		}
		if !r.OK() {
			var ve *verify.Error
			if !errors.As(r.Err(), &ve) {
				t.Fatalf("failure is not a *verify.Error: %v", r.Err())
			}
		}
	})
}
