package signing_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"payloadType":"t","payload":"","signatures":[{"keyid":"0000000000000000000000000000000000000000000000000000000000000000","sig":"AA=="}]}`))
	f.Add([]byte(`{"payloadType":"t","payload":"cA==","signatures":[]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`{"a":[[[{"b":1,"b":2}]]]}`))
	env := signing.NewEnvelope(signing.PayloadTypeManifest, []byte("{}\n"))
	env.Signatures = []signing.Signature{{KeyID: "ab" + string(bytes.Repeat([]byte("0"), 62)), Sig: []byte{1, 2, 3}}}
	f.Add(env.Encode())
	ks, err := signing.NewKeySet(signing.TrustedKey{Public: testKey(f, scb.KeyEd25519).Public()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := signing.ParseEnvelope(data)
		if err != nil {
			if !errors.Is(err, signing.ErrMalformedEnvelope) {
				t.Fatalf("error does not wrap ErrMalformedEnvelope: %v", err)
			}
			return
		}
		// Parse → encode → parse is stable.
		enc := e.Encode()
		e2, err := signing.ParseEnvelope(enc)
		if err != nil {
			t.Fatalf("re-parse of encoded envelope: %v", err)
		}
		if !bytes.Equal(e2.Encode(), enc) {
			t.Fatal("encoding is not stable")
		}
		// Verification of arbitrary input fails cleanly.
		if _, err := e.Verify(ks, signing.VerifyOptions{}); err == nil {
			t.Fatal("random envelope verified")
		} else if !errors.Is(err, signing.ErrUntrusted) && !errors.Is(err, signing.ErrBadSignature) {
			t.Fatalf("unexpected verification error: %v", err)
		}
	})
}

func FuzzParseArchiveStatement(f *testing.F) {
	f.Add(signing.NewArchiveStatement("a.zip", []byte("x")).Encode())
	f.Add([]byte(`{"type":"scbkit.archive/1","name":"a","size":1e3,"sha256":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := signing.ParseArchiveStatement(data)
		if err != nil {
			if !errors.Is(err, signing.ErrMalformedEnvelope) {
				t.Fatalf("error does not wrap ErrMalformedEnvelope: %v", err)
			}
			return
		}
		st2, err := signing.ParseArchiveStatement(st.Encode())
		if err != nil || *st2 != *st {
			t.Fatalf("statement does not round-trip: %v", err)
		}
	})
}

func FuzzParseKeySet(f *testing.F) {
	for _, kt := range []scb.KeyType{scb.KeyECDSAP256, scb.KeyEd25519, scb.KeyRSA3072} {
		ks, err := signing.NewKeySet(signing.TrustedKey{Public: testKey(f, kt).Public()})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ks.EncodeJWKS())
		p, _ := signing.EncodePublicKeyPEM(testKey(f, kt).Public())
		f.Add(p)
	}
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":"","nbf":1,"exp":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := signing.ParseKeySet(data)
		if err != nil {
			if !errors.Is(err, signing.ErrMalformedKeySet) && !errors.Is(err, signing.ErrUnsupportedKey) {
				t.Fatalf("error wraps neither documented sentinel: %v", err)
			}
			return
		}
		enc := ks.EncodeJWKS()
		ks2, err := signing.ParseKeySet(enc)
		if err != nil {
			t.Fatalf("re-parse of encoded key set: %v", err)
		}
		if !bytes.Equal(ks2.EncodeJWKS(), enc) {
			t.Fatal("key set encoding is not stable")
		}
	})
}
