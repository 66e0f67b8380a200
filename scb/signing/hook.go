package signing

import (
	"github.com/scbkit/scbkit/scb"
)

// BundleVerifier returns a function that checks a bundle's embedded
// signature against keys, for hooks such as loader.Options.Verify:
//
//	keys, err := signing.ReadKeySetFile("trusted-keys.jwks.json")
//	...
//	b, err := loader.Open("app.zip", loader.Options{Verify: signing.BundleVerifier(keys, signing.VerifyOptions{})})
//
// An unsigned bundle fails with ErrUnsigned. Only the signature is
// checked; the loader compares the files with the manifest itself.
func BundleVerifier(keys *KeySet, opts VerifyOptions) func(*scb.Bundle) error {
	return func(b *scb.Bundle) error {
		_, err := VerifyBundle(b, keys, opts)
		return err
	}
}
