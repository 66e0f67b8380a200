package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

// maxArchiveSize is the largest archive file read into memory.
func maxArchiveSize(l scb.Limits) int64 { return l.WithDefaults().MaxTotalSize + 1<<20 }

// VerifyFile verifies a bundle stored as a zip or tar.gz file or a
// directory. For an archive it first checks the detached signature, if
// one is present (opts.DetachedSignature, or NAME.sig next to the file)
// or required, over the archive bytes, and opens the archive only if that
// passed; then it decodes the archive within opts.Limits and runs Verify.
// The archive is read into memory once, so what is verified is what is
// opened. A file that cannot be read gives outcome "error".
func VerifyFile(name string, opts Options) *Report {
	r := &Report{Time: opts.now()}
	stop := func(res Result) *Report {
		r.add(res)
		r.skipRest("verification stopped at an earlier failure")
		return r
	}
	fi, err := os.Stat(name)
	if err != nil {
		return stop(Result{Check: CheckArchive, Status: StatusFail, Outcome: OutcomeError, Message: err.Error(), Err: err})
	}
	if fi.IsDir() {
		if opts.DetachedSignature != "" || opts.RequireDetachedSignature {
			err := errors.New("a directory cannot carry a detached signature")
			return stop(Result{Check: CheckDetachedSignature, Status: StatusFail, Outcome: OutcomeError, Message: err.Error(), Err: err})
		}
		b, err := scb.ReadFile(name, opts.Limits)
		if err != nil {
			return stop(Result{Check: CheckArchive, Status: StatusFail, Outcome: classify(err), Message: err.Error(), Path: firstPath(err), Err: err})
		}
		r.add(Result{Check: CheckArchive, Status: StatusPass, Message: fmt.Sprintf("directory with %d files", b.Len())})
		verifyInto(r, b, opts)
		return r
	}
	limit := maxArchiveSize(opts.Limits)
	if fi.Size() > limit {
		err := fmt.Errorf("%w: archive is %d bytes, more than %d", scb.ErrTooLarge, fi.Size(), limit)
		return stop(Result{Check: CheckArchive, Status: StatusFail, Outcome: OutcomeTooLarge, Message: err.Error(), Err: err})
	}
	archive, err := readBounded(name, limit)
	if err != nil {
		return stop(Result{Check: CheckArchive, Status: StatusFail, Outcome: classify(err), Message: err.Error(), Err: err})
	}
	sigName := opts.DetachedSignature
	if sigName == "" {
		sigName = signing.DetachedSignaturePath(name)
		if _, err := os.Stat(sigName); errors.Is(err, fs.ErrNotExist) {
			sigName = ""
		}
	}
	var sig []byte
	if sigName != "" {
		sig, err = readBounded(sigName, signing.MaxEnvelopeSize)
		if err != nil {
			return stop(Result{Check: CheckDetachedSignature, Status: StatusFail, Outcome: classify(err), Message: err.Error(), Path: filepath.Base(sigName), Err: err})
		}
	}
	verifyArchive(r, archive, sig, filepath.Base(sigName), opts)
	return r
}

// readBounded reads a file of at most limit bytes.
func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", scb.ErrTooLarge, filepath.Base(name), limit)
	}
	return data, nil
}

// VerifyArchive verifies a zip or tar.gz bundle held in memory, with an
// optional detached signature (nil for none), as VerifyFile does.
func VerifyArchive(archive, detachedSig []byte, opts Options) *Report {
	r := &Report{Time: opts.now()}
	if int64(len(archive)) > maxArchiveSize(opts.Limits) {
		err := fmt.Errorf("%w: archive is %d bytes, more than %d", scb.ErrTooLarge, len(archive), maxArchiveSize(opts.Limits))
		r.add(Result{Check: CheckArchive, Status: StatusFail, Outcome: OutcomeTooLarge, Message: err.Error(), Err: err})
		r.skipRest("the archive was not read")
		return r
	}
	verifyArchive(r, archive, detachedSig, "", opts)
	return r
}

func verifyArchive(r *Report, archive, sig []byte, sigPath string, opts Options) {
	if !detached(r, archive, sig, sigPath, opts) {
		r.skipRest("the detached signature failed; the archive was not opened")
		return
	}
	b, err := scb.Decode(bytes.NewReader(archive), int64(len(archive)), opts.Limits)
	if err != nil {
		r.add(Result{Check: CheckArchive, Status: StatusFail, Outcome: classify(err), Message: err.Error(), Path: firstPath(err), Err: err})
		r.skipRest("the archive could not be opened")
		return
	}
	r.add(Result{Check: CheckArchive, Status: StatusPass, Message: fmt.Sprintf("%d bytes, %d files, every path safe", len(archive), b.Len())})
	verifyInto(r, b, opts)
}

// detached adds the detached-signature result and reports whether the
// archive may be opened.
func detached(r *Report, archive, sig []byte, sigPath string, opts Options) bool {
	const c = CheckDetachedSignature
	switch {
	case sig == nil && opts.RequireDetachedSignature:
		r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeUnsigned, Message: "a detached signature is required and there is none", Err: signing.ErrUnsigned})
		return false
	case sig == nil:
		r.skip(c, "no detached signature")
		return true
	case opts.Keys.Len() == 0:
		if opts.RequireSignature {
			r.add(Result{Check: c, Status: StatusFail, Outcome: OutcomeError, Message: "a signature is required but no trusted keys were given", Path: sigPath, Err: signing.ErrNoTrustedKeys})
			return false
		}
		r.add(Result{Check: c, Status: StatusWarn, Message: "detached signature present, but no trusted keys were given: it was not checked", Path: sigPath})
		return true
	}
	st, ok, err := signing.VerifyArchive(sig, archive, opts.Keys, signing.VerifyOptions{Now: r.Time, Threshold: opts.Threshold})
	if err != nil {
		r.add(Result{Check: c, Status: StatusFail, Outcome: classify(err), Message: err.Error(), Path: sigPath, Err: err})
		return false
	}
	msg := fmt.Sprintf("archive %q (%d bytes) %s", st.Name, st.Size, signedBy(ok))
	r.add(Result{Check: c, Status: StatusPass, Message: msg, Path: sigPath, KeyIDs: ok.KeyIDs})
	return true
}

func verifyInto(r *Report, b *scb.Bundle, opts Options) {
	v := &verifier{b: b, opts: opts, r: r, now: r.Time}
	v.run()
}
