package scb

import (
	"errors"
	"time"
)

// CheckConsistency runs the part of Validate that compares a bundle's files
// with one another, and nothing else. It is what package verify reports as
// its "consistency" check; completeness, the certificate chain, time and
// the manifest are separate checks there.
//
// It checks that metadata.json and config/cassandra.yaml parse, that
// expires_at equals the client certificate's NotAfter, that
// client_key_encrypted matches certificates/client-key.pem, that the client
// key matches the client certificate, and that the stock-driver files
// (config.json, ca.crt, cert, key, cert.pfx, identity.jks, trustStore.jks)
// hold the same certificates and key. An encrypted client key is opened
// with opts.KeyPassphrase; when that is empty the key-to-certificate
// comparison is skipped (the stock-driver copies are still compared). All
// problems are returned, joined; each is a *FileError.
//
// CheckConsistency expects a complete bundle (every RequiredPaths file
// present): it reports a missing file as a *FileError wrapping
// ErrMissingFile but does not look for all of them.
func CheckConsistency(b *Bundle, opts ValidateOptions) error {
	v := &validator{b: b, opts: opts}
	if v.opts.Now.IsZero() {
		v.opts.Now = time.Now()
	}
	v.consistency()
	return errors.Join(v.errs...)
}

func (v *validator) consistency() {
	meta, err := v.b.Metadata()
	if err != nil {
		v.errs = append(v.errs, err)
		return
	}
	var cfg *ClientConfig
	if cfgData, ok := v.need(ClientYAMLPath); ok {
		if cfg, err = ParseClientConfig(cfgData); err != nil {
			v.errs = append(v.errs, err)
		}
	}
	rootsPEM, ok := v.need(CACertPath)
	if !ok {
		return
	}
	roots, err := ParseCertificatesPEM(rootsPEM)
	if err != nil {
		v.fail(CACertPath, "%v", err)
		return
	}
	chainPEM, ok := v.need(ClientCertPath)
	if !ok {
		return
	}
	chain, err := ParseCertificatesPEM(chainPEM)
	if err != nil {
		v.fail(ClientCertPath, "%v", err)
		return
	}
	leaf := chain[0]
	if !leaf.NotAfter.Equal(meta.ExpiresAt) {
		v.fail(MetadataPath, "expires_at %s differs from the client certificate's %s", meta.ExpiresAt.Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	keyPEM, ok := v.need(ClientKeyPath)
	if !ok {
		return
	}
	encrypted := IsEncryptedKeyPEM(keyPEM)
	if cfg != nil && cfg.TLS.ClientKeyEncrypted != encrypted {
		v.fail(ClientYAMLPath, "client_key_encrypted does not match %s", ClientKeyPath)
	}
	if encrypted && len(v.opts.KeyPassphrase) == 0 {
		// Without the passphrase only the stock-driver copies can be
		// compared with the certificate.
		v.checkStock(leaf, chainPEM, roots, nil)
		return
	}
	key, err := ParsePrivateKeyPEM(keyPEM, v.opts.KeyPassphrase)
	switch {
	case err != nil:
		v.errs = append(v.errs, &FileError{Path: ClientKeyPath, Err: err})
		return
	case !publicKeysEqual(leaf.PublicKey, key.Public()):
		v.fail(ClientKeyPath, "private key does not match the client certificate")
	}
	v.checkStock(leaf, chainPEM, roots, key)
}

// WithDefaults returns l with every zero field replaced by the default
// Decode and ReadFile apply.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }
