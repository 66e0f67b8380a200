package signing

import (
	"bytes"
	"context"
	"fmt"

	"github.com/scbkit/scbkit/scb"
)

// PayloadTypeManifest is the DSSE payloadType of
// signatures/manifest.dsse.json; the payload is manifest.json, byte for
// byte.
const PayloadTypeManifest = "application/vnd.scbkit.manifest+json"

// SignBundle adds a signature by s over b's manifest.json to
// signatures/manifest.dsse.json, creating the envelope if there is none.
//
// The manifest must match the bundle's files (scb.CheckManifest);
// otherwise SignBundle fails with that error and signs nothing. An
// existing envelope must be over the current manifest.json, or SignBundle
// fails with ErrStaleSignature: delete scb.SignaturePath to start over. A
// key that already signed is re-signed in place.
func SignBundle(ctx context.Context, b *scb.Bundle, s Signer) error {
	if _, err := scb.CheckManifest(b); err != nil {
		return fmt.Errorf("manifest does not match the bundle; refusing to sign: %w", err)
	}
	manifest, _ := b.Get(scb.ManifestPath)
	env := NewEnvelope(PayloadTypeManifest, manifest)
	if old, ok := b.Get(scb.SignaturePath); ok {
		e, err := ParseEnvelope(old)
		if err != nil {
			return fmt.Errorf("%s: %w", scb.SignaturePath, err)
		}
		if e.PayloadType != PayloadTypeManifest || !bytes.Equal(e.Payload, manifest) {
			return fmt.Errorf("%s: %w", scb.SignaturePath, ErrStaleSignature)
		}
		env = e
	}
	if err := env.Sign(ctx, s); err != nil {
		return err
	}
	return b.Set(scb.SignaturePath, env.Encode())
}

// VerifyBundle checks b's signatures/manifest.dsse.json against keys:
// the envelope parses (else ErrMalformedEnvelope), its payloadType is
// PayloadTypeManifest and its payload is exactly b's manifest.json (else
// ErrBadSignature), and its signatures satisfy Envelope.Verify. A bundle
// without the envelope gives ErrUnsigned. VerifyBundle does not compare
// the files with the manifest; scb.CheckManifest does that.
func VerifyBundle(b *scb.Bundle, keys *KeySet, opts VerifyOptions) (*Verified, error) {
	data, ok := b.Get(scb.SignaturePath)
	if !ok {
		return nil, ErrUnsigned
	}
	env, err := ParseEnvelope(data)
	if err != nil {
		return nil, err
	}
	if env.PayloadType != PayloadTypeManifest {
		return nil, &SignatureError{Err: fmt.Errorf("%w: payloadType is %s, want %q", ErrBadSignature, quote(env.PayloadType), PayloadTypeManifest)}
	}
	manifest, ok := b.Get(scb.ManifestPath)
	if !ok || !bytes.Equal(env.Payload, manifest) {
		return nil, &SignatureError{Err: fmt.Errorf("%w: the signed payload is not this bundle's %s", ErrBadSignature, scb.ManifestPath)}
	}
	return env.Verify(keys, opts)
}
