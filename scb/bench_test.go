package scb_test

// Benchmarks for the bundle pipeline; figures and how to run them are in
// docs/performance.md:
//
//	go test -run '^$' -bench . -benchmem -count 6 -cpu 1 ./scb/

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/render"
	"github.com/scbkit/scbkit/scb/signing"
)

func benchRequest(b *testing.B) scb.Request {
	return scb.Request{
		ClusterName: "bench", ClientID: "app", CA: testCA(b),
		ContactPoints: []string{"10.0.0.1:9042", "10.0.0.2:9042", "10.0.0.3:9042"},
	}
}

// BenchmarkBuild measures a complete bundle: ECDSA P-256 client key and
// certificate, every file including cert.pfx (PKCS#12) and the two JKS
// stores, self-validation, and (for "complete") the zip encoding.
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	req := benchRequest(b)

	b.Run("complete", func(b *testing.B) {
		var buf bytes.Buffer
		for m := startCPU(b); m.loop(); {
			bundle, err := scb.Build(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			if err := bundle.Encode(&buf, scb.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "zip-bytes")
	})

	// What `scb generate` makes by default: every driver's configuration
	// and examples as well, signed.
	b.Run("complete-all-drivers-signed", func(b *testing.B) {
		r := req
		r.Renderers = render.All()
		key, err := signing.GenerateKey(scb.KeyECDSAP256)
		require.NoError(b, err)
		signer, err := signing.NewSigner(key)
		require.NoError(b, err)
		var buf bytes.Buffer
		for m := startCPU(b); m.loop(); {
			bundle, err := scb.Build(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			if err := signing.SignBundle(ctx, bundle, signer); err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			if err := bundle.Encode(&buf, scb.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "zip-bytes")
	})

	b.Run("build-only", func(b *testing.B) {
		for m := startCPU(b); m.loop(); {
			if _, err := scb.Build(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})

	// Without the stock-driver component: no PKCS#12, no JKS, no config.json.
	b.Run("build-only-no-stock-files", func(b *testing.B) {
		r := req
		r.OmitStockDriverFiles = true
		for m := startCPU(b); m.loop(); {
			if _, err := scb.Build(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})

	bundle, err := scb.Build(ctx, req)
	require.NoError(b, err)
	for _, tc := range []struct {
		name string
		opts scb.WriteOptions
	}{
		{"encode-zip/fastest", scb.WriteOptions{Compression: scb.CompressionFastest}},
		{"encode-zip/default", scb.WriteOptions{}},
		{"encode-zip/best", scb.WriteOptions{Compression: scb.CompressionBest}},
		{"encode-targz/default", scb.WriteOptions{Format: scb.FormatTarGz}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var buf bytes.Buffer
			for m := startCPU(b); m.loop(); {
				buf.Reset()
				if err := bundle.Encode(&buf, tc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(totalSize(bundle)))
			b.ReportMetric(float64(buf.Len()), "out-bytes")
		})
	}
}

// BenchmarkValidate measures the full consistency check of a complete
// bundle (chain, key match, PKCS#12 and JKS opened, manifest).
func BenchmarkValidate(b *testing.B) {
	bundle, err := scb.Build(context.Background(), benchRequest(b))
	require.NoError(b, err)
	for m := startCPU(b); m.loop(); {
		if err := scb.Validate(bundle, scb.ValidateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode measures reading a complete bundle from memory.
func BenchmarkDecode(b *testing.B) {
	bundle, err := scb.Build(context.Background(), benchRequest(b))
	require.NoError(b, err)
	for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
		b.Run(string(f), func(b *testing.B) {
			var buf bytes.Buffer
			require.NoError(b, bundle.Encode(&buf, scb.WriteOptions{Format: f}))
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			for m := startCPU(b); m.loop(); {
				if _, err := scb.Decode(bytes.NewReader(data), int64(len(data)), scb.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func totalSize(b *scb.Bundle) int {
	n := 0
	for _, f := range b.Files() {
		n += len(f.Data)
	}
	return n
}

// cpuMeter wraps b.Loop and reports, besides wall time, the CPU time
// (user + system, whole process) per iteration as "cpu-ns/op". On a shared
// or overloaded machine wall time measures the queue for a core; CPU time
// still measures the work.
type cpuMeter struct {
	b     *testing.B
	n     int
	start time.Duration
}

func startCPU(b *testing.B) *cpuMeter { return &cpuMeter{b: b, start: processCPU()} }

func (m *cpuMeter) loop() bool {
	if m.b.Loop() {
		m.n++
		return true
	}
	if m.n > 0 {
		m.b.ReportMetric(float64(processCPU()-m.start)/float64(m.n), "cpu-ns/op")
	}
	return false
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
