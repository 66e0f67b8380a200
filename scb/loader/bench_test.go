package loader_test

import (
	"bytes"
	"testing"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

// typicalBundle is a default bundle: ECDSA P-256, every driver, stock-driver
// files included, unencrypted key.
func typicalBundle(b *testing.B) *scb.Bundle {
	return loadertest.Build(b, scb.Request{ClusterName: "prod-east", ClientID: "billing", ContactPoints: []string{"10.0.0.5", "10.0.0.6", "10.0.0.7"}})
}

// BenchmarkOpen is the cost of loader.Open on a typical zip bundle on disk:
// read and inflate every entry, check every digest against the manifest,
// parse metadata, configuration, certificates and key, verify the chain
// and build the *tls.Config.
func BenchmarkOpen(b *testing.B) {
	p := loadertest.Write(b, typicalBundle(b), b.TempDir(), "bundle.zip", scb.FormatZip)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		lb, err := loader.Open(p, loader.Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = lb.TLSConfig()
	}
}

// BenchmarkDecode is Open from memory (no file system).
func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	if err := typicalBundle(b).Encode(&buf, scb.WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		lb, err := loader.Decode(bytes.NewReader(data), int64(len(data)), loader.Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = lb.TLSConfig()
	}
}

// BenchmarkLoad is the checks alone, on an already decoded bundle.
func BenchmarkLoad(b *testing.B) {
	sb := typicalBundle(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		lb, err := loader.Load(sb, loader.Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = lb.TLSConfig()
	}
}

// BenchmarkOpenEncryptedKey shows the price of an encrypted key: PBKDF2
// with 100 000 iterations dominates.
func BenchmarkOpenEncryptedKey(b *testing.B) {
	pass := []byte("benchmark passphrase")
	sb := loadertest.Build(b, scb.Request{ClusterName: "c", ClientID: "x", KeyPassphrase: pass, OmitStockDriverFiles: true})
	p := loadertest.Write(b, sb, b.TempDir(), "bundle.zip", scb.FormatZip)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := loader.Open(p, loader.Options{KeyPassphrase: pass}); err != nil {
			b.Fatal(err)
		}
	}
}
