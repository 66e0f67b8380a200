package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

// A Check names one verification step. Reports list results in the order
// of Checks, which is also the order in which the first failure decides a
// report's Outcome.
type Check string

// The checks, in order.
const (
	// CheckDetachedSignature verifies BUNDLE.sig over the archive bytes
	// (VerifyFile and VerifyArchive only, when a detached signature is
	// present, named or required).
	CheckDetachedSignature Check = "detached_signature"
	// CheckArchive decodes the archive with safe paths and size limits
	// (VerifyFile and VerifyArchive only).
	CheckArchive Check = "archive"
	// CheckCompleteness: every required file is present and non-empty,
	// metadata.json parses, and the stock-driver files are all there or
	// all absent.
	CheckCompleteness Check = "completeness"
	// CheckSignature verifies signatures/manifest.dsse.json against the
	// trusted keys.
	CheckSignature Check = "signature"
	// CheckManifest compares every file with manifest.json.
	CheckManifest Check = "manifest"
	// CheckChain verifies that the client certificate chains to
	// certificates/ca-cert.pem for clientAuth and that the CA fingerprint
	// in metadata.json is that of the first CA certificate.
	CheckChain Check = "chain"
	// CheckValidity compares the certificates' validity with the
	// verification time, warning when expiry is near.
	CheckValidity Check = "validity"
	// CheckConsistency compares files holding the same certificate or
	// key (PEM, PKCS#12, JKS, config.json, metadata.json).
	CheckConsistency Check = "consistency"
)

// Checks lists every check in report order.
var Checks = []Check{CheckDetachedSignature, CheckArchive, CheckCompleteness, CheckSignature, CheckManifest, CheckChain, CheckValidity, CheckConsistency}

// Status is the result of one check.
type Status string

// Statuses.
const (
	StatusPass Status = "pass"
	// StatusWarn means the check found something to act on that does not
	// make the bundle invalid (expiry near, signature present but no
	// trusted keys given, encrypted key not opened).
	StatusWarn Status = "warn"
	// StatusFail means the bundle must be rejected.
	StatusFail Status = "fail"
	// StatusSkip means the check did not run: it does not apply, or an
	// earlier failure left it nothing to check.
	StatusSkip Status = "skip"
)

// Outcome is a language-neutral class for a verification result, shared
// with the other languages' loaders through spec/vectors/vectors.json.
type Outcome string

// Outcomes. A report's outcome is OutcomeValid or the outcome of its
// first failing result.
const (
	OutcomeValid              Outcome = "valid"
	OutcomeError              Outcome = "error" // verification could not run (I/O, configuration)
	OutcomeMalformedArchive   Outcome = "malformed_archive"
	OutcomeUnsafePath         Outcome = "unsafe_path"
	OutcomeTooLarge           Outcome = "too_large"
	OutcomeUnsupportedEntry   Outcome = "unsupported_entry"
	OutcomeIncomplete         Outcome = "incomplete"
	OutcomeMalformedMetadata  Outcome = "malformed_metadata"
	OutcomeUnsigned           Outcome = "unsigned"
	OutcomeMalformedSignature Outcome = "malformed_signature"
	OutcomeBadSignature       Outcome = "bad_signature"
	OutcomeUnknownSigner      Outcome = "unknown_signer"
	OutcomeKeyOutsideValidity Outcome = "key_outside_validity"
	OutcomeMalformedManifest  Outcome = "malformed_manifest"
	OutcomeDigestMismatch     Outcome = "digest_mismatch"
	OutcomeChainInvalid       Outcome = "chain_invalid"
	OutcomeExpired            Outcome = "expired"
	OutcomeNotYetValid        Outcome = "not_yet_valid"
	OutcomeInconsistent       Outcome = "inconsistent"
)

// Errors callers branch on. The signature sentinels are those of package
// signing, so errors.Is works with either name.
var (
	ErrUnsigned           = signing.ErrUnsigned
	ErrMalformedSignature = signing.ErrMalformedEnvelope
	ErrBadSignature       = signing.ErrBadSignature
	ErrUntrusted          = signing.ErrUntrusted
	ErrKeyNotValid        = signing.ErrKeyNotValid
	ErrNoTrustedKeys      = signing.ErrNoTrustedKeys
	ErrArchiveMismatch    = signing.ErrArchiveMismatch
	ErrDigestMismatch     = scb.ErrDigestMismatch

	// ErrChain means the client certificate does not chain to the bundle's
	// CA certificate for client authentication, or metadata.json names a
	// different CA.
	ErrChain = errors.New("certificate chain does not verify")
	// ErrExpired means a certificate of the chain has expired.
	ErrExpired = errors.New("certificate has expired")
	// ErrNotYetValid means a certificate of the chain is not valid yet.
	ErrNotYetValid = errors.New("certificate is not valid yet")
)

// Error is a failed check, as returned by Report.Err.
type Error struct {
	Check Check
	Path  string
	Err   error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Path == "" || strings.HasPrefix(msg, e.Path+": ") {
		return fmt.Sprintf("%s: %s", e.Check, msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Check, e.Path, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Result is the result of one check.
type Result struct {
	Check  Check
	Status Status
	// Outcome classifies a failure; empty unless Status is StatusFail.
	Outcome Outcome
	// Message is one line for people.
	Message string
	// Path is the bundle path (or, for the detached signature, file name)
	// the result is about, when there is one; with several, the first.
	Path string
	// KeyIDs are the trusted keys whose signatures counted (signature
	// checks only).
	KeyIDs []string
	// Err is the cause of a failure or warning.
	Err error
}

type resultJSON struct {
	Check   Check    `json:"check"`
	Status  Status   `json:"status"`
	Outcome Outcome  `json:"outcome,omitempty"`
	Message string   `json:"message"`
	Path    string   `json:"path,omitempty"`
	KeyIDs  []string `json:"keyids,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// MarshalJSON encodes the result with Err as its message.
func (r Result) MarshalJSON() ([]byte, error) {
	j := resultJSON{Check: r.Check, Status: r.Status, Outcome: r.Outcome, Message: r.Message, Path: r.Path, KeyIDs: r.KeyIDs}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return json.Marshal(j)
}

// Report is the outcome of a verification: one result per check, in
// the order of Checks (checks that do not apply to the entry point used
// are left out).
type Report struct {
	// Time is the verification time used.
	Time    time.Time
	Results []Result
}

// OK reports whether no check failed. Warnings do not make a report fail.
func (r *Report) OK() bool { return r.firstFailure() == nil }

// Outcome is OutcomeValid, or the outcome of the first failed check.
func (r *Report) Outcome() Outcome {
	if f := r.firstFailure(); f != nil {
		return f.Outcome
	}
	return OutcomeValid
}

// Err returns the first failure as an *Error, or nil.
func (r *Report) Err() error {
	f := r.firstFailure()
	if f == nil {
		return nil
	}
	err := f.Err
	if err == nil {
		err = errors.New(f.Message)
	}
	return &Error{Check: f.Check, Path: f.Path, Err: err}
}

// Result returns the result of check c.
func (r *Report) Result(c Check) (Result, bool) {
	for _, res := range r.Results {
		if res.Check == c {
			return res, true
		}
	}
	return Result{}, false
}

// Warnings returns the results with StatusWarn.
func (r *Report) Warnings() []Result {
	var w []Result
	for _, res := range r.Results {
		if res.Status == StatusWarn {
			w = append(w, res)
		}
	}
	return w
}

// Signers returns the trusted key ids whose signatures over the manifest
// counted.
func (r *Report) Signers() []string {
	res, _ := r.Result(CheckSignature)
	return res.KeyIDs
}

func (r *Report) firstFailure() *Result {
	for i := range r.Results {
		if r.Results[i].Status == StatusFail {
			return &r.Results[i]
		}
	}
	return nil
}

// MarshalJSON encodes the report as {"ok", "outcome", "time", "results"}.
func (r *Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		OK      bool      `json:"ok"`
		Outcome Outcome   `json:"outcome"`
		Time    time.Time `json:"time"`
		Results []Result  `json:"results"`
	}{r.OK(), r.Outcome(), r.Time.UTC(), r.Results})
}

// ExitCode maps a report to the CLI's exit codes: 0 valid, 3 rejected, 1
// verification could not run. (2, usage, is decided before verifying.)
func (r *Report) ExitCode() int {
	switch r.Outcome() {
	case OutcomeValid:
		return 0
	case OutcomeError:
		return 1
	}
	return 3
}

func (r *Report) add(res Result) { r.Results = append(r.Results, res) }

func (r *Report) skip(c Check, why string) {
	r.add(Result{Check: c, Status: StatusSkip, Message: why})
}

// skipRest completes a report that stopped early: every check of Checks
// without a result gets a skip, keeping the results in check order.
func (r *Report) skipRest(why string) {
	out := make([]Result, 0, len(Checks))
	for _, c := range Checks {
		if res, ok := r.Result(c); ok {
			out = append(out, res)
		} else {
			out = append(out, Result{Check: c, Status: StatusSkip, Message: why})
		}
	}
	r.Results = out
}

// failed reports whether check c failed.
func (r *Report) failed(c Check) bool {
	res, ok := r.Result(c)
	return ok && res.Status == StatusFail
}
