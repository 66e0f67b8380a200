package verify_test

import (
	"bytes"
	"testing"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/verify"
)

// BenchmarkVerifyArchive is a full verification of a signed zip: decode,
// signature, manifest, chain, validity and consistency (which opens the
// PKCS#12 and JKS stores, the dominant cost).
func BenchmarkVerifyArchive(b *testing.B) {
	var buf bytes.Buffer
	if err := signedBundle(b).Encode(&buf, scb.WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	ks := trustedKeys(b)
	b.ReportAllocs()
	for b.Loop() {
		if r := verify.VerifyArchive(buf.Bytes(), nil, verify.Options{Keys: ks, Now: verifyTime}); !r.OK() {
			b.Fatal(r.Err())
		}
	}
}
