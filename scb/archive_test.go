package scb_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
)

func TestRoundTripEveryFormat(t *testing.T) {
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c1", ClientID: "app", CA: testCA(t)})
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range scb.Formats {
		for _, c := range []scb.Compression{scb.CompressionFastest, scb.CompressionDefault, scb.CompressionBest} {
			name := filepath.Join(dir, string(f)+"-"+string(rune('a'+c)))
			require.NoError(t, b.WriteFile(name, scb.WriteOptions{Format: f, Compression: c}, false))
			fi, err := os.Stat(name)
			require.NoError(t, err)
			if f == scb.FormatDir {
				require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
				fi, err = os.Stat(filepath.Join(name, "key"))
				require.NoError(t, err)
			}
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
			got, err := scb.ReadFile(name, scb.Limits{})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(b.Files(), got.Files(), cmp.Comparer(func(a, b scb.File) bool { return a.Path == b.Path && bytes.Equal(a.Data, b.Data) })))
			require.NoError(t, scb.Validate(got, scb.ValidateOptions{}))
			// Overwriting needs the flag.
			require.ErrorIs(t, b.WriteFile(name, scb.WriteOptions{Format: f, Compression: c}, false), scb.ErrExists)
			require.NoError(t, b.WriteFile(name, scb.WriteOptions{Format: f, Compression: c}, true))
		}
	}
}
