package verify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

// DefaultExpiryWarning is how close to expiry a certificate must be for
// the validity check to warn, when Options.ExpiryWarning is zero.
const DefaultExpiryWarning = 30 * 24 * time.Hour

// Options tune verification. The zero value checks everything that can be
// checked without trusted keys, at the current time.
type Options struct {
	// Keys are the trusted signing keys. They must come from outside the
	// bundle: a bundle never vouches for itself.
	//
	// The signature rule: with keys, an unsigned bundle fails (outcome
	// "unsigned") and a signed one must be signed by Threshold trusted
	// keys valid at Now. Without keys, a signed bundle gives a warning
	// (the signature could not be checked) and an unsigned one a skip,
	// unless RequireSignature is set, which makes the missing keys a
	// failure (outcome "error").
	Keys *signing.KeySet
	// RequireSignature fails verification when no trusted keys are given
	// instead of skipping the signature check. (With keys, a signature is
	// always required.)
	RequireSignature bool
	// Threshold is how many distinct trusted keys must have signed. Zero
	// means 1.
	Threshold int
	// Now is the verification time for certificates and key windows. Zero
	// means time.Now().
	Now time.Time
	// ExpiryWarning: certificates expiring within this duration of Now
	// give a warning. Zero means DefaultExpiryWarning; negative disables
	// the warning.
	ExpiryWarning time.Duration
	// KeyPassphrase opens an encrypted certificates/client-key.pem so the
	// consistency check can compare it with the certificate. Without it an
	// encrypted key gives a warning.
	KeyPassphrase []byte
	// Limits bound what VerifyFile and VerifyArchive read. Zero fields
	// take scb's defaults; the archive itself may be at most
	// Limits.MaxTotalSize plus 1 MiB.
	Limits scb.Limits
	// DetachedSignature is the detached signature file VerifyFile checks.
	// Empty means ARCHIVE.sig when that file exists.
	DetachedSignature string
	// RequireDetachedSignature makes a missing detached signature a
	// failure (outcome "unsigned") in VerifyFile and VerifyArchive.
	RequireDetachedSignature bool
}

// String never shows the passphrase.
func (o Options) String() string {
	return fmt.Sprintf("verify.Options{Keys:%d RequireSignature:%v Threshold:%d Now:%s KeyPassphrase:<redacted>}", o.Keys.Len(), o.RequireSignature, o.Threshold, o.Now.Format(time.RFC3339))
}

// GoString is String.
func (o Options) GoString() string { return o.String() }

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Verify checks an in-memory bundle and reports every check from
// CheckCompleteness on. It never panics on malformed content and never
// modifies b.
func Verify(b *scb.Bundle, opts Options) *Report {
	r := &Report{Time: opts.now()}
	v := &verifier{b: b, opts: opts, r: r, now: r.Time}
	v.run()
	return r
}

type verifier struct {
	b    *scb.Bundle
	opts Options
	r    *Report
	now  time.Time
	meta *scb.Metadata
	// path is the verified chain, leaf first, when the chain check passed.
	path []*x509.Certificate
}

func (v *verifier) run() {
	v.completeness()
	v.signature()
	v.manifest()
	v.chain()
	v.validity()
	v.consistency()
}

// firstPath returns the path of the first *scb.FileError in err.
func firstPath(err error) string {
	var fe *scb.FileError
	for _, e := range flatten(err) {
		if errors.As(e, &fe) {
			return strings.Trim(fe.Path, `"`)
		}
	}
	return ""
}

// flatten lists the errors joined in err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// summary makes one line of a joined error.
func summary(err error) string {
	errs := flatten(err)
	if len(errs) == 1 {
		return errs[0].Error()
	}
	msgs := make([]string, 0, 3)
	for _, e := range errs[:min(3, len(errs))] {
		msgs = append(msgs, e.Error())
	}
	s := fmt.Sprintf("%d problems: %s", len(errs), strings.Join(msgs, "; "))
	if len(errs) > 3 {
		s += "; …"
	}
	return s
}

func (v *verifier) completeness() {
	var errs []error
	need := func(p string) {
		d, ok := v.b.Get(p)
		switch {
		case !ok:
			errs = append(errs, &scb.FileError{Path: p, Err: scb.ErrMissingFile})
		case len(d) == 0:
			errs = append(errs, &scb.FileError{Path: p, Err: scb.ErrEmptyFile})
		}
	}
	for _, p := range scb.RequiredPaths {
		need(p)
	}
	if _, ok := v.b.Get(scb.MetadataPath); ok {
		meta, err := v.b.Metadata()
		if err != nil {
			v.r.add(Result{Check: CheckCompleteness, Status: StatusFail, Outcome: OutcomeMalformedMetadata, Message: err.Error(), Path: scb.MetadataPath, Err: err})
			return
		}
		v.meta = meta
		need(scb.ConnectionProfilePath(meta.Environment))
	}
	stock := 0
	for _, p := range scb.StockDriverPaths {
		if _, ok := v.b.Get(p); ok {
			stock++
		}
	}
	if stock > 0 {
		for _, p := range scb.StockDriverPaths {
			need(p)
		}
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		v.r.add(Result{Check: CheckCompleteness, Status: StatusFail, Outcome: OutcomeIncomplete, Message: summary(err), Path: firstPath(err), Err: err})
		return
	}
	msg := fmt.Sprintf("%d files, every required file present", v.b.Len())
	if stock > 0 {
		msg += ", with the stock-driver files"
	}
	v.r.add(Result{Check: CheckCompleteness, Status: StatusPass, Message: msg})
}

// classify maps a signature or archive error to its outcome.
func classify(err error) Outcome {
	switch {
	case errors.Is(err, signing.ErrNoTrustedKeys):
		return OutcomeError
	case errors.Is(err, signing.ErrUnsigned):
		return OutcomeUnsigned
	case errors.Is(err, signing.ErrMalformedEnvelope):
		return OutcomeMalformedSignature
	case errors.Is(err, signing.ErrBadSignature):
		return OutcomeBadSignature
	case errors.Is(err, signing.ErrKeyNotValid):
		return OutcomeKeyOutsideValidity
	case errors.Is(err, signing.ErrUntrusted):
		return OutcomeUnknownSigner
	case errors.Is(err, signing.ErrArchiveMismatch), errors.Is(err, scb.ErrDigestMismatch):
		return OutcomeDigestMismatch
	case errors.Is(err, scb.ErrUnsafePath):
		return OutcomeUnsafePath
	case errors.Is(err, scb.ErrTooLarge):
		return OutcomeTooLarge
	case errors.Is(err, scb.ErrUnsupportedEntry):
		return OutcomeUnsupportedEntry
	case errors.Is(err, scb.ErrMalformedArchive):
		return OutcomeMalformedArchive
	}
	return OutcomeError
}

func (v *verifier) signature() {
	const c = CheckSignature
	_, signed := v.b.Get(scb.SignaturePath)
	if v.opts.Keys.Len() == 0 {
		switch {
		case v.opts.RequireSignature:
			v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeError, Message: "a signature is required but no trusted keys were given", Err: signing.ErrNoTrustedKeys})
		case signed:
			v.r.add(Result{Check: c, Status: StatusWarn, Message: "signed, but no trusted keys were given: the signature was not checked", Path: scb.SignaturePath})
		default:
			v.r.skip(c, "not signed, and no trusted keys were given")
		}
		return
	}
	if _, ok := v.b.Get(scb.ManifestPath); !ok {
		v.r.skip(c, "no manifest.json to verify")
		return
	}
	if !signed {
		v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeUnsigned, Message: "the bundle is not signed, and trusted keys were given", Path: scb.SignaturePath, Err: signing.ErrUnsigned})
		return
	}
	ok, err := signing.VerifyBundle(v.b, v.opts.Keys, signing.VerifyOptions{Now: v.now, Threshold: v.opts.Threshold})
	if err != nil {
		v.r.add(Result{Check: c, Status: StatusFail, Outcome: classify(err), Message: err.Error(), Path: scb.SignaturePath, Err: err})
		return
	}
	v.r.add(Result{Check: c, Status: StatusPass, Message: signedBy(ok), Path: scb.SignaturePath, KeyIDs: ok.KeyIDs})
}

func signedBy(ok *signing.Verified) string {
	msg := fmt.Sprintf("signed by %d trusted key(s): %s", len(ok.KeyIDs), strings.Join(ok.KeyIDs, ", "))
	if n := len(ok.OutsideWindow); n > 0 {
		msg += fmt.Sprintf("; %d more outside their validity window", n)
	}
	if n := len(ok.Unknown); n > 0 {
		msg += fmt.Sprintf("; %d by unknown keys (ignored)", n)
	}
	return msg
}

func (v *verifier) manifest() {
	const c = CheckManifest
	if _, ok := v.b.Get(scb.ManifestPath); !ok {
		v.r.skip(c, "no manifest.json")
		return
	}
	m, err := scb.CheckManifest(v.b)
	if m == nil {
		v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeMalformedManifest, Message: err.Error(), Path: scb.ManifestPath, Err: err})
		return
	}
	// Nothing under signatures/ but the envelope: no file may escape the
	// manifest.
	errs := flatten(err)
	for _, p := range v.b.Paths() {
		if !scb.InManifest(p) && p != scb.ManifestPath && p != scb.SignaturePath {
			errs = append(errs, &scb.FileError{Path: p, Err: fmt.Errorf("%w: file not covered by the manifest", scb.ErrDigestMismatch)})
		}
	}
	if len(errs) > 0 {
		err = errors.Join(errs...)
		v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeDigestMismatch, Message: summary(err), Path: firstPath(err), Err: err})
		return
	}
	v.r.add(Result{Check: c, Status: StatusPass, Message: fmt.Sprintf("%d files match manifest.json", len(m.Files))})
}

func (v *verifier) chain() {
	const c = CheckChain
	fail := func(p string, err error) {
		err = &scb.FileError{Path: p, Err: err}
		v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeChainInvalid, Message: err.Error(), Path: p, Err: err})
	}
	rootsPEM, ok1 := v.b.Get(scb.CACertPath)
	chainPEM, ok2 := v.b.Get(scb.ClientCertPath)
	if !ok1 || !ok2 || len(rootsPEM) == 0 || len(chainPEM) == 0 {
		v.r.skip(c, "certificate files missing")
		return
	}
	roots, err := scb.ParseCertificatesPEM(rootsPEM)
	if err != nil {
		fail(scb.CACertPath, fmt.Errorf("%w: %v", ErrChain, err))
		return
	}
	chain, err := scb.ParseCertificatesPEM(chainPEM)
	if err != nil {
		fail(scb.ClientCertPath, fmt.Errorf("%w: %v", ErrChain, err))
		return
	}
	leaf := chain[0]
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		rp.AddCert(r)
	}
	for _, ic := range chain[1:] {
		ip.AddCert(ic)
	}
	// Time is the validity check's business: the chain is verified at
	// the verification time moved into the leaf's validity period.
	at := v.now
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	paths, err := leaf.Verify(x509.VerifyOptions{Roots: rp, Intermediates: ip, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		fail(scb.ClientCertPath, fmt.Errorf("%w: not issued by %s for client authentication: %v", ErrChain, scb.CACertPath, err))
		return
	}
	v.path = paths[0]
	if v.meta != nil && v.meta.CA.FingerprintSHA256 != scb.Fingerprint(roots[0]) {
		fail(scb.MetadataPath, fmt.Errorf("%w: ca.fingerprint_sha256 is not the fingerprint of the first certificate in %s", ErrChain, scb.CACertPath))
		return
	}
	v.r.add(Result{Check: c, Status: StatusPass, Message: fmt.Sprintf("%q chains to %q for client authentication", leaf.Subject.CommonName, v.path[len(v.path)-1].Subject.CommonName), Path: scb.ClientCertPath})
}

func (v *verifier) validity() {
	const c = CheckValidity
	certs := v.path
	if certs == nil {
		chainPEM, _ := v.b.Get(scb.ClientCertPath)
		chain, err := scb.ParseCertificatesPEM(chainPEM)
		if err != nil {
			v.r.skip(c, "no readable client certificate")
			return
		}
		certs = chain[:1]
	}
	name := func(i int) string {
		switch {
		case i == 0:
			return "client certificate"
		case i == len(certs)-1 && v.path != nil:
			return "CA certificate"
		}
		return "intermediate certificate"
	}
	pathOf := func(i int) string {
		if i == len(certs)-1 && v.path != nil && i > 0 {
			return scb.CACertPath
		}
		return scb.ClientCertPath
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	for i, cert := range certs {
		switch {
		case v.now.Before(cert.NotBefore):
			err := &scb.FileError{Path: pathOf(i), Err: fmt.Errorf("%w: %s valid from %s", ErrNotYetValid, name(i), stamp(cert.NotBefore))}
			v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeNotYetValid, Message: err.Error(), Path: pathOf(i), Err: err})
			return
		case v.now.After(cert.NotAfter):
			err := &scb.FileError{Path: pathOf(i), Err: fmt.Errorf("%w: %s expired at %s", ErrExpired, name(i), stamp(cert.NotAfter))}
			v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeExpired, Message: err.Error(), Path: pathOf(i), Err: err})
			return
		}
	}
	first := 0
	for i, cert := range certs {
		if cert.NotAfter.Before(certs[first].NotAfter) {
			first = i
		}
	}
	left := certs[first].NotAfter.Sub(v.now)
	warn := v.opts.ExpiryWarning
	if warn == 0 {
		warn = DefaultExpiryWarning
	}
	msg := fmt.Sprintf("%s expires at %s, in %s", name(first), stamp(certs[first].NotAfter), days(left))
	if warn > 0 && left < warn {
		v.r.add(Result{Check: c, Status: StatusWarn, Message: msg, Path: pathOf(first)})
		return
	}
	v.r.add(Result{Check: c, Status: StatusPass, Message: msg, Path: pathOf(first)})
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (v *verifier) consistency() {
	const c = CheckConsistency
	if v.r.failed(CheckCompleteness) {
		v.r.skip(c, "the bundle is incomplete")
		return
	}
	err := scb.CheckConsistency(v.b, scb.ValidateOptions{KeyPassphrase: v.opts.KeyPassphrase, Now: v.now})
	if err != nil {
		v.r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeInconsistent, Message: summary(err), Path: firstPath(err), Err: err})
		return
	}
	key, _ := v.b.Get(scb.ClientKeyPath)
	if scb.IsEncryptedKeyPEM(key) && len(v.opts.KeyPassphrase) == 0 {
		v.r.add(Result{Check: c, Status: StatusWarn, Message: "the client key is encrypted and no passphrase was given: it was not compared with the certificate", Path: scb.ClientKeyPath})
		return
	}
	v.r.add(Result{Check: c, Status: StatusPass, Message: "certificates and keys agree across every file that holds them"})
}
