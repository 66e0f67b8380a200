package scb

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// checkZipLayout makes sure the local file headers of a zip tell the same
// story as its central directory. Go (and Java's ZipFile) read the central
// directory; the DataStax Java driver reads bundles with ZipInputStream,
// which walks the local headers from the start of the file. A crafted zip
// whose local entries differ from the central directory (an extra entry,
// another name, prefixed data) would verify here and load differently
// there. So the local entries must start at offset 0, follow one another
// with nothing in between, carry exactly the central directory's names in
// order, and be followed directly by the central directory.
func checkZipLayout(ra io.ReaderAt, size int64, files []*zip.File) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format+" (local headers disagree with the central directory)", append([]any{ErrMalformedArchive}, a...)...)
	}
	type entry struct {
		f    *zip.File
		data int64
	}
	entries := make([]entry, 0, len(files))
	for _, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			return bad("entry %q has no readable local header", f.Name)
		}
		entries = append(entries, entry{f, off})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].data < entries[j].data })
	var pos int64
	var hdr [30]byte
	for _, e := range entries {
		if _, err := ra.ReadAt(hdr[:], pos); err != nil {
			return bad("truncated local header at offset %d", pos)
		}
		if !bytes.Equal(hdr[:4], []byte("PK\x03\x04")) {
			return bad("no local header at offset %d", pos)
		}
		flags := binary.LittleEndian.Uint16(hdr[6:8])
		nameLen := int64(binary.LittleEndian.Uint16(hdr[26:28]))
		extraLen := int64(binary.LittleEndian.Uint16(hdr[28:30]))
		name := make([]byte, nameLen)
		if _, err := ra.ReadAt(name, pos+30); err != nil {
			return bad("truncated local header at offset %d", pos)
		}
		if string(name) != e.f.Name {
			return bad("local entry %q at offset %d, central directory says %q", name, pos, e.f.Name)
		}
		if pos+30+nameLen+extraLen != e.data {
			return bad("entry %q does not start where its local header ends", e.f.Name)
		}
		pos = e.data + int64(e.f.CompressedSize64)
		if pos > size {
			return bad("entry %q runs past the end of the file", e.f.Name)
		}
		if flags&0x8 != 0 { // data descriptor: [signature] crc32, sizes
			var sig [4]byte
			if _, err := ra.ReadAt(sig[:], pos); err != nil {
				return bad("truncated data descriptor of %q", e.f.Name)
			}
			if bytes.Equal(sig[:], []byte("PK\x07\x08")) {
				pos += 4
			}
			pos += 4 + 8
			if e.f.CompressedSize64 >= 0xffffffff || e.f.UncompressedSize64 >= 0xffffffff {
				pos += 8
			}
		}
	}
	var sig [4]byte
	if _, err := ra.ReadAt(sig[:], pos); err != nil {
		return bad("nothing after the last entry at offset %d", pos)
	}
	if !bytes.Equal(sig[:], []byte("PK\x01\x02")) && !bytes.Equal(sig[:], []byte("PK\x05\x06")) && !bytes.Equal(sig[:], []byte("PK\x06\x06")) {
		return bad("unlisted data after the last entry at offset %d", pos)
	}
	return nil
}
