package loader_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

// FuzzDecode feeds arbitrary bytes to Decode. Invariants: no panic; every
// rejection is a *loader.Error with a known stage; an accepted bundle has a
// usable TLS configuration and a certificate.
func FuzzDecode(f *testing.F) {
	b := loadertest.Build(f, scb.Request{ClusterName: "c", ClientID: "x", Now: loadertest.Clock(t0), CA: loadertest.NewCA(f, loadertest.Clock(t0))})
	for _, format := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
		var buf bytes.Buffer
		if err := b.Encode(&buf, scb.WriteOptions{Format: format}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()/3])
	}
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{})
	stages := map[loader.Stage]bool{
		loader.StageArchive: true, loader.StageManifest: true, loader.StageSignature: true,
		loader.StageContent: true, loader.StageKey: true, loader.StageValidity: true,
	}
	lim := scb.Limits{MaxFiles: 64, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		lb, err := loader.Decode(bytes.NewReader(data), int64(len(data)), loader.Options{Now: loadertest.Clock(t0), Limits: lim})
		if err != nil {
			var le *loader.Error
			if !errors.As(err, &le) || !stages[le.Stage] {
				t.Fatalf("rejection is not a *loader.Error with a known stage: %T %v", err, err)
			}
			return
		}
		if lb.Certificate() == nil || lb.TLSConfig().GetClientCertificate == nil || len(lb.Endpoints().ContactPoints) == 0 {
			t.Fatal("accepted bundle is incomplete")
		}
	})
}
