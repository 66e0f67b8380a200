package signing_test

import (
	"testing"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

func BenchmarkSign(b *testing.B) {
	for _, kt := range signing.SigningKeyTypes {
		b.Run(string(kt), func(b *testing.B) {
			bundle := testBundle(b)
			s := newSigner(b, testKey(b, kt))
			manifest, _ := bundle.Get(scb.ManifestPath)
			b.ReportAllocs()
			for b.Loop() {
				env := signing.NewEnvelope(signing.PayloadTypeManifest, manifest)
				if err := env.Sign(ctx, s); err != nil {
					b.Fatal(err)
				}
				_ = env.Encode()
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, kt := range signing.SigningKeyTypes {
		b.Run(string(kt), func(b *testing.B) {
			k := testKey(b, kt)
			bundle := testBundle(b)
			if err := signing.SignBundle(ctx, bundle, newSigner(b, k)); err != nil {
				b.Fatal(err)
			}
			ks := keySet(b, trusted(k))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := signing.VerifyBundle(bundle, ks, signing.VerifyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
