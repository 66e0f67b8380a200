package signing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/scbkit/scbkit/internal/atomicfile"
)

// Detached archive signatures. A file BUNDLE.sig next to an archive
// BUNDLE (bundle.zip → bundle.zip.sig) holds a DSSE envelope of type
// PayloadTypeArchive over an ArchiveStatement, so the archive bytes can be
// checked before any of them reaches an unzipper.
const (
	PayloadTypeArchive   = "application/vnd.scbkit.archive+json"
	ArchiveStatementType = "scbkit.archive/1"
	// DetachedSuffix is appended to the archive's name.
	DetachedSuffix = ".sig"
)

// DetachedSignaturePath is where the detached signature of archive lives.
func DetachedSignaturePath(archive string) string { return archive + DetachedSuffix }

// An ArchiveStatement describes one archive file.
type ArchiveStatement struct {
	// Type is ArchiveStatementType.
	Type string `json:"type"`
	// Name is the archive's file name when it was signed. It is
	// informational: renaming a file does not invalidate its signature.
	Name string `json:"name"`
	// Size is the archive's length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lower-case hexadecimal SHA-256 of the archive.
	SHA256 string `json:"sha256"`
}

// NewArchiveStatement describes archive, a file named name (a base name;
// directories are dropped).
func NewArchiveStatement(name string, archive []byte) *ArchiveStatement {
	sum := sha256.Sum256(archive)
	return &ArchiveStatement{Type: ArchiveStatementType, Name: baseName(name), Size: int64(len(archive)), SHA256: hex.EncodeToString(sum[:])}
}

// baseName reduces name to what ParseArchiveStatement accepts.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if len(name) > 255 {
		name = name[len(name)-255:]
	}
	if name == "" || !utf8.ValidString(name) {
		return "archive"
	}
	return name
}

// Encode returns the statement as compact JSON with the members in the
// order type, name, size, sha256 and no trailing newline.
func (s *ArchiveStatement) Encode() []byte {
	b := encodeJSON(s)
	var c bytes.Buffer
	json.Compact(&c, b)
	return c.Bytes()
}

// Matches reports whether archive is the file s describes (size and
// SHA-256; the name is not compared).
func (s *ArchiveStatement) Matches(archive []byte) bool {
	sum := sha256.Sum256(archive)
	return s.Size == int64(len(archive)) && s.SHA256 == hex.EncodeToString(sum[:])
}

// ParseArchiveStatement decodes a statement from untrusted input: one JSON
// object with exactly the members type (ArchiveStatementType), name (1 to
// 255 bytes, no '/', '\\' or control characters), size (non-negative
// integer) and sha256 (64 lower-case hexadecimal digits). Errors wrap
// ErrMalformedEnvelope.
func ParseArchiveStatement(data []byte) (*ArchiveStatement, error) {
	bad := func(format string, a ...any) error { return malformed("archive statement: "+format, a...) }
	if err := checkJSONObject(data); err != nil {
		return nil, bad("%v", err)
	}
	var s ArchiveStatement
	var present map[string]json.RawMessage
	if err := json.Unmarshal(data, &present); err != nil {
		return nil, bad("%s", describeJSONError(err))
	}
	for _, m := range []string{"type", "name", "size", "sha256"} {
		if _, ok := present[m]; !ok {
			return nil, bad("%s missing", m)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, bad("%s", describeJSONError(err))
	}
	if s.Type != ArchiveStatementType {
		return nil, bad("type %s, want %q", quote(s.Type), ArchiveStatementType)
	}
	if s.Name == "" || len(s.Name) > 255 || strings.ContainsAny(s.Name, "/\\") || strings.IndexFunc(s.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return nil, bad("name is not a plain file name")
	}
	if s.Size < 0 {
		return nil, bad("negative size")
	}
	if !isKeyID(s.SHA256) { // same shape: 64 lower-case hex digits
		return nil, bad("sha256 is not 64 lower-case hexadecimal digits")
	}
	return &s, nil
}

// SignArchive returns a detached signature for archive, a file named name,
// signed by s. When existing (a previous detached signature) is non-nil
// the new signature is added to it; it must describe the same bytes, or
// SignArchive fails with ErrStaleSignature.
func SignArchive(ctx context.Context, name string, archive, existing []byte, s Signer) ([]byte, error) {
	st := NewArchiveStatement(name, archive)
	env := NewEnvelope(PayloadTypeArchive, st.Encode())
	if existing != nil {
		e, err := ParseEnvelope(existing)
		if err != nil {
			return nil, err
		}
		if e.PayloadType != PayloadTypeArchive {
			return nil, ErrStaleSignature
		}
		old, err := ParseArchiveStatement(e.Payload)
		if err != nil {
			return nil, err
		}
		if !old.Matches(archive) {
			return nil, ErrStaleSignature
		}
		env = e
	}
	if err := env.Sign(ctx, s); err != nil {
		return nil, err
	}
	return env.Encode(), nil
}

// SignArchiveFile signs the archive at path and writes (or extends) its
// detached signature DetachedSignaturePath(path), atomically. It returns
// the signature's path.
func SignArchiveFile(ctx context.Context, path string, s Signer) (string, error) {
	archive, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sigPath := DetachedSignaturePath(path)
	existing, err := os.ReadFile(sigPath)
	if errors.Is(err, fs.ErrNotExist) {
		existing, err = nil, nil
	}
	if err != nil {
		return "", err
	}
	if len(existing) > MaxEnvelopeSize {
		return "", fmt.Errorf("%s: %w: larger than %d bytes", sigPath, ErrMalformedEnvelope, MaxEnvelopeSize)
	}
	sig, err := SignArchive(ctx, filepath.Base(path), archive, existing, s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", sigPath, err)
	}
	if err := atomicfile.WriteFile(sigPath, sig, 0o644, true); err != nil {
		return "", err
	}
	return sigPath, nil
}

// VerifyArchive checks a detached signature over archive: the envelope
// parses and its payloadType is PayloadTypeArchive (else
// ErrMalformedEnvelope / ErrBadSignature), its payload is a well-formed
// ArchiveStatement (else ErrMalformedEnvelope), the statement's size and
// SHA-256 match archive (else ErrArchiveMismatch), and the signatures
// satisfy Envelope.Verify. The statement is returned when the envelope
// could be parsed, even on error.
func VerifyArchive(sig, archive []byte, keys *KeySet, opts VerifyOptions) (*ArchiveStatement, *Verified, error) {
	env, err := ParseEnvelope(sig)
	if err != nil {
		return nil, nil, err
	}
	if env.PayloadType != PayloadTypeArchive {
		return nil, nil, &SignatureError{Err: fmt.Errorf("%w: payloadType is %s, want %q", ErrBadSignature, quote(env.PayloadType), PayloadTypeArchive)}
	}
	st, err := ParseArchiveStatement(env.Payload)
	if err != nil {
		return nil, nil, err
	}
	if !st.Matches(archive) {
		return st, nil, &SignatureError{Err: fmt.Errorf("%w: signed for %d bytes with SHA-256 %s", ErrArchiveMismatch, st.Size, st.SHA256)}
	}
	v, err := env.Verify(keys, opts)
	return st, v, err
}
