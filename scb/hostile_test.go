package scb_test

// Hostile input for the bundle readers: crafted zips, tar.gz streams and
// directories. Every rejection must carry the documented sentinel, nothing
// may panic, and nothing may be written anywhere.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
)

// zent is one entry of a crafted zip. With raw set, data is written as the
// already-compressed body and the header's sizes and CRC are taken as they
// are, so they can lie.
type zent struct {
	name string
	data []byte
	mode fs.FileMode
	raw  *zip.FileHeader
}

func mkzip(t testing.TB, entries ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.raw != nil {
			w, err := zw.CreateRaw(e.raw)
			require.NoError(t, err)
			_, err = w.Write(e.data)
			require.NoError(t, err)
			continue
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o600
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// tent is one entry of a crafted tar.gz. With short set, the body is cut
// off after the header (the header may declare any size).
type tent struct {
	hdr   tar.Header
	data  []byte
	short bool
}

func reg(name string, data string) tent {
	return tent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(data))}, data: []byte(data)}
}

func mktgz(t testing.TB, entries ...tent) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	for _, e := range entries {
		h := e.hdr
		if h.Format == tar.FormatUnknown && len(h.Name) > 100 {
			h.Format = tar.FormatPAX
		}
		require.NoError(t, tw.WriteHeader(&h))
		if e.short {
			require.NoError(t, gw.Close())
			return buf.Bytes()
		}
		if len(e.data) > 0 {
			_, err := tw.Write(e.data)
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gw.Close())
	return buf.Bytes()
}

// tarThenGzip writes a one-file tar, appends extra after its end marker
// and gzips the lot.
func tarThenGzip(t testing.TB, extra []byte) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "a", Mode: 0o600, Size: 1}))
	_, err := tw.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	tb.Write(extra)
	var gb bytes.Buffer
	gw := gzip.NewWriter(&gb)
	_, err = gw.Write(tb.Bytes())
	require.NoError(t, err)
	require.NoError(t, gw.Close())
	return gb.Bytes()
}

// badGzipCRC corrupts the CRC-32 in a gzip trailer.
func badGzipCRC(gz []byte) []byte {
	gz = bytes.Clone(gz)
	gz[len(gz)-8] ^= 0xff
	return gz
}

func deflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	return buf.Bytes()
}

// decodeNoPanic runs scb.Decode and turns a panic into a test failure.
func decodeNoPanic(t testing.TB, data []byte, lim scb.Limits) (b *scb.Bundle, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Decode panicked: %v", r)
		}
	}()
	return scb.Decode(bytes.NewReader(data), int64(len(data)), lim)
}

// snapshot lists every path under root with its size, to show that a
// reader wrote nothing.
func snapshot(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %v %d", p, fi.Mode(), fi.Size()))
		return nil
	}))
	sort.Strings(out)
	return out
}

type hostileCase struct {
	name string
	data []byte
	lim  scb.Limits
	want error
}

func hostileZips(t testing.TB) []hostileCase {
	ok := zent{name: "ok.txt", data: []byte("fine")}
	big := bytes.Repeat([]byte{0}, 9<<20)
	bigDeflated := deflate(t, big)
	lie := bytes.Repeat([]byte("A"), 64<<10)
	lieDeflated := deflate(t, lie)
	rawHeader := func(name string, crc uint32, comp, uncomp uint64) *zip.FileHeader {
		return &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc, CompressedSize64: comp, UncompressedSize64: uncomp}
	}
	var many []zent
	for i := range 5 {
		many = append(many, zent{name: fmt.Sprintf("f%d", i), data: []byte("x")})
	}
	meg := bytes.Repeat([]byte{0}, 1<<20)
	var bomb []zent
	for i := range 12 {
		bomb = append(bomb, zent{name: fmt.Sprintf("zeros-%02d", i), data: meg})
	}
	return []hostileCase{
		{"zip/dotdot", mkzip(t, ok, zent{name: "../evil", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/absolute", mkzip(t, zent{name: "/abs", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/inner-dotdot", mkzip(t, zent{name: "a/../../b", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/backslash", mkzip(t, zent{name: `..\evil`, data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/backslash-inner", mkzip(t, zent{name: `a\b`, data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/drive-letter", mkzip(t, zent{name: "C:/evil", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/drive-relative", mkzip(t, zent{name: "C:evil", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/dot-slash", mkzip(t, zent{name: "./x", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/double-slash", mkzip(t, zent{name: "a//b", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/nul", mkzip(t, zent{name: "a\x00b", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/newline", mkzip(t, zent{name: "a\nb", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/empty-name", mkzip(t, zent{name: "", data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/long-name", mkzip(t, zent{name: strings.Repeat("a", 600), data: []byte("x")}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/dir-dotdot", mkzip(t, zent{name: "../", mode: fs.ModeDir | 0o700}), scb.Limits{}, scb.ErrUnsafePath},
		{"zip/duplicate", mkzip(t, ok, ok), scb.Limits{}, scb.ErrMalformedArchive},
		{"zip/symlink", mkzip(t, zent{name: "key", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/symlink-relative", mkzip(t, zent{name: "key", data: []byte("../../../etc/passwd"), mode: fs.ModeSymlink | 0o777}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/dir-mode-no-slash", mkzip(t, zent{name: "d", mode: fs.ModeDir | 0o700}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/block-device", mkzip(t, zent{name: "sda", mode: fs.ModeDevice | 0o600}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/char-device", mkzip(t, zent{name: "null", mode: fs.ModeDevice | fs.ModeCharDevice | 0o600}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/fifo", mkzip(t, zent{name: "fifo", mode: fs.ModeNamedPipe | 0o600}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/socket", mkzip(t, zent{name: "sock", mode: fs.ModeSocket | 0o600}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"zip/declared-too-large", mkzip(t, zent{raw: rawHeader("big", crc32.ChecksumIEEE(big), uint64(len(bigDeflated)), uint64(len(big))), data: bigDeflated}), scb.Limits{}, scb.ErrTooLarge},
		{"zip/declared-huge", mkzip(t, zent{raw: rawHeader("huge", 0, 10, 1<<62), data: deflate(t, []byte("x"))}), scb.Limits{}, scb.ErrTooLarge},
		{"zip/content-beyond-declared", mkzip(t, zent{raw: rawHeader("lie", crc32.ChecksumIEEE(lie[:10]), uint64(len(lieDeflated)), 10), data: lieDeflated}), scb.Limits{}, scb.ErrMalformedArchive},
		{"zip/content-beyond-limit-declared-small", mkzip(t, zent{raw: rawHeader("bomb", 0, uint64(len(bigDeflated)), 100), data: bigDeflated}), scb.Limits{MaxFileSize: 1 << 20}, scb.ErrMalformedArchive},
		{"zip/too-many-files", mkzip(t, many...), scb.Limits{MaxFiles: 4}, scb.ErrTooLarge},
		{"zip/bomb-total", mkzip(t, bomb...), scb.Limits{MaxFileSize: 2 << 20, MaxTotalSize: 8 << 20}, scb.ErrTooLarge},
		{"zip/bad-crc", mkzip(t, zent{raw: rawHeader("crc", 12345, uint64(len(lieDeflated)), uint64(len(lie))), data: lieDeflated}), scb.Limits{}, scb.ErrMalformedArchive},
		{"zip/unknown-method", mkzip(t, zent{raw: &zip.FileHeader{Name: "m", Method: 99, CompressedSize64: 4, UncompressedSize64: 4}, data: []byte("abcd")}), scb.Limits{}, scb.ErrMalformedArchive},
		{"zip/corrupt-deflate", mkzip(t, zent{raw: rawHeader("c", 0, 8, 8), data: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}), scb.Limits{}, scb.ErrMalformedArchive},
	}
}

func hostileTars(t testing.TB) []hostileCase {
	var many []tent
	for i := range 5 {
		many = append(many, reg(fmt.Sprintf("f%d", i), "x"))
	}
	meg := strings.Repeat("\x00", 1<<20)
	var bomb []tent
	for i := range 12 {
		bomb = append(bomb, reg(fmt.Sprintf("zeros-%02d", i), meg))
	}
	special := func(name string, typ byte, link string) tent {
		return tent{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: link, Mode: 0o600, Devmajor: 1, Devminor: 3}}
	}
	return []hostileCase{
		{"tgz/dotdot", mktgz(t, reg("ok", "x"), reg("../evil", "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/absolute", mktgz(t, reg("/abs", "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/inner-dotdot", mktgz(t, reg("a/../../b", "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/backslash", mktgz(t, reg(`..\evil`, "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/dot-slash", mktgz(t, reg("./x", "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/empty-name", mktgz(t, reg("", "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/pax-long-dotdot", mktgz(t, reg(strings.Repeat("a/", 60)+strings.Repeat("../", 70)+"evil", "x")), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/dir-dotdot", mktgz(t, tent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "../d/", Mode: 0o700}}), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/dir-absolute", mktgz(t, tent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "/etc/", Mode: 0o700}}), scb.Limits{}, scb.ErrUnsafePath},
		{"tgz/duplicate", mktgz(t, reg("a", "1"), reg("a", "2")), scb.Limits{}, scb.ErrMalformedArchive},
		{"tgz/symlink", mktgz(t, special("key", tar.TypeSymlink, "/etc/passwd")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/symlink-relative", mktgz(t, special("key", tar.TypeSymlink, "../../etc/passwd")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/hardlink", mktgz(t, special("key", tar.TypeLink, "/etc/passwd")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/hardlink-inside", mktgz(t, reg("a", "x"), special("b", tar.TypeLink, "a")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/char-device", mktgz(t, special("null", tar.TypeChar, "")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/block-device", mktgz(t, special("sda", tar.TypeBlock, "")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/fifo", mktgz(t, special("fifo", tar.TypeFifo, "")), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/contiguous", mktgz(t, tent{hdr: tar.Header{Typeflag: tar.TypeCont, Name: "c", Mode: 0o600, Size: 1}, data: []byte("x")}), scb.Limits{}, scb.ErrUnsupportedEntry},
		{"tgz/declared-too-large", mktgz(t, tent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "big", Mode: 0o600, Size: 9 << 20}, short: true}), scb.Limits{}, scb.ErrTooLarge},
		{"tgz/declared-huge", mktgz(t, tent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "huge", Mode: 0o600, Size: 1 << 40, Format: tar.FormatPAX}, short: true}), scb.Limits{}, scb.ErrTooLarge},
		{"tgz/body-missing", mktgz(t, tent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "short", Mode: 0o600, Size: 1000}, short: true}), scb.Limits{}, scb.ErrMalformedArchive},
		{"tgz/data-after-end", tarThenGzip(t, []byte("not padding")), scb.Limits{}, scb.ErrMalformedArchive},
		{"tgz/bad-gzip-crc", badGzipCRC(mktgz(t, reg("a", "x"))), scb.Limits{}, scb.ErrMalformedArchive},
		{"tgz/too-many-files", mktgz(t, many...), scb.Limits{MaxFiles: 4}, scb.ErrTooLarge},
		{"tgz/bomb-total", mktgz(t, bomb...), scb.Limits{MaxFileSize: 2 << 20, MaxTotalSize: 8 << 20}, scb.ErrTooLarge},
	}
}

func notArchives(t testing.TB) []hostileCase {
	gz := func(data []byte) []byte {
		var buf bytes.Buffer
		gw := gzip.NewWriter(&buf)
		gw.Write(data)
		gw.Close()
		return buf.Bytes()
	}
	noise := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	return []hostileCase{
		{"input/empty", nil, scb.Limits{}, scb.ErrMalformedArchive},
		{"input/one-byte", []byte("P"), scb.Limits{}, scb.ErrMalformedArchive},
		{"input/text", []byte("hello, this is not a bundle\n"), scb.Limits{}, scb.ErrMalformedArchive},
		{"input/pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), scb.Limits{}, scb.ErrMalformedArchive},
		{"input/noise", noise, scb.Limits{}, scb.ErrMalformedArchive},
		{"input/zip-magic-only", []byte("PK\x03\x04"), scb.Limits{}, scb.ErrMalformedArchive},
		{"input/zip-magic-noise", append([]byte("PK\x03\x04"), noise...), scb.Limits{}, scb.ErrMalformedArchive},
		{"input/gzip-magic-only", []byte{0x1f, 0x8b}, scb.Limits{}, scb.ErrMalformedArchive},
		{"input/gzip-magic-noise", append([]byte{0x1f, 0x8b}, noise...), scb.Limits{}, scb.ErrMalformedArchive},
		{"input/gzip-not-tar", gz([]byte("plain text inside gzip, long enough to not be a tar header... " + strings.Repeat("x", 600))), scb.Limits{}, scb.ErrMalformedArchive},
	}
}

func TestDecodeHostile(t *testing.T) {
	var cases []hostileCase
	cases = append(cases, hostileZips(t)...)
	cases = append(cases, hostileTars(t)...)
	cases = append(cases, notArchives(t)...)
	root := t.TempDir()
	work := filepath.Join(root, "work")
	require.NoError(t, os.Mkdir(work, 0o700))
	t.Chdir(work) // any stray relative write would land here
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := decodeNoPanic(t, tc.data, tc.lim)
			require.Error(t, err, "accepted: %v", b)
			require.Nil(t, b)
			require.ErrorIs(t, err, tc.want, "%v", err)
			require.NotContains(t, err.Error(), "\x00")

			// The same through ReadFile, from a file on disk.
			name := filepath.Join(work, "input")
			require.NoError(t, os.WriteFile(name, tc.data, 0o600))
			before := snapshot(t, root)
			b, err = scb.ReadFile(name, tc.lim)
			require.ErrorIs(t, err, tc.want, "%v", err)
			require.Nil(t, b)
			require.Equal(t, before, snapshot(t, root), "ReadFile wrote something")
			require.NoError(t, os.Remove(name))
		})
	}
}

// TestDecodeBombMemory checks that a highly compressible entry costs
// memory in proportion to the limits, not to its expanded size.
func TestDecodeBombMemory(t *testing.T) {
	zeros := bytes.Repeat([]byte{0}, 64<<20)
	comp := deflate(t, zeros)
	lim := scb.Limits{MaxFileSize: 1 << 20, MaxTotalSize: 2 << 20}
	cases := map[string][]byte{
		// Honest header: rejected from the header alone.
		"honest": mkzip(t, zent{raw: &zip.FileHeader{Name: "z", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(zeros), CompressedSize64: uint64(len(comp)), UncompressedSize64: uint64(len(zeros))}, data: comp}),
		// Lying header: must stop reading at the limit.
		"lying": mkzip(t, zent{raw: &zip.FileHeader{Name: "z", Method: zip.Deflate, CompressedSize64: uint64(len(comp)), UncompressedSize64: 1000}, data: comp}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			_, err := decodeNoPanic(t, data, lim)
			runtime.ReadMemStats(&m1)
			require.Error(t, err)
			require.True(t, errors.Is(err, scb.ErrTooLarge) || errors.Is(err, scb.ErrMalformedArchive), "%v", err)
			alloc := m1.TotalAlloc - m0.TotalAlloc
			require.Less(t, alloc, uint64(16<<20), "decoding a %d-byte bomb allocated %d bytes", len(data), alloc)
		})
	}
}

// TestDecodeTruncated cuts real bundles at every length (zip) or at many
// lengths including every one of the last 64 bytes (tar.gz).
func TestDecodeTruncated(t *testing.T) {
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "trunc", CA: testCA(t)})
	require.NoError(t, err)
	for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, b.Encode(&buf, scb.WriteOptions{Format: f}))
			full := buf.Bytes()
			_, err := decodeNoPanic(t, full, scb.Limits{})
			require.NoError(t, err)
			step := 1
			if f == scb.FormatTarGz {
				step = 7
			}
			for n := 0; n < len(full); n += step {
				checkTruncated(t, full, n)
			}
			for n := max(0, len(full)-64); n < len(full); n++ {
				checkTruncated(t, full, n)
			}
		})
	}
}

func checkTruncated(t *testing.T, full []byte, n int) {
	t.Helper()
	got, err := decodeNoPanic(t, full[:n], scb.Limits{})
	if err == nil {
		t.Fatalf("a bundle of %d bytes cut to %d was accepted (%d files)", len(full), n, got.Len())
	}
	require.ErrorIs(t, err, scb.ErrMalformedArchive, "cut to %d of %d: %v", n, len(full), err)
}

// TestDecodeCorrupted flips single bytes of a real bundle: the reader must
// never panic, and whatever it accepts must fail the manifest check or be
// byte-identical to the original.
func TestDecodeCorrupted(t *testing.T) {
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "flip", CA: testCA(t)})
	require.NoError(t, err)
	for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, b.Encode(&buf, scb.WriteOptions{Format: f}))
			full := buf.Bytes()
			r := rand.New(rand.NewPCG(7, uint64(len(full))))
			for range 2000 {
				c := bytes.Clone(full)
				i := r.IntN(len(c))
				c[i] ^= byte(1 + r.IntN(255))
				got, err := decodeNoPanic(t, c, scb.Limits{})
				if err != nil {
					require.True(t, errors.Is(err, scb.ErrMalformedArchive) || errors.Is(err, scb.ErrUnsafePath) ||
						errors.Is(err, scb.ErrTooLarge) || errors.Is(err, scb.ErrUnsupportedEntry), "byte %d: %v", i, err)
					continue
				}
				if _, err := scb.CheckManifest(got); err == nil {
					for _, f := range b.Files() {
						d, _ := got.Get(f.Path)
						require.Equal(t, f.Data, d, "flip at %d changed %s but the manifest still matched", i, f.Path)
					}
				}
			}
		})
	}
}

func TestReadDirHostile(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	require.NoError(t, os.Mkdir(outside, 0o700))
	secret := filepath.Join(outside, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("do not read"), 0o600))

	mk := func(t *testing.T, setup func(dir string)) string {
		dir, err := os.MkdirTemp(root, "bundle-")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("hi"), 0o600))
		setup(dir)
		return dir
	}
	cases := []struct {
		name  string
		setup func(dir string)
		lim   scb.Limits
		want  error
	}{
		{"symlink-escaping-relative", func(d string) { must(t, os.Symlink("../outside/secret.txt", filepath.Join(d, "key"))) }, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"symlink-escaping-absolute", func(d string) { must(t, os.Symlink(secret, filepath.Join(d, "key"))) }, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"symlink-to-etc", func(d string) { must(t, os.Symlink("/etc/passwd", filepath.Join(d, "key"))) }, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"symlinked-dir-escaping", func(d string) { must(t, os.Symlink(outside, filepath.Join(d, "certificates"))) }, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"symlink-to-dir-inside", func(d string) {
			must(t, os.Mkdir(filepath.Join(d, "sub"), 0o700))
			must(t, os.Symlink("sub", filepath.Join(d, "link")))
		}, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"symlink-dangling", func(d string) { must(t, os.Symlink("nowhere", filepath.Join(d, "key"))) }, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"symlink-loop", func(d string) {
			must(t, os.Symlink("b", filepath.Join(d, "a")))
			must(t, os.Symlink("a", filepath.Join(d, "b")))
		}, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"fifo", func(d string) { must(t, syscall.Mkfifo(filepath.Join(d, "key"), 0o600)) }, scb.Limits{}, scb.ErrUnsupportedEntry},
		{"backslash-name", func(d string) { must(t, os.WriteFile(filepath.Join(d, `a\b`), []byte("x"), 0o600)) }, scb.Limits{}, scb.ErrUnsafePath},
		{"newline-name", func(d string) { must(t, os.WriteFile(filepath.Join(d, "a\nb"), []byte("x"), 0o600)) }, scb.Limits{}, scb.ErrUnsafePath},
		{"too-many-files", func(d string) {
			for i := range 5 {
				must(t, os.WriteFile(filepath.Join(d, fmt.Sprint(i)), []byte("x"), 0o600))
			}
		}, scb.Limits{MaxFiles: 3}, scb.ErrTooLarge},
		{"file-too-large", func(d string) { must(t, os.WriteFile(filepath.Join(d, "big"), make([]byte, 2048), 0o600)) }, scb.Limits{MaxFileSize: 1024}, scb.ErrTooLarge},
		{"total-too-large", func(d string) {
			for i := range 4 {
				must(t, os.WriteFile(filepath.Join(d, fmt.Sprint(i)), make([]byte, 1000), 0o600))
			}
		}, scb.Limits{MaxTotalSize: 3000}, scb.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := mk(t, tc.setup)
			before := snapshot(t, root)
			done := make(chan struct{})
			var b *scb.Bundle
			var err error
			go func() {
				defer close(done)
				b, err = scb.ReadFile(dir, tc.lim)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile hung (opened a FIFO?)")
			}
			require.Nil(t, b)
			require.ErrorIs(t, err, tc.want, "%v", err)
			require.NotContains(t, err.Error(), "do not read")
			require.Equal(t, before, snapshot(t, root), "ReadFile wrote something")
		})
	}

	t.Run("symlink-inside-is-followed", func(t *testing.T) {
		dir := mk(t, func(d string) {
			must(t, os.Mkdir(filepath.Join(d, "real"), 0o700))
			must(t, os.WriteFile(filepath.Join(d, "real", "key"), []byte("k"), 0o600))
			must(t, os.Symlink("real/key", filepath.Join(d, "key")))
		})
		b, err := scb.ReadFile(dir, scb.Limits{})
		require.NoError(t, err)
		d, ok := b.Get("key")
		require.True(t, ok)
		require.Equal(t, "k", string(d))
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}
