package scb_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
)

func zipBytes(t *testing.T) []byte {
	t.Helper()
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", CA: testCA(t)})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, b.Encode(&buf, scb.WriteOptions{}))
	return buf.Bytes()
}

// eocd returns the offset of the end-of-central-directory record.
func eocd(t *testing.T, z []byte) int {
	t.Helper()
	i := bytes.LastIndex(z, []byte("PK\x05\x06"))
	require.Greater(t, i, 0)
	return i
}

func decodeZip(z []byte) error {
	_, err := scb.Decode(bytes.NewReader(z), int64(len(z)), scb.Limits{})
	return err
}

// TestZipLocalHeadersMustMatchCentralDirectory covers zips that Go's
// central-directory reader would accept but that Java's ZipInputStream (the
// Java driver's reader) would read differently.
func TestZipLocalHeadersMustMatchCentralDirectory(t *testing.T) {
	good := zipBytes(t)
	require.NoError(t, decodeZip(good))

	t.Run("smuggled local entry before the central directory", func(t *testing.T) {
		e := eocd(t, good)
		cdOff := int(binary.LittleEndian.Uint32(good[e+16 : e+20]))
		// A stored local entry "config.json" that is in no directory.
		name := []byte("config.json")
		data := []byte(`{"host":"attacker.example","port":443}`)
		var extra bytes.Buffer
		h := make([]byte, 30)
		copy(h, "PK\x03\x04")
		binary.LittleEndian.PutUint16(h[4:], 20)
		binary.LittleEndian.PutUint32(h[18:], uint32(len(data)))
		binary.LittleEndian.PutUint32(h[22:], uint32(len(data)))
		binary.LittleEndian.PutUint16(h[26:], uint16(len(name)))
		extra.Write(h)
		extra.Write(name)
		extra.Write(data)
		z := append(append(append([]byte{}, good[:cdOff]...), extra.Bytes()...), good[cdOff:]...)
		e2 := e + extra.Len()
		binary.LittleEndian.PutUint32(z[e2+16:e2+20], uint32(cdOff+extra.Len()))
		err := decodeZip(z)
		require.ErrorIs(t, err, scb.ErrMalformedArchive)
		require.ErrorContains(t, err, "unlisted data after the last entry")
	})

	t.Run("local name differs from the directory", func(t *testing.T) {
		z := append([]byte{}, good...)
		nameLen := int(binary.LittleEndian.Uint16(z[26:28]))
		require.Greater(t, nameLen, 0)
		z[30] ^= 0x01 // first byte of the first local name
		err := decodeZip(z)
		require.ErrorIs(t, err, scb.ErrMalformedArchive)
		require.ErrorContains(t, err, "central directory says")
	})

	t.Run("data before the first entry", func(t *testing.T) {
		z := append([]byte("#!/bin/sh\nexit 0\n"), good...)
		require.ErrorIs(t, decodeZip(z), scb.ErrMalformedArchive)
	})
}

// TestZipLayoutAcceptsOtherWriters: zips written by Python's zipfile and by
// Info-ZIP's zip (both sequential, the latter with a leading directory
// entry) still read.
func TestZipLayoutAcceptsOtherWriters(t *testing.T) {
	dir := t.TempDir()
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", CA: testCA(t)})
	require.NoError(t, err)
	src := filepath.Join(dir, "src")
	require.NoError(t, b.WriteFile(src, scb.WriteOptions{Format: scb.FormatDir}, false))
	tools := map[string]*exec.Cmd{
		"python3": exec.Command("python3", "-c", `import sys, os, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))`, src, filepath.Join(dir, "py.zip")),
		"zip": exec.Command("sh", "-c", "cd "+src+" && zip -qr "+filepath.Join(dir, "infozip.zip")+" ."),
	}
	for name, cmd := range tools {
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath(name); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s is required in CI: %v", name, err)
				}
				t.Skipf("%s not installed", name)
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
	for _, f := range []string{"py.zip"} {
		got, err := scb.ReadFile(filepath.Join(dir, f), scb.Limits{})
		require.NoError(t, err, f)
		require.NoError(t, scb.Validate(got, scb.ValidateOptions{}), f)
	}
	// Info-ZIP stores "./"-less names with directory entries; read it too.
	if _, err := os.Stat(filepath.Join(dir, "infozip.zip")); err == nil {
		got, err := scb.ReadFile(filepath.Join(dir, "infozip.zip"), scb.Limits{})
		require.NoError(t, err)
		require.NoError(t, scb.Validate(got, scb.ValidateOptions{}))
	}
}
