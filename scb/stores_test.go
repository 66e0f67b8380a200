package scb_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
)

// jks assembles a JKS byte stream from big-endian fields.
func jks(fields ...any) []byte {
	var b bytes.Buffer
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			b.WriteString(v)
		default:
			binary.Write(&b, binary.BigEndian, v)
		}
	}
	return b.Bytes()
}

// validateBounded runs Validate and fails if it panics or allocates more
// than limit bytes.
func validateBounded(t *testing.T, b *scb.Bundle, limit uint64) error {
	t.Helper()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var err error
	require.NotPanics(t, func() { err = scb.Validate(b, scb.ValidateOptions{}) })
	runtime.ReadMemStats(&m1)
	require.Less(t, m1.TotalAlloc-m0.TotalAlloc, limit, "Validate allocated %d MiB", (m1.TotalAlloc-m0.TotalAlloc)>>20)
	return err
}

// TestValidateHostileStores replaces the Java stores of a real bundle with
// crafted ones whose length and count fields ask for gigabytes. Before the
// structure check, a 41-byte identity.jks made Validate die with a fatal
// "out of memory" (not a recoverable panic).
func TestValidateHostileStores(t *testing.T) {
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "jks", CA: testCA(t)})
	require.NoError(t, err)
	const feed = uint32(0xFEEDFEED)
	cases := map[string]struct {
		path string
		data []byte
	}{
		"identity chain count 2^32-1":    {scb.CloudIdentityPath, jks(feed, uint32(2), uint32(1), uint32(1), uint16(6), "client", uint64(0), uint32(0), uint32(0xFFFFFFFF), "abc")},
		"identity key length 2^32-16":    {scb.CloudIdentityPath, jks(feed, uint32(2), uint32(1), uint32(1), uint16(6), "client", uint64(0), uint32(0xFFFFFFF0), "abc")},
		"trust cert length 2^32-16":      {scb.CloudTrustStorePath, jks(feed, uint32(2), uint32(1), uint32(2), uint16(2), "ca", uint64(0), uint16(5), "X.509", uint32(0xFFFFFFF0), "abc")},
		"trust entry count 2^32-1":       {scb.CloudTrustStorePath, jks(feed, uint32(2), uint32(0xFFFFFFFF), uint32(2), uint16(2), "ca")},
		"trust unknown version":          {scb.CloudTrustStorePath, jks(feed, uint32(9), uint32(0))},
		"trust not jks":                  {scb.CloudTrustStorePath, []byte("PK\x03\x04 not a keystore")},
		"identity empty":                 {scb.CloudIdentityPath, []byte{}},
		"identity pkcs12 instead of jks": {scb.CloudIdentityPath, mustGet(t, b, scb.CloudPFXPath)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := cloneBundle(t, b)
			require.NoError(t, c.Set(tc.path, tc.data))
			err := validateBounded(t, c, 64<<20)
			require.Error(t, err)
			var fe *scb.FileError
			require.True(t, errors.As(err, &fe))
		})
	}

	// Every truncation and many random corruptions of the real stores.
	for _, p := range []string{scb.CloudIdentityPath, scb.CloudTrustStorePath} {
		t.Run("damaged "+p, func(t *testing.T) {
			orig := mustGet(t, b, p)
			r := rand.New(rand.NewPCG(3, uint64(len(orig))))
			for i := 0; i < len(orig); i += 3 {
				c := cloneBundle(t, b)
				require.NoError(t, c.Set(p, orig[:i]))
				require.Error(t, validateBounded(t, c, 64<<20), "%s cut to %d bytes accepted", p, i)

				d := bytes.Clone(orig)
				d[r.IntN(len(d))] ^= byte(1 + r.IntN(255))
				require.NoError(t, c.Set(p, d))
				require.Error(t, validateBounded(t, c, 64<<20), "%s with a flipped byte accepted", p)
			}
		})
	}
}

func mustGet(t testing.TB, b *scb.Bundle, p string) []byte {
	t.Helper()
	d, ok := b.Get(p)
	require.True(t, ok, p)
	return d
}

func cloneBundle(t testing.TB, b *scb.Bundle) *scb.Bundle {
	t.Helper()
	c := &scb.Bundle{}
	for _, f := range b.Files() {
		require.NoError(t, c.Set(f.Path, bytes.Clone(f.Data)))
	}
	return c
}
