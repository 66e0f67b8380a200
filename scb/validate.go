package scb

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// ValidateOptions tune Validate.
type ValidateOptions struct {
	// KeyPassphrase opens an encrypted client key.
	KeyPassphrase []byte
	// Now is the time at which the chain must be valid. Zero means
	// time.Now().
	Now time.Time
}

// RequiredPaths are the files every bundle holds, apart from the
// connection profile (which is named after the environment).
var RequiredPaths = []string{MetadataPath, ManifestPath, CACertPath, ClientCertPath, ClientKeyPath, ClientYAMLPath, ReadmePath}

// StockDriverPaths are every stock-driver file. The first five
// (stockCorePaths) are written together or not at all; the keystores
// follow the jks and pkcs12 components.
var StockDriverPaths = []string{CloudConfigPath, CloudCAPath, CloudCertPath, CloudKeyPath, CqlshrcPath, CloudPFXPath, CloudIdentityPath, CloudTrustStorePath}

var stockCorePaths = StockDriverPaths[:5]

// Validate checks that b is complete and consistent: every required file is
// present and non-empty; metadata and configuration parse; the client
// certificate chains to certificates/ca-cert.pem with clientAuth at
// opts.Now; the key matches it; the CA fingerprint and expiry in
// metadata.json are right; the stock-driver files (config.json, ca.crt,
// cert, key, cert.pfx, identity.jks, trustStore.jks) hold the same
// certificates and key; and manifest.json matches every file. All problems
// are returned, joined; each is a *FileError.
func Validate(b *Bundle, opts ValidateOptions) error {
	v := &validator{b: b, opts: opts}
	if v.opts.Now.IsZero() {
		v.opts.Now = time.Now()
	}
	v.run()
	return errors.Join(v.errs...)
}

type validator struct {
	b    *Bundle
	opts ValidateOptions
	errs []error
}

func (v *validator) fail(p string, format string, a ...any) {
	v.errs = append(v.errs, &FileError{Path: p, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)})
}

func (v *validator) need(p string) ([]byte, bool) {
	d, ok := v.b.Get(p)
	switch {
	case !ok:
		v.errs = append(v.errs, &FileError{Path: p, Err: ErrMissingFile})
		return nil, false
	case len(d) == 0:
		v.errs = append(v.errs, &FileError{Path: p, Err: ErrEmptyFile})
		return nil, false
	}
	return d, true
}

func (v *validator) run() {
	for _, p := range RequiredPaths {
		v.need(p)
	}
	if len(v.errs) > 0 {
		return
	}
	meta, err := v.b.Metadata()
	if err != nil {
		v.errs = append(v.errs, err)
		return
	}
	v.need(ConnectionProfilePath(meta.Environment))
	rootsPEM, _ := v.b.Get(CACertPath)
	roots, err := ParseCertificatesPEM(rootsPEM)
	if err != nil {
		v.fail(CACertPath, "%v", err)
		return
	}
	chainPEM, _ := v.b.Get(ClientCertPath)
	chain, err := ParseCertificatesPEM(chainPEM)
	if err != nil {
		v.fail(ClientCertPath, "%v", err)
		return
	}
	v.checkChain(ClientCertPath, chain, roots)
	if Fingerprint(roots[0]) != meta.CA.FingerprintSHA256 {
		v.fail(MetadataPath, "CA fingerprint does not match %s", CACertPath)
	}
	// Validate needs the key itself; CheckConsistency tolerates an
	// encrypted key without its passphrase.
	if keyPEM, _ := v.b.Get(ClientKeyPath); IsEncryptedKeyPEM(keyPEM) && len(v.opts.KeyPassphrase) == 0 {
		v.errs = append(v.errs, &FileError{Path: ClientKeyPath, Err: ErrPassphrase})
	}
	v.consistency()
	if _, err := CheckManifest(v.b); err != nil {
		v.errs = append(v.errs, err)
	}
}

func (v *validator) checkChain(p string, chain, roots []*x509.Certificate) {
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		rp.AddCert(r)
	}
	for _, c := range chain[1:] {
		ip.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{
		Roots: rp, Intermediates: ip, CurrentTime: v.opts.Now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		v.fail(p, "client certificate does not verify against %s: %v", CACertPath, err)
	}
}

// checkStock validates the stock-driver files when any of them is present.
func (v *validator) checkStock(leaf *x509.Certificate, chainPEM []byte, roots []*x509.Certificate, key crypto.Signer) {
	present := 0
	for _, p := range StockDriverPaths {
		if _, ok := v.b.Get(p); ok {
			present++
		}
	}
	if present == 0 {
		return
	}
	for _, p := range stockCorePaths {
		v.need(p)
	}
	_, hasID := v.b.Get(CloudIdentityPath)
	_, hasTrust := v.b.Get(CloudTrustStorePath)
	if hasID != hasTrust {
		v.need(CloudIdentityPath)
		v.need(CloudTrustStorePath)
	}
	ccData, ok := v.b.Get(CloudConfigPath)
	if !ok || len(ccData) == 0 {
		return
	}
	cc, err := ParseCloudConfig(ccData)
	if err != nil {
		v.errs = append(v.errs, err)
		return
	}
	if d, ok := v.b.Get(CloudCAPath); ok {
		cas, err := ParseCertificatesPEM(d)
		switch {
		case err != nil:
			v.fail(CloudCAPath, "%v", err)
		case len(cas) != 1:
			v.fail(CloudCAPath, "must hold exactly one certificate, holds %d", len(cas))
		case !bytes.Equal(cas[0].Raw, roots[0].Raw):
			v.fail(CloudCAPath, "differs from the first certificate of %s", CACertPath)
		case cas[0].CheckSignatureFrom(cas[0]) != nil || !cas[0].IsCA:
			v.fail(CloudCAPath, "is not a self-signed root")
		}
	}
	if d, ok := v.b.Get(CloudCertPath); ok && !bytes.Equal(d, chainPEM) {
		v.fail(CloudCertPath, "differs from %s", ClientCertPath)
	}
	if d, ok := v.b.Get(CloudKeyPath); ok && len(d) > 0 {
		k, err := ParsePrivateKeyPEM(d, nil)
		if err != nil {
			v.errs = append(v.errs, &FileError{Path: CloudKeyPath, Err: err})
		} else if !publicKeysEqual(leaf.PublicKey, k.Public()) {
			v.fail(CloudKeyPath, "does not match the client certificate")
		}
	}
	if d, ok := v.b.Get(CloudPFXPath); ok && len(d) > 0 {
		k, certs, err := decodePFX(d, cc.PFXCertPassword)
		if err != nil {
			// The reasons are fixed texts (ours and go-pkcs12's): no
			// password or file bytes in them.
			v.fail(CloudPFXPath, "cannot be opened with pfxCertPassword from config.json: %v", err)
		} else {
			v.sameIdentity(CloudPFXPath, k, certs, leaf, key)
		}
	}
	if d, ok := v.b.Get(CloudIdentityPath); ok && len(d) > 0 {
		k, certs, err := decodeIdentityJKS(d, cc.KeyStorePassword)
		if err != nil {
			v.fail(CloudIdentityPath, "cannot be opened with keyStorePassword from config.json")
		} else {
			v.sameIdentity(CloudIdentityPath, k, certs, leaf, key)
		}
	}
	if d, ok := v.b.Get(CloudTrustStorePath); ok && len(d) > 0 {
		certs, err := decodeTrustJKS(d, cc.TrustStorePassword)
		switch {
		case err != nil:
			v.fail(CloudTrustStorePath, "cannot be opened with trustStorePassword from config.json")
		case len(certs) == 0 || !bytes.Equal(certs[0].Raw, roots[0].Raw):
			v.fail(CloudTrustStorePath, "does not hold the CA certificate")
		}
	}
}

func (v *validator) sameIdentity(p string, k crypto.PrivateKey, certs []*x509.Certificate, leaf *x509.Certificate, key crypto.Signer) {
	if len(certs) == 0 || !bytes.Equal(certs[0].Raw, leaf.Raw) {
		v.fail(p, "holds a different certificate than %s", ClientCertPath)
		return
	}
	s, ok := k.(crypto.Signer)
	if !ok || !publicKeysEqual(s.Public(), leaf.PublicKey) {
		v.fail(p, "holds a different private key than %s", ClientKeyPath)
	}
}
