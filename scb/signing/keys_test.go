package signing_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

func TestPrivateKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("correct horse")
	for _, kt := range signing.SigningKeyTypes {
		t.Run(string(kt), func(t *testing.T) {
			k := testKey(t, kt)
			name := filepath.Join(dir, string(kt)+".pem")
			require.NoError(t, signing.WritePrivateKeyFile(name, k, signing.PrivateKeyEncoding{Passphrase: pass}, false))
			fi, err := os.Stat(name)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			data, _ := os.ReadFile(name)
			require.True(t, scb.IsEncryptedKeyPEM(data))

			got, err := signing.ReadPrivateKeyFile(name, pass)
			require.NoError(t, err)
			require.True(t, got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()))

			if kt != scb.KeyECDSAP256 {
				return // PBKDF2 is slow; the failure paths do not depend on the key type
			}
			_, err = signing.ReadPrivateKeyFile(name, []byte("hunter2"))
			require.ErrorIs(t, err, scb.ErrPassphrase)
			require.NotContains(t, err.Error(), "hunter2")
			_, err = signing.ReadPrivateKeyFile(name, nil)
			require.ErrorIs(t, err, scb.ErrPassphrase)

			err = signing.WritePrivateKeyFile(name, k, signing.PrivateKeyEncoding{Passphrase: pass}, false)
			require.ErrorIs(t, err, scb.ErrExists)
		})
	}
}

func TestPassphraseNeverPrints(t *testing.T) {
	enc := signing.PrivateKeyEncoding{Passphrase: []byte("hunter2")}
	require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", enc, enc, enc, enc), "hunter2")
}

func TestUnencryptedKeyNeedsOverride(t *testing.T) {
	k := testKey(t, scb.KeyEd25519)
	name := filepath.Join(t.TempDir(), "k.pem")
	require.ErrorIs(t, signing.WritePrivateKeyFile(name, k, signing.PrivateKeyEncoding{}, false), signing.ErrUnencrypted)
	_, err := os.Stat(name)
	require.True(t, os.IsNotExist(err), "nothing written")
	require.NoError(t, signing.WritePrivateKeyFile(name, k, signing.PrivateKeyEncoding{InsecureUnencrypted: true}, false))
	got, err := signing.ReadPrivateKeyFile(name, nil)
	require.NoError(t, err)
	require.Equal(t, k.Public(), got.Public())
}

func TestKeySetJWKSRoundTrip(t *testing.T) {
	nbf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := nbf.AddDate(1, 0, 0)
	var tks []signing.TrustedKey
	for i, kt := range signing.SigningKeyTypes {
		tk := trusted(testKey(t, kt))
		if i%2 == 0 {
			tk.NotBefore, tk.Expires = nbf, exp
		}
		tks = append(tks, tk)
	}
	ks := keySet(t, tks...)
	enc := ks.EncodeJWKS()
	got, err := signing.ParseKeySet(enc)
	require.NoError(t, err)
	require.Equal(t, ks.KeyIDs(), got.KeyIDs())
	require.Equal(t, enc, got.EncodeJWKS())
	for i, id := range ks.KeyIDs() {
		k, ok := got.Lookup(id)
		require.True(t, ok)
		require.True(t, k.NotBefore.Equal(tks[i].NotBefore) && k.Expires.Equal(tks[i].Expires))
	}

	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(enc, &doc))
	require.Equal(t, map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": ks.KeyIDs()[0],
		"x": doc.Keys[0]["x"], "y": doc.Keys[0]["y"], "nbf": float64(nbf.Unix()), "exp": float64(exp.Unix())}, doc.Keys[0])
	require.Equal(t, "OKP", doc.Keys[2]["kty"])
	require.Equal(t, "EdDSA", doc.Keys[2]["alg"])
	require.Equal(t, "PS256", doc.Keys[3]["alg"])
	require.Equal(t, "AQAB", doc.Keys[3]["e"])
}

func TestKeySetPEM(t *testing.T) {
	var pemData []byte
	for _, kt := range signing.SigningKeyTypes {
		p, err := signing.EncodePublicKeyPEM(testKey(t, kt).Public())
		require.NoError(t, err)
		pemData = append(pemData, p...)
	}
	ks, err := signing.ParseKeySet(pemData)
	require.NoError(t, err)
	require.Equal(t, len(signing.SigningKeyTypes), ks.Len())

	priv, err := scb.MarshalPrivateKeyPEM(testKey(t, scb.KeyEd25519), nil)
	require.NoError(t, err)
	_, err = signing.ParseKeySet(append(pemData, priv...))
	require.ErrorIs(t, err, signing.ErrMalformedKeySet)
	require.NotContains(t, err.Error(), string(priv[40:60]))
	_, err = signing.ParseKeySet(append(pemData, pemData...))
	require.ErrorIs(t, err, signing.ErrMalformedKeySet, "duplicate keys")
}

func TestKeySetFile(t *testing.T) {
	ks := keySet(t, trusted(testKey(t, scb.KeyECDSAP256)))
	name := filepath.Join(t.TempDir(), "keys.jwks.json")
	require.NoError(t, os.WriteFile(name, ks.EncodeJWKS(), 0o644))
	got, err := signing.ReadKeySetFile(name)
	require.NoError(t, err)
	require.Equal(t, ks.KeyIDs(), got.KeyIDs())
}

func TestParseKeySetRejects(t *testing.T) {
	good := string(keySet(t, trusted(testKey(t, scb.KeyECDSAP256))).EncodeJWKS())
	var m struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(good), &m))
	with := func(mod func(k map[string]any)) string {
		k := map[string]any{}
		for n, v := range m.Keys[0] {
			k[n] = v
		}
		mod(k)
		b, _ := json.Marshal(map[string]any{"keys": []any{k}})
		return string(b)
	}
	ed := testKey(t, scb.KeyEd25519).(ed25519.PrivateKey)
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"empty":           {``, signing.ErrMalformedKeySet},
		"garbage":         {`hello`, signing.ErrMalformedKeySet},
		"no keys":         {`{"keys":[]}`, signing.ErrMalformedKeySet},
		"keys missing":    {`{}`, signing.ErrMalformedKeySet},
		"duplicate":       {`{"keys":[],"keys":[]}`, signing.ErrMalformedKeySet},
		"kid mismatch":    {with(func(k map[string]any) { k["kid"] = strings.Repeat("0", 64) }), signing.ErrMalformedKeySet},
		"alg mismatch":    {with(func(k map[string]any) { k["alg"] = "ES384" }), signing.ErrMalformedKeySet},
		"use enc":         {with(func(k map[string]any) { k["use"] = "enc" }), signing.ErrMalformedKeySet},
		"key_ops":         {with(func(k map[string]any) { k["key_ops"] = []string{"sign"} }), signing.ErrMalformedKeySet},
		"private d":       {with(func(k map[string]any) { k["d"] = "c2VjcmV0" }), signing.ErrMalformedKeySet},
		"x short":         {with(func(k map[string]any) { k["x"] = "AAAA" }), signing.ErrMalformedKeySet},
		"x padded":        {with(func(k map[string]any) { k["x"] = k["x"].(string) + "=" }), signing.ErrMalformedKeySet},
		"off curve":       {with(func(k map[string]any) { k["y"] = k["x"] }), signing.ErrMalformedKeySet},
		"nbf float":       {with(func(k map[string]any) { k["nbf"] = 1.5 }), signing.ErrMalformedKeySet},
		"exp string":      {with(func(k map[string]any) { k["exp"] = "soon" }), signing.ErrMalformedKeySet},
		"exp before nbf":  {with(func(k map[string]any) { k["nbf"] = 200; k["exp"] = 100 }), signing.ErrMalformedKeySet},
		"secp256k1":       {with(func(k map[string]any) { k["crv"] = "secp256k1" }), signing.ErrUnsupportedKey},
		"oct":             {`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, signing.ErrMalformedKeySet},
		"unknown kty":     {`{"keys":[{"kty":"XYZ"}]}`, signing.ErrUnsupportedKey},
		"ed25519 short":   {`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, signing.ErrMalformedKeySet},
		"X25519":          {`{"keys":[{"kty":"OKP","crv":"X25519","x":"` + b64(ed.Public().(ed25519.PublicKey)) + `"}]}`, signing.ErrUnsupportedKey},
		"rsa small":       {`{"keys":[{"kty":"RSA","n":"` + b64(bytes.Repeat([]byte{0xff}, 256)) + `","e":"AQAB"}]}`, signing.ErrUnsupportedKey},
		"rsa even e":      {`{"keys":[{"kty":"RSA","n":"` + b64(bytes.Repeat([]byte{0xff}, 384)) + `","e":"AQAA"}]}`, signing.ErrMalformedKeySet},
		"kty not string":  {`{"keys":[{"kty":1}]}`, signing.ErrMalformedKeySet},
		"keys not array":  {`{"keys":{}}`, signing.ErrMalformedKeySet},
		"trailing":        {good + "{}", signing.ErrMalformedKeySet},
		"pem certificate": {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", signing.ErrMalformedKeySet},
	} {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				_, err := signing.ParseKeySet([]byte(tc.in))
				require.ErrorIs(t, err, tc.want)
				require.NotContains(t, err.Error(), "c2VjcmV0")
				t.Log(err)
			})
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
