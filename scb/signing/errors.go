package signing

import (
	"errors"
	"fmt"
)

// Errors callers branch on. Every error from this package that concerns
// a signature wraps exactly one of the verification sentinels below, so
// that errors.Is gives the same outcome classes the format specification
// (spec/bundle-format.md) names.
var (
	// ErrUnsigned means a bundle carries no signatures/manifest.dsse.json.
	// Outcome class "unsigned".
	ErrUnsigned = errors.New("bundle is not signed")
	// ErrMalformedEnvelope means a DSSE envelope (or the statement inside
	// a detached signature) is not well-formed. Outcome class
	// "malformed_signature".
	ErrMalformedEnvelope = errors.New("malformed signature envelope")
	// ErrBadSignature means a signature by a trusted key does not verify,
	// the envelope has the wrong payloadType, or the signed payload is not
	// the manifest.json of the bundle. Outcome class "bad_signature".
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUntrusted means no signature in the envelope is by a key in the
	// trusted key set. Outcome class "unknown_signer".
	ErrUntrusted = errors.New("not signed by a trusted key")
	// ErrKeyNotValid means the only trusted keys that signed are outside
	// their validity window (nbf/exp) at the verification time. Outcome
	// class "key_outside_validity".
	ErrKeyNotValid = errors.New("signing key is outside its validity window")
	// ErrArchiveMismatch means a detached signature's statement does not
	// describe the archive (size or SHA-256 differ). Outcome class
	// "digest_mismatch".
	ErrArchiveMismatch = errors.New("archive does not match its detached signature")

	// ErrUnsupportedKey means a key is of a type, curve or size that may
	// not sign bundles (see AlgorithmOf).
	ErrUnsupportedKey = errors.New("unsupported signing key")
	// ErrMalformedKeySet means a key set (JWKS or PEM) could not be parsed.
	ErrMalformedKeySet = errors.New("malformed key set")
	// ErrNoTrustedKeys means verification was asked for with an empty key
	// set.
	ErrNoTrustedKeys = errors.New("no trusted keys given")
	// ErrUnencrypted means a private key was to be written without a
	// passphrase and InsecureUnencrypted was not set.
	ErrUnencrypted = errors.New("refusing to write a private key unencrypted without an explicit override")
	// ErrStaleSignature means an existing envelope covers a different
	// payload than the one being signed, so a signature cannot be added to
	// it. Remove the old envelope to start afresh.
	ErrStaleSignature = errors.New("existing signatures cover a different payload")
)

// SignatureError ties a signature problem to a key id (empty when the
// problem is with the envelope as a whole).
type SignatureError struct {
	KeyID string
	Err   error
}

func (e *SignatureError) Error() string {
	if e.KeyID == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("key %s: %v", e.KeyID, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedEnvelope}, a...)...)
}
