package signing_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
	"github.com/scbkit/scbkit/scb/signing/signingtest"
)

var ctx = context.Background()

// TestConformance runs the shared Signer checks against every Signer
// implementation: the sigstore-backed one for in-memory keys, the
// crypto.Signer adapter used for KMS/HSM keys, and a user's own.
func TestConformance(t *testing.T) {
	for _, kt := range signing.SigningKeyTypes {
		k := testKey(t, kt)
		t.Run(string(kt)+"/sigstore", func(t *testing.T) { signingtest.TestSigner(t, newSigner(t, k)) })
		t.Run(string(kt)+"/crypto.Signer", func(t *testing.T) { signingtest.TestSigner(t, newSigner(t, opaque{k})) })
	}
	t.Run("ed25519/own", func(t *testing.T) {
		signingtest.TestSigner(t, stdSigner{testKey(t, scb.KeyEd25519).(ed25519.PrivateKey)})
	})
}

func TestSignVerifyBundleEachAlgorithm(t *testing.T) {
	want := map[scb.KeyType]signing.Algorithm{
		scb.KeyECDSAP256: signing.ES256, scb.KeyECDSAP384: signing.ES384, scb.KeyEd25519: signing.EdDSA,
		scb.KeyRSA3072: signing.PS256, scb.KeyRSA4096: signing.PS256,
	}
	for _, kt := range signing.SigningKeyTypes {
		t.Run(string(kt), func(t *testing.T) {
			k := testKey(t, kt)
			alg, err := signing.AlgorithmOf(k.Public())
			require.NoError(t, err)
			require.Equal(t, want[kt], alg)
			b := testBundle(t)
			require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, k)))
			got, err := signing.VerifyBundle(b, keySet(t, trusted(k)), signing.VerifyOptions{})
			require.NoError(t, err)
			require.Equal(t, []string{keyID(t, k)}, got.KeyIDs)

			// The envelope round-trips through the archive.
			var buf bytes.Buffer
			require.NoError(t, b.Encode(&buf, scb.WriteOptions{}))
			b2, err := scb.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), scb.Limits{})
			require.NoError(t, err)
			_, err = signing.VerifyBundle(b2, keySet(t, trusted(k)), signing.VerifyOptions{})
			require.NoError(t, err)
		})
	}
}

func TestMultipleSignatures(t *testing.T) {
	p256, ed := testKey(t, scb.KeyECDSAP256), testKey(t, scb.KeyEd25519)
	b := testBundle(t)
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, p256)))
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, ed)))
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, p256))) // re-sign in place
	data, _ := b.Get(scb.SignaturePath)
	env, err := signing.ParseEnvelope(data)
	require.NoError(t, err)
	require.Equal(t, []string{keyID(t, p256), keyID(t, ed)}, env.KeyIDs())

	// One trusted key is enough; the other signature is ignored.
	got, err := signing.VerifyBundle(b, keySet(t, trusted(ed)), signing.VerifyOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{keyID(t, ed)}, got.KeyIDs)
	require.Equal(t, []string{keyID(t, p256)}, got.Unknown)

	both := keySet(t, trusted(ed), trusted(p256))
	got, err = signing.VerifyBundle(b, both, signing.VerifyOptions{Threshold: 2})
	require.NoError(t, err)
	require.Len(t, got.KeyIDs, 2)

	_, err = signing.VerifyBundle(b, keySet(t, trusted(ed)), signing.VerifyOptions{Threshold: 2})
	require.ErrorIs(t, err, signing.ErrUntrusted)
}

// signed returns a bundle signed by k and its parsed envelope.
func signed(t *testing.T, k crypto.Signer) (*scb.Bundle, *signing.Envelope) {
	t.Helper()
	b := testBundle(t)
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, k)))
	data, _ := b.Get(scb.SignaturePath)
	env, err := signing.ParseEnvelope(data)
	require.NoError(t, err)
	return b, env
}

func setEnvelope(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
	t.Helper()
	require.NoError(t, b.Set(scb.SignaturePath, env.Encode()))
}

func TestVerificationFailures(t *testing.T) {
	p256, ed, p384 := testKey(t, scb.KeyECDSAP256), testKey(t, scb.KeyEd25519), testKey(t, scb.KeyECDSAP384)
	now := genTime.Add(24 * time.Hour)

	tests := []struct {
		name   string
		mutate func(t *testing.T, b *scb.Bundle, env *signing.Envelope)
		keys   func(t *testing.T) *signing.KeySet
		want   error
	}{
		{
			name: "forged signature",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				env.Signatures[0].Sig[len(env.Signatures[0].Sig)/2] ^= 0x01
				setEnvelope(t, b, env)
			},
			want: signing.ErrBadSignature,
		},
		{
			name: "signature by another key under a trusted key id",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				sig, err := newSigner(t, p384).SignPAE(ctx, env.PAE())
				require.NoError(t, err)
				env.Signatures[0].Sig = sig
				setEnvelope(t, b, env)
			},
			want: signing.ErrBadSignature,
		},
		{
			name: "untrusted key",
			keys: func(t *testing.T) *signing.KeySet { return keySet(t, trusted(ed)) },
			want: signing.ErrUntrusted,
		},
		{
			name: "key expired",
			keys: func(t *testing.T) *signing.KeySet {
				return keySet(t, signing.TrustedKey{Public: p256.Public(), Expires: now})
			},
			want: signing.ErrKeyNotValid,
		},
		{
			name: "key not yet valid",
			keys: func(t *testing.T) *signing.KeySet {
				return keySet(t, signing.TrustedKey{Public: p256.Public(), NotBefore: now.Add(time.Second)})
			},
			want: signing.ErrKeyNotValid,
		},
		{
			name: "tampered payload",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				env.Payload = bytes.Replace(env.Payload, []byte(`"size"`), []byte(`"size" `), 1)
				setEnvelope(t, b, env)
			},
			want: signing.ErrBadSignature,
		},
		{
			name: "manifest changed after signing",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				require.NoError(t, b.Set(scb.ReadmePath, []byte("evil")))
				require.NoError(t, b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()))
			},
			want: signing.ErrBadSignature,
		},
		{
			name: "wrong payloadType, validly signed",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				e := signing.NewEnvelope(signing.PayloadTypeArchive, env.Payload)
				require.NoError(t, e.Sign(ctx, newSigner(t, p256)))
				setEnvelope(t, b, e)
			},
			want: signing.ErrBadSignature,
		},
		{
			name: "malformed envelope",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				require.NoError(t, b.Set(scb.SignaturePath, []byte(`{"payloadType":`)))
			},
			want: signing.ErrMalformedEnvelope,
		},
		{
			name: "unsigned",
			mutate: func(t *testing.T, b *scb.Bundle, env *signing.Envelope) {
				b.Delete(scb.SignaturePath)
			},
			want: signing.ErrUnsigned,
		},
		{
			name: "no trusted keys",
			keys: func(t *testing.T) *signing.KeySet { return nil },
			want: signing.ErrNoTrustedKeys,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, env := signed(t, p256)
			if tc.mutate != nil {
				tc.mutate(t, b, env)
			}
			ks := keySet(t, trusted(p256))
			if tc.keys != nil {
				ks = tc.keys(t)
			}
			got, err := signing.VerifyBundle(b, ks, signing.VerifyOptions{Now: now})
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, got)
			// Exactly one outcome class per failure.
			for _, other := range []error{signing.ErrBadSignature, signing.ErrUntrusted, signing.ErrKeyNotValid, signing.ErrMalformedEnvelope, signing.ErrUnsigned} {
				if other != tc.want {
					require.NotErrorIs(t, err, other)
				}
			}
			t.Log(err)
		})
	}
}

func TestKeyRotation(t *testing.T) {
	old, cur := testKey(t, scb.KeyECDSAP256), testKey(t, scb.KeyEd25519)
	b := testBundle(t)
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, old)))
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, cur)))
	cutover := genTime.Add(30 * 24 * time.Hour)
	ks := keySet(t,
		signing.TrustedKey{Public: old.Public(), Expires: cutover},
		signing.TrustedKey{Public: cur.Public(), NotBefore: cutover.Add(-time.Hour)},
	)
	got, err := signing.VerifyBundle(b, ks, signing.VerifyOptions{Now: cutover.Add(time.Minute)})
	require.NoError(t, err)
	require.Equal(t, []string{keyID(t, cur)}, got.KeyIDs)
	require.Equal(t, []string{keyID(t, old)}, got.OutsideWindow)
	got, err = signing.VerifyBundle(b, ks, signing.VerifyOptions{Now: cutover.Add(-time.Minute)})
	require.NoError(t, err)
	require.Len(t, got.KeyIDs, 2)

	// nbf is inclusive, exp exclusive.
	k := signing.TrustedKey{NotBefore: cutover, Expires: cutover.Add(time.Hour)}
	require.True(t, k.ValidAt(cutover))
	require.False(t, k.ValidAt(cutover.Add(-time.Nanosecond)))
	require.False(t, k.ValidAt(cutover.Add(time.Hour)))
}

func TestSignBundleRefuses(t *testing.T) {
	k := testKey(t, scb.KeyECDSAP256)
	b := testBundle(t)
	require.NoError(t, b.Set(scb.ReadmePath, []byte("changed")))
	require.ErrorIs(t, signing.SignBundle(ctx, b, newSigner(t, k)), scb.ErrDigestMismatch)
	_, ok := b.Get(scb.SignaturePath)
	require.False(t, ok, "nothing signed")

	b, _ = signed(t, k)
	require.NoError(t, b.Set(scb.ReadmePath, []byte("changed")))
	require.NoError(t, b.Set(scb.ManifestPath, scb.NewManifest(b).Encode()))
	require.ErrorIs(t, signing.SignBundle(ctx, b, newSigner(t, testKey(t, scb.KeyEd25519))), signing.ErrStaleSignature)
	b.Delete(scb.SignaturePath)
	require.NoError(t, signing.SignBundle(ctx, b, newSigner(t, k)))
}

func TestBrokenDevicesAreCaught(t *testing.T) {
	p256 := testKey(t, scb.KeyECDSAP256)
	ed := testKey(t, scb.KeyEd25519).(ed25519.PrivateKey)
	for name, dev := range map[string]crypto.Signer{"P1363 ECDSA": p1363{k: p256.(*ecdsa.PrivateKey)}, "Ed25519ph": ed25519ph{ed}} {
		t.Run(name, func(t *testing.T) {
			s := newSigner(t, dev)
			_, err := s.SignPAE(ctx, signing.PAE("t", []byte("x")))
			require.Error(t, err)
			require.Contains(t, err.Error(), "does not verify")
		})
	}
}

func TestUnsupportedKeys(t *testing.T) {
	rsa2048, err := scb.KeyRSA2048.GenerateKey(nil)
	require.NoError(t, err)
	_, err = signing.NewSigner(rsa2048)
	require.ErrorIs(t, err, signing.ErrUnsupportedKey)
	_, err = signing.NewSigner(nil)
	require.ErrorIs(t, err, signing.ErrUnsupportedKey)
	_, err = signing.GenerateKey(scb.KeyRSA2048)
	require.ErrorIs(t, err, signing.ErrUnsupportedKey)
	_, err = signing.NewKeySet(signing.TrustedKey{Public: rsa2048.Public()})
	require.ErrorIs(t, err, signing.ErrUnsupportedKey)
	_, err = signing.KeyID("not a key")
	require.ErrorIs(t, err, signing.ErrUnsupportedKey)
}

func TestPAE(t *testing.T) {
	// The example from the DSSE protocol description.
	require.Equal(t, "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
		string(signing.PAE("http://example.com/HelloWorld", []byte("hello world"))))
	for _, tc := range []struct{ typ, payload string }{{"", ""}, {"a", "\x00\xff"}, {signing.PayloadTypeManifest, "{}\n"}} {
		require.Equal(t, ssldsse.PAE(tc.typ, []byte(tc.payload)), signing.PAE(tc.typ, []byte(tc.payload)))
	}
}

func TestEnvelopeEncoding(t *testing.T) {
	k := testKey(t, scb.KeyEd25519)
	env := signing.NewEnvelope(signing.PayloadTypeManifest, []byte("{\"a\":\"<&>\"}\n"))
	require.NoError(t, env.Sign(ctx, newSigner(t, k)))
	enc := env.Encode()
	// Member order and layout are fixed.
	want := fmt.Sprintf("{\n  \"payloadType\": %q,\n  \"payload\": %q,\n  \"signatures\": [\n    {\n      \"keyid\": %q,\n      \"sig\": %q\n    }\n  ]\n}\n",
		signing.PayloadTypeManifest, base64.StdEncoding.EncodeToString(env.Payload), keyID(t, k), base64.StdEncoding.EncodeToString(env.Signatures[0].Sig))
	require.Equal(t, want, string(enc))
	again, err := signing.ParseEnvelope(enc)
	require.NoError(t, err)
	require.Equal(t, enc, again.Encode())
}

func TestParseEnvelopeRejects(t *testing.T) {
	id := fmt.Sprintf("%064x", 1)
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	ok := func(mod func(m map[string]any)) string {
		m := map[string]any{"payloadType": "t", "payload": "cGF5bG9hZA==", "signatures": []any{map[string]any{"keyid": id, "sig": sig}}}
		mod(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	require.NotPanics(t, func() {
		_, err := signing.ParseEnvelope([]byte(ok(func(map[string]any) {})))
		require.NoError(t, err)
	})
	for name, in := range map[string]string{
		"empty":              ``,
		"not json":           `hello`,
		"array":              `[]`,
		"truncated":          `{"payloadType":"t"`,
		"trailing data":      ok(func(map[string]any) {}) + `{}`,
		"duplicate member":   `{"payloadType":"t","payloadType":"u","payload":"","signatures":[{"keyid":"` + id + `","sig":"` + sig + `"}]}`,
		"unknown member":     ok(func(m map[string]any) { m["extra"] = 1 }),
		"no payloadType":     ok(func(m map[string]any) { delete(m, "payloadType") }),
		"no payload":         ok(func(m map[string]any) { delete(m, "payload") }),
		"payload not base64": ok(func(m map[string]any) { m["payload"] = "***" }),
		"url-safe base64":    ok(func(m map[string]any) { m["payload"] = "-_-_" }),
		"unpadded base64":    ok(func(m map[string]any) { m["payload"] = "cGF5bG9hZA" }),
		"payload number":     ok(func(m map[string]any) { m["payload"] = 5 }),
		"no signatures":      ok(func(m map[string]any) { m["signatures"] = []any{} }),
		"signatures null":    ok(func(m map[string]any) { m["signatures"] = nil }),
		"keyid missing":      ok(func(m map[string]any) { m["signatures"] = []any{map[string]any{"sig": sig}} }),
		"keyid upper case": ok(func(m map[string]any) {
			m["signatures"] = []any{map[string]any{"keyid": fmt.Sprintf("%064X", 0xab), "sig": sig}}
		}),
		"keyid short":        ok(func(m map[string]any) { m["signatures"] = []any{map[string]any{"keyid": "ab", "sig": sig}} }),
		"sig empty":          ok(func(m map[string]any) { m["signatures"] = []any{map[string]any{"keyid": id, "sig": ""}} }),
		"sig unknown member": ok(func(m map[string]any) { m["signatures"] = []any{map[string]any{"keyid": id, "sig": sig, "cert": "x"}} }),
		"duplicate keyid": ok(func(m map[string]any) {
			m["signatures"] = []any{map[string]any{"keyid": id, "sig": sig}, map[string]any{"keyid": id, "sig": sig}}
		}),
		"signature not obj":   ok(func(m map[string]any) { m["signatures"] = []any{"x"} }),
		"deeply nested extra": `{"payloadType":"t","payload":"","signatures":[{"keyid":"` + id + `","sig":"` + sig + `"}],"x":` + string(bytes.Repeat([]byte("["), 5000)) + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				env, err := signing.ParseEnvelope([]byte(in))
				require.ErrorIs(t, err, signing.ErrMalformedEnvelope)
				require.Nil(t, env)
				t.Log(err)
			})
		})
	}
	many := make([]any, signing.MaxSignatures+1)
	for i := range many {
		many[i] = map[string]any{"keyid": fmt.Sprintf("%064x", i), "sig": sig}
	}
	_, err := signing.ParseEnvelope([]byte(ok(func(m map[string]any) { m["signatures"] = many })))
	require.ErrorIs(t, err, signing.ErrMalformedEnvelope)
	_, err = signing.ParseEnvelope(make([]byte, signing.MaxEnvelopeSize+1))
	require.ErrorIs(t, err, signing.ErrMalformedEnvelope)
}

func TestSignerNeverPrintsKey(t *testing.T) {
	for _, kt := range signing.SigningKeyTypes {
		k := testKey(t, kt)
		der, err := scb.MarshalPrivateKeyPEM(k, nil)
		require.NoError(t, err)
		s := newSigner(t, k)
		js, err := json.Marshal(s)
		require.NoError(t, err)
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("signing", "signer", s)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("signing", "signer", s)
		require.Contains(t, logs.String(), keyID(t, k))
		out := fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s) + string(js) + logs.String()
		require.Contains(t, out, keyID(t, k))
		require.NotContains(t, out, string(der[40:60]))
		require.NotContains(t, out, "PRIVATE")
		for _, p := range privateParts(k) {
			require.NotContains(t, out, p)
		}
	}
}

func TestErrorsAreTyped(t *testing.T) {
	b, env := signed(t, testKey(t, scb.KeyECDSAP256))
	env.Signatures[0].Sig[3] ^= 1
	setEnvelope(t, b, env)
	_, err := signing.VerifyBundle(b, keySet(t, trusted(testKey(t, scb.KeyECDSAP256))), signing.VerifyOptions{})
	var se *signing.SignatureError
	require.True(t, errors.As(err, &se))
	require.Equal(t, env.Signatures[0].KeyID, se.KeyID)
	require.Regexp(t, `^key [0-9a-f]{64}: signature does not verify`, err.Error())
}
