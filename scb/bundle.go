package scb

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// FormatVersion is the bundle format written by this package.
const FormatVersion = "1.0"

// Well-known paths inside a bundle (format version 1).
const (
	MetadataPath   = "metadata.json"
	ManifestPath   = "manifest.json"
	SignaturePath  = "signatures/manifest.dsse.json"
	SignaturesDir  = "signatures/"
	CACertPath     = "certificates/ca-cert.pem"
	ClientCertPath = "certificates/client-cert.pem"
	ClientKeyPath  = "certificates/client-key.pem"
	ClientYAMLPath = "config/cassandra.yaml"
	ReadmePath     = "README.md"

	// Stock-driver ("cloud") files at the root, read by the DataStax drivers.
	CloudConfigPath     = "config.json"
	CloudCAPath         = "ca.crt"
	CloudCertPath       = "cert"
	CloudKeyPath        = "key"
	CloudPFXPath        = "cert.pfx"
	CloudIdentityPath   = "identity.jks"
	CloudTrustStorePath = "trustStore.jks"
	CqlshrcPath         = "cqlshrc"
)

// ConnectionProfilePath is where the profile for environment env lives.
func ConnectionProfilePath(env string) string {
	return "config/connection-profiles/" + env + ".yaml"
}

// DriverConfigDir is the directory a driver family's configuration goes in.
func DriverConfigDir(driver string) string { return "config/driver-configs/" + driver + "/" }

// secretPaths hold private keys or passwords.
var secretPaths = map[string]bool{
	ClientKeyPath: true, CloudKeyPath: true, CloudPFXPath: true,
	CloudIdentityPath: true, CloudConfigPath: true,
}

// IsSecretPath reports whether the file at p holds key material or
// passwords. Every bundle file is written 0600 regardless; this decides
// what tools may print.
func IsSecretPath(p string) bool { return secretPaths[p] }

// A File is one entry of a bundle.
type File struct {
	// Path is slash-separated and relative to the bundle root.
	Path string
	// Data is the content.
	Data []byte
}

// String never prints content: files may hold keys.
func (f File) String() string { return fmt.Sprintf("%s (%d bytes)", f.Path, len(f.Data)) }

// GoString is String, so %#v cannot leak a key either.
func (f File) GoString() string { return f.String() }

// Bundle is an in-memory secure connection bundle: a set of files keyed by
// path. The zero value is an empty bundle ready to use.
type Bundle struct {
	files map[string][]byte
}

// String summarises the bundle without content.
func (b *Bundle) String() string { return fmt.Sprintf("scb.Bundle{%d files}", len(b.files)) }

// Set adds or replaces the file at p. p must be a valid bundle path.
func (b *Bundle) Set(p string, data []byte) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	if b.files == nil {
		b.files = make(map[string][]byte)
	}
	b.files[p] = data
	return nil
}

// Get returns the content of the file at p.
func (b *Bundle) Get(p string) ([]byte, bool) {
	d, ok := b.files[p]
	return d, ok
}

// Delete removes the file at p, if present.
func (b *Bundle) Delete(p string) { delete(b.files, p) }

// Len is the number of files.
func (b *Bundle) Len() int { return len(b.files) }

// Paths returns every path in byte order.
func (b *Bundle) Paths() []string {
	ps := make([]string, 0, len(b.files))
	for p := range b.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Files returns every file in path order. The Data slices are shared.
func (b *Bundle) Files() []File {
	ps := b.Paths()
	fs := make([]File, len(ps))
	for i, p := range ps {
		fs[i] = File{Path: p, Data: b.files[p]}
	}
	return fs
}

// Metadata parses metadata.json.
func (b *Bundle) Metadata() (*Metadata, error) {
	d, ok := b.Get(MetadataPath)
	if !ok {
		return nil, &FileError{Path: MetadataPath, Err: ErrMissingFile}
	}
	return ParseMetadata(d)
}

// Errors about bundle content.
var (
	// ErrUnsafePath means an entry name is absolute, contains "..", a
	// backslash, a NUL or an empty element.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrMissingFile means a required file is absent.
	ErrMissingFile = errors.New("required file missing")
	// ErrEmptyFile means a required file is empty.
	ErrEmptyFile = errors.New("required file is empty")
	// ErrDigestMismatch means a file does not match its manifest entry.
	ErrDigestMismatch = errors.New("file does not match manifest")
	// ErrInvalid means a bundle is inconsistent in some other way.
	ErrInvalid = errors.New("invalid bundle")
)

// FileError ties an error to one path in a bundle.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// MaxPathLength bounds entry names.
const MaxPathLength = 512

// CheckPath reports whether p is a safe bundle path: relative,
// slash-separated, clean, without "..", backslashes, control characters or
// a trailing slash. It returns an error wrapping ErrUnsafePath otherwise.
func CheckPath(p string) error {
	bad := func(why string) error {
		return &FileError{Path: fmt.Sprintf("%q", p), Err: fmt.Errorf("%w: %s", ErrUnsafePath, why)}
	}
	switch {
	case p == "":
		return bad("empty name")
	case len(p) > MaxPathLength:
		return bad("name too long")
	case strings.HasPrefix(p, "/"):
		return bad("absolute path")
	case strings.ContainsRune(p, '\\'):
		return bad("backslash in name")
	case len(p) >= 2 && p[1] == ':':
		return bad("drive letter")
	case path.Clean(p) != p:
		return bad("name is not clean")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("control character in name")
		}
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." || el == "." || el == "" {
			return bad("relative element in name")
		}
	}
	return nil
}
