package scb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ManifestFormat identifies the manifest encoding.
const ManifestFormat = "scb-manifest/1"

// Manifest lists every file of a bundle except manifest.json itself and
// files under signatures/, with its size and SHA-256 digest.
//
// The canonical encoding, which is what gets signed, is JSON with the keys
// in the order format, algorithm, files; files sorted by path in byte
// order, each with keys path, size, sha256 (lower-case hex); two-space
// indentation, "\n" line ends and a final newline; no other whitespace and
// no HTML escaping. EncodeManifest produces exactly this, and ParseManifest
// rejects anything that does not re-encode to the same bytes.
type Manifest struct {
	Format    string          `json:"format"`
	Algorithm string          `json:"algorithm"`
	Files     []ManifestEntry `json:"files"`
}

// ManifestEntry describes one file.
type ManifestEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// InManifest reports whether the file at p is covered by the manifest.
func InManifest(p string) bool {
	return p != ManifestPath && !strings.HasPrefix(p, SignaturesDir)
}

// NewManifest computes the manifest of b.
func NewManifest(b *Bundle) *Manifest {
	m := &Manifest{Format: ManifestFormat, Algorithm: "sha256", Files: []ManifestEntry{}}
	for _, f := range b.Files() {
		if !InManifest(f.Path) {
			continue
		}
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, ManifestEntry{Path: f.Path, Size: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:])})
	}
	return m
}

// Encode returns the canonical encoding of m.
func (m *Manifest) Encode() []byte {
	files := append([]ManifestEntry(nil), m.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	c := Manifest{Format: m.Format, Algorithm: m.Algorithm, Files: files}
	if c.Files == nil {
		c.Files = []ManifestEntry{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		panic("scb: manifest encoding cannot fail: " + err.Error())
	}
	return buf.Bytes()
}

// ParseManifest decodes a canonical manifest. It rejects unknown formats or
// algorithms, unsafe or duplicate paths, malformed digests and any
// encoding that is not canonical.
func ParseManifest(data []byte) (*Manifest, error) {
	bad := func(format string, a ...any) error {
		return &FileError{Path: ManifestPath, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)}
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, bad("malformed manifest: %v", err)
	}
	if m.Format != ManifestFormat {
		return nil, bad("unsupported manifest format %q", m.Format)
	}
	if m.Algorithm != "sha256" {
		return nil, bad("unsupported digest algorithm %q", m.Algorithm)
	}
	seen := make(map[string]bool, len(m.Files))
	for _, e := range m.Files {
		if err := CheckPath(e.Path); err != nil {
			return nil, bad("%v", err)
		}
		if !InManifest(e.Path) {
			return nil, bad("manifest lists %s, which it cannot cover", e.Path)
		}
		if seen[e.Path] {
			return nil, bad("duplicate entry %s", e.Path)
		}
		seen[e.Path] = true
		if e.Size < 0 {
			return nil, bad("negative size for %s", e.Path)
		}
		if d, err := hex.DecodeString(e.SHA256); err != nil || len(d) != sha256.Size || strings.ToLower(e.SHA256) != e.SHA256 {
			return nil, bad("malformed sha256 for %s", e.Path)
		}
	}
	if !bytes.Equal(m.Encode(), data) {
		return nil, bad("manifest is not in canonical form")
	}
	return &m, nil
}

// CheckManifest compares b with its manifest.json: every covered file must
// be listed with the right size and digest, and every listed file must be
// present. It returns all mismatches joined; each is a *FileError wrapping
// ErrDigestMismatch, ErrMissingFile or ErrInvalid.
func CheckManifest(b *Bundle) (*Manifest, error) {
	data, ok := b.Get(ManifestPath)
	if !ok {
		return nil, &FileError{Path: ManifestPath, Err: ErrMissingFile}
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, err
	}
	var errs []error
	listed := make(map[string]bool, len(m.Files))
	for _, e := range m.Files {
		listed[e.Path] = true
		d, ok := b.Get(e.Path)
		if !ok {
			errs = append(errs, &FileError{Path: e.Path, Err: fmt.Errorf("%w: listed in manifest but absent", ErrMissingFile)})
			continue
		}
		sum := sha256.Sum256(d)
		if int64(len(d)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
			errs = append(errs, &FileError{Path: e.Path, Err: ErrDigestMismatch})
		}
	}
	for _, p := range b.Paths() {
		if InManifest(p) && !listed[p] {
			errs = append(errs, &FileError{Path: p, Err: fmt.Errorf("%w: file not listed in manifest", ErrDigestMismatch)})
		}
	}
	return m, errors.Join(errs...)
}
