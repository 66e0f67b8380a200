// Package signing signs secure connection bundles and checks their
// signatures.
//
// A bundle's manifest.json lists the SHA-256 of every other file; signing
// the manifest therefore signs the bundle. The signature lives in the
// bundle at signatures/manifest.dsse.json as a DSSE envelope
// (https://github.com/secure-systems-lab/dsse) whose payload is
// manifest.json byte for byte and whose payloadType is
// PayloadTypeManifest. An envelope holds one signature per key, so several
// parties (or an old and a new key during rotation) can sign one bundle.
// An archive can also carry a detached signature, BUNDLE.sig, over an
// ArchiveStatement of its size and digest, which is checked before the
// archive is opened. spec/bundle-format.md is the normative description.
//
// # Keys
//
// Signing keys are ECDSA P-256 (the default), ECDSA P-384, Ed25519 (pure,
// never Ed25519ph) or RSA-PSS with 3072- or 4096-bit keys. A key is
// identified by its key id, the lower-case hex SHA-256 of its DER
// SubjectPublicKeyInfo. Keys stay behind crypto.Signer, so a KMS or HSM
// key works as well as a file: NewSigner wraps either.
//
//	key, _ := signing.GenerateKey(scb.KeyECDSAP256)
//	_ = signing.WritePrivateKeyFile("signing-key.pem", key, signing.PrivateKeyEncoding{Passphrase: pass}, false)
//	pub, _ := signing.EncodePublicKeyPEM(key.Public())
//
// # Trust
//
// A bundle never vouches for itself: verification takes a KeySet from
// outside the bundle, read from PEM public keys or a JSON Web Key Set in
// which each key may carry a validity window (nbf/exp) for rotation. A
// signature counts only if its key is in the set and valid at the
// verification time.
//
//	signer, _ := signing.NewSigner(key)
//	_ = signing.SignBundle(ctx, bundle, signer)
//	keys, _ := signing.ReadKeySetFile("trusted-keys.jwks.json")
//	verified, err := signing.VerifyBundle(bundle, keys, signing.VerifyOptions{})
//
// Package verify runs this check together with the others (manifest,
// certificate chain, expiry, consistency) and reports each separately.
//
// The cryptography is github.com/sigstore/sigstore's signature and
// signature/dsse packages; the envelope encoding and the rules a verifier
// applies are this package's, so that the Java, Python, Node.js and .NET
// loaders can apply exactly the same ones with their standard libraries.
package signing
