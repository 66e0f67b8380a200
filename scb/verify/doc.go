// Package verify checks a secure connection bundle and says, check by
// check, what is right and what is wrong with it.
//
// Checksums catch accidents; signatures catch attackers: the report keeps
// them apart. The checks, in order (Checks):
//
//	detached_signature  BUNDLE.sig over the archive bytes, before unpacking
//	archive             safe paths, no links or devices, size limits
//	completeness        every required file present and non-empty
//	signature           signatures/manifest.dsse.json by a trusted key
//	manifest            every file matches manifest.json, nothing uncovered
//	chain               client certificate → certificates/ca-cert.pem, clientAuth
//	validity            certificate lifetimes at Options.Now; warn near expiry
//	consistency         PEM, PKCS#12, JKS, config.json, metadata agree
//
// Each Result has a Status (pass, warn, fail, skip); a failure also has
// an Outcome, a language-neutral class such as "bad_signature" or
// "expired" that the loaders for other languages report for the same
// input (see spec/vectors). Report.OK is true when nothing failed,
// Report.Outcome is "valid" or the outcome of the first failure, and a
// Report marshals to JSON for machines.
//
// Trusted keys come from outside the bundle (Options.Keys): a bundle
// never vouches for itself. With keys, an unsigned bundle fails; without
// keys, the signature cannot be checked and the report says so.
//
//	keys, err := signing.ReadKeySetFile("trusted-keys.jwks.json")
//	...
//	report := verify.VerifyFile("app.zip", verify.Options{Keys: keys})
//	if !report.OK() {
//		return report.Err() // a *verify.Error
//	}
//
// Verification is pure local work: no network, no context, and the time
// is Options.Now so that tests and vectors are repeatable.
package verify
