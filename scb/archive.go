package scb

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/scbkit/scbkit/internal/atomicfile"
)

// Format is an on-disk bundle encoding.
type Format string

// Bundle formats. Zip is the default and the only one the stock drivers read.
const (
	FormatZip   Format = "zip"
	FormatTarGz Format = "tar.gz"
	FormatDir   Format = "dir"
)

// Formats lists the valid formats.
var Formats = []Format{FormatZip, FormatTarGz, FormatDir}

// ParseFormat parses "zip", "tar.gz" (or "tgz") or "dir". Empty means zip.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "zip":
		return FormatZip, nil
	case "tar.gz", "tgz":
		return FormatTarGz, nil
	case "dir", "directory":
		return FormatDir, nil
	}
	return "", fmt.Errorf("unknown format %q (valid: zip, tar.gz, dir)", s)
}

// Compression is a deflate/gzip level.
type Compression int

// Compression levels.
const (
	CompressionDefault Compression = iota
	CompressionFastest
	CompressionBest
)

// ParseCompression parses "fastest", "default" or "best". Empty means default.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToLower(s) {
	case "", "default":
		return CompressionDefault, nil
	case "fastest", "fast":
		return CompressionFastest, nil
	case "best":
		return CompressionBest, nil
	}
	return 0, fmt.Errorf("unknown compression %q (valid: fastest, default, best)", s)
}

func (c Compression) flateLevel() int {
	switch c {
	case CompressionFastest:
		return flate.BestSpeed
	case CompressionBest:
		return flate.BestCompression
	}
	return flate.DefaultCompression
}

// WriteOptions control encoding.
type WriteOptions struct {
	// Format of the output. Empty means zip.
	Format Format
	// Compression level for zip and tar.gz.
	Compression Compression
	// ModTime stamps every entry. Zero means the bundle's generated_at, so
	// the same bundle always encodes to the same bytes.
	ModTime time.Time
}

func (b *Bundle) modTime(opts WriteOptions) time.Time {
	if !opts.ModTime.IsZero() {
		return opts.ModTime
	}
	if m, err := b.Metadata(); err == nil {
		return m.GeneratedAt
	}
	return time.Unix(0, 0).UTC()
}

// flatePools keeps one pool of flate writers per non-default level; the
// default level uses archive/zip's own pool.
var flatePools = map[int]*sync.Pool{}

func init() {
	for _, lvl := range []int{flate.BestSpeed, flate.BestCompression} {
		flatePools[lvl] = &sync.Pool{New: func() any {
			w, _ := flate.NewWriter(io.Discard, lvl)
			return w
		}}
	}
}

type pooledFlate struct {
	*flate.Writer
	pool *sync.Pool
}

func (p *pooledFlate) Close() error {
	err := p.Writer.Close()
	p.pool.Put(p.Writer)
	p.Writer = nil
	return err
}

// Encode writes b as a zip or tar.gz stream to w. Zip entries are all
// Deflate-compressed (Java's ZipInputStream rejects stored entries that
// carry data descriptors) and have mode 0600.
func (b *Bundle) Encode(w io.Writer, opts WriteOptions) error {
	f := opts.Format
	if f == "" {
		f = FormatZip
	}
	switch f {
	case FormatZip:
		return b.encodeZip(w, opts)
	case FormatTarGz:
		return b.encodeTarGz(w, opts)
	}
	return fmt.Errorf("format %q cannot be streamed; use WriteFile", f)
}

func (b *Bundle) encodeZip(w io.Writer, opts WriteOptions) error {
	zw := zip.NewWriter(w)
	if lvl := opts.Compression.flateLevel(); lvl != flate.DefaultCompression {
		pool := flatePools[lvl]
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			fw := pool.Get().(*flate.Writer)
			fw.Reset(out)
			return &pooledFlate{Writer: fw, pool: pool}, nil
		})
	}
	mt := b.modTime(opts)
	for _, f := range b.Files() {
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: mt}
		h.SetMode(0o600)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func (b *Bundle) encodeTarGz(w io.Writer, opts WriteOptions) error {
	gw, err := gzip.NewWriterLevel(w, opts.Compression.flateLevel())
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gw)
	mt := b.modTime(opts)
	dirs := map[string]bool{}
	for _, f := range b.Files() {
		for d := pathDir(f.Path); d != ""; d = pathDir(d) {
			if dirs[d] {
				break
			}
			dirs[d] = true
		}
	}
	// Parent directories first, in order, so extractors create them 0700.
	for _, f := range b.Files() {
		var parents []string
		for d := pathDir(f.Path); d != "" && dirs[d]; d = pathDir(d) {
			parents = append([]string{d}, parents...)
			delete(dirs, d)
		}
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o700, ModTime: mt, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Mode: 0o600, Size: int64(len(f.Data)), ModTime: mt, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gw.Close()
}

func pathDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// WriteFile writes b to name in opts.Format. Files are created 0600 and
// directories 0700. The output appears only once complete (temporary file
// or directory, then rename); on error nothing is left behind. An existing
// name is replaced only when overwrite is true, otherwise the error wraps
// atomicfile.ErrExists (see ErrExists).
func (b *Bundle) WriteFile(name string, opts WriteOptions, overwrite bool) error {
	if opts.Format == FormatDir {
		return b.writeDir(name, overwrite)
	}
	return atomicfile.Write(name, 0o600, overwrite, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 64<<10)
		if err := b.Encode(bw, opts); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// ErrExists means the output already exists and overwriting was not asked for.
var ErrExists = atomicfile.ErrExists

func (b *Bundle) writeDir(name string, overwrite bool) (err error) {
	if _, err := os.Lstat(name); err == nil && !overwrite {
		return fmt.Errorf("%s: %w", name, ErrExists)
	}
	parent := filepath.Dir(name)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = os.Chmod(tmp, 0o700); err != nil {
		return err
	}
	for _, f := range b.Files() {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err = os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err = os.WriteFile(p, f.Data, 0o600); err != nil {
			return err
		}
	}
	if _, statErr := os.Lstat(name); statErr == nil {
		if !overwrite {
			return fmt.Errorf("%s: %w", name, ErrExists)
		}
		old := tmp + ".old"
		if err = os.Rename(name, old); err != nil {
			return err
		}
		if err = os.Rename(tmp, name); err != nil {
			os.Rename(old, name)
			return err
		}
		return os.RemoveAll(old)
	}
	return os.Rename(tmp, name)
}

// Limits bound what readers accept from untrusted archives.
type Limits struct {
	// MaxFiles is the maximum number of entries. Zero means 1000.
	MaxFiles int
	// MaxFileSize is the maximum size of one file. Zero means 8 MiB.
	MaxFileSize int64
	// MaxTotalSize is the maximum sum of file sizes. Zero means 64 MiB.
	MaxTotalSize int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles == 0 {
		l.MaxFiles = 1000
	}
	if l.MaxFileSize == 0 {
		l.MaxFileSize = 8 << 20
	}
	if l.MaxTotalSize == 0 {
		l.MaxTotalSize = 64 << 20
	}
	return l
}

// Archive errors.
var (
	// ErrMalformedArchive means the input is not a readable zip, tar.gz or
	// bundle directory.
	ErrMalformedArchive = errors.New("malformed archive")
	// ErrTooLarge means a limit in Limits was exceeded.
	ErrTooLarge = errors.New("archive exceeds size limits")
	// ErrUnsupportedEntry means an entry is a link, device or other
	// non-regular file.
	ErrUnsupportedEntry = errors.New("unsupported archive entry")
)

type reader struct {
	lim   Limits
	b     *Bundle
	total int64
}

func (r *reader) add(name string, size int64, open func() (io.Reader, error)) error {
	if err := CheckPath(name); err != nil {
		return err
	}
	if _, dup := r.b.Get(name); dup {
		return &FileError{Path: name, Err: fmt.Errorf("%w: duplicate entry", ErrMalformedArchive)}
	}
	if r.b.Len() >= r.lim.MaxFiles {
		return fmt.Errorf("%w: more than %d files", ErrTooLarge, r.lim.MaxFiles)
	}
	if size > r.lim.MaxFileSize {
		return &FileError{Path: name, Err: fmt.Errorf("%w: file larger than %d bytes", ErrTooLarge, r.lim.MaxFileSize)}
	}
	rc, err := open()
	if err != nil {
		return &FileError{Path: name, Err: fmt.Errorf("%w: %v", ErrMalformedArchive, err)}
	}
	data, err := io.ReadAll(io.LimitReader(rc, r.lim.MaxFileSize+1))
	if c, ok := rc.(io.Closer); ok {
		c.Close()
	}
	if err != nil {
		return &FileError{Path: name, Err: fmt.Errorf("%w: %v", ErrMalformedArchive, err)}
	}
	if int64(len(data)) > r.lim.MaxFileSize {
		return &FileError{Path: name, Err: fmt.Errorf("%w: file larger than %d bytes", ErrTooLarge, r.lim.MaxFileSize)}
	}
	r.total += int64(len(data))
	if r.total > r.lim.MaxTotalSize {
		return fmt.Errorf("%w: more than %d bytes in total", ErrTooLarge, r.lim.MaxTotalSize)
	}
	return r.b.Set(name, data)
}

// Decode reads a zip or tar.gz bundle (detected from its first bytes) of
// the given size from r. It enforces lim and safe paths, and rejects
// links and special files. It does not check the manifest: use
// CheckManifest or Validate.
func Decode(r io.ReaderAt, size int64, lim Limits) (*Bundle, error) {
	var magic [4]byte
	n, _ := r.ReadAt(magic[:], 0)
	switch {
	case n >= 4 && bytes.Equal(magic[:4], []byte("PK\x03\x04")), n >= 4 && bytes.Equal(magic[:4], []byte("PK\x05\x06")):
		return decodeZip(r, size, lim.withDefaults())
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return decodeTarGz(io.NewSectionReader(r, 0, size), lim.withDefaults())
	}
	return nil, fmt.Errorf("%w: neither a zip nor a gzip file", ErrMalformedArchive)
}

func decodeZip(ra io.ReaderAt, size int64, lim Limits) (*Bundle, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedArchive, err)
	}
	if len(zr.File) > lim.MaxFiles {
		return nil, fmt.Errorf("%w: more than %d files", ErrTooLarge, lim.MaxFiles)
	}
	// Everything the central directory says is checked before any byte
	// is read; then the local headers must agree with it.
	var regular []*zip.File
	for _, f := range zr.File {
		mode := f.Mode()
		if strings.HasSuffix(f.Name, "/") && (mode.IsDir() || f.UncompressedSize64 == 0) {
			if err := CheckPath(strings.TrimSuffix(f.Name, "/")); err != nil {
				return nil, err
			}
			continue
		}
		if err := CheckPath(f.Name); err != nil {
			return nil, err
		}
		if !mode.IsRegular() {
			return nil, &FileError{Path: fmt.Sprintf("%q", f.Name), Err: fmt.Errorf("%w: %s", ErrUnsupportedEntry, mode.Type())}
		}
		if f.UncompressedSize64 > uint64(lim.MaxFileSize) {
			return nil, &FileError{Path: fmt.Sprintf("%q", f.Name), Err: fmt.Errorf("%w: file larger than %d bytes", ErrTooLarge, lim.MaxFileSize)}
		}
		regular = append(regular, f)
	}
	if err := checkZipLayout(ra, size, zr.File); err != nil {
		return nil, err
	}
	rd := &reader{lim: lim, b: &Bundle{}}
	for _, f := range regular {
		f := f
		if err := rd.add(f.Name, int64(f.UncompressedSize64), func() (io.Reader, error) { return f.Open() }); err != nil {
			return nil, err
		}
	}
	return rd.b, nil
}

func decodeTarGz(r io.Reader, lim Limits) (*Bundle, error) {
	gr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedArchive, err)
	}
	defer gr.Close()
	tr := tar.NewReader(gr)
	rd := &reader{lim: lim, b: &Bundle{}}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			// The tar end marker comes before the gzip trailer: read on to
			// the end of the gzip stream so that its CRC and length are
			// checked, or a truncated file would be accepted.
			if err := drainTarPadding(gr); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformedArchive, err)
			}
			return rd.b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedArchive, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := CheckPath(strings.TrimSuffix(h.Name, "/")); err != nil {
				return nil, err
			}
			continue
		case tar.TypeReg:
		case tar.TypeXGlobalHeader:
			continue
		default:
			return nil, &FileError{Path: fmt.Sprintf("%q", h.Name), Err: fmt.Errorf("%w: tar type %q", ErrUnsupportedEntry, h.Typeflag)}
		}
		if err := rd.add(h.Name, h.Size, func() (io.Reader, error) { return tr, nil }); err != nil {
			return nil, err
		}
	}
}

// maxTarPadding bounds the zero padding accepted after a tar end marker
// (tar pads to its record size, 10 KiB by default).
const maxTarPadding = 1 << 20

// drainTarPadding reads r to its end, accepting only a bounded amount of
// zero padding.
func drainTarPadding(r io.Reader) error {
	buf := make([]byte, 32<<10)
	var total int
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if c != 0 {
				return errors.New("data after the end of the tar archive")
			}
		}
		if total += n; total > maxTarPadding {
			return errors.New("too much padding after the end of the tar archive")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ReadFile reads a bundle from a zip or tar.gz file or from a directory,
// with the same checks as Decode. Symbolic links in a directory are
// followed only when they stay inside it.
func ReadFile(name string, lim Limits) (*Bundle, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return readDir(name, lim.withDefaults())
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f, fi.Size(), lim)
}

func readDir(dir string, lim Limits) (*Bundle, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rd := &reader{lim: lim, b: &Bundle{}}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return &FileError{Path: p, Err: fmt.Errorf("%w: %s", ErrUnsupportedEntry, d.Type())}
		}
		fi, err := root.Stat(p) // follows links, refusing any that escape
		if err != nil {
			return &FileError{Path: p, Err: fmt.Errorf("%w: %v", ErrUnsupportedEntry, err)}
		}
		if !fi.Mode().IsRegular() {
			return &FileError{Path: p, Err: fmt.Errorf("%w: %s", ErrUnsupportedEntry, fi.Mode().Type())}
		}
		return rd.add(p, fi.Size(), func() (io.Reader, error) { return root.Open(p) })
	})
	if err != nil {
		return nil, err
	}
	return rd.b, nil
}
