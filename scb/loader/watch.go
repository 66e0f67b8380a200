package loader

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scbkit/scbkit/scb"
)

// Defaults of WatchOptions.
const (
	DefaultWatchInterval = 30 * time.Second
	DefaultExpiryWarning = 7 * 24 * time.Hour
)

// WatchOptions configure a Watcher. The zero value polls every 30s, warns
// 7 days before the client certificate expires and reports nothing except
// through Reload's return value.
type WatchOptions struct {
	// Options are used for the first load and every reload.
	Options
	// Interval between checks of the bundle path. Zero means
	// DefaultWatchInterval; negative means never (call Reload yourself).
	Interval time.Duration
	// ExpiryWarning is how long before the client certificate's NotAfter
	// OnExpiring fires and a warning is logged. Zero means
	// DefaultExpiryWarning; negative disables the warning.
	ExpiryWarning time.Duration
	// OnReload is called after new material replaced the old, with both.
	OnReload func(old, new *Bundle)
	// OnError is called when the changed file could not be loaded; the
	// old material stays in use. The error is an *Error.
	OnError func(err error)
	// OnExpiring is called once per loaded certificate when its remaining
	// validity falls below ExpiryWarning (remaining <= 0: expired).
	OnExpiring func(b *Bundle, remaining time.Duration)
	// Logger receives one record per reload, failed reload and expiry
	// warning. Nil means no logging. Records never hold secrets.
	Logger *slog.Logger
}

// Watcher keeps a bundle loaded from a path and reloads it when the file is
// replaced, so that new connections use the new client certificate and CA
// while existing connections keep serving. Callbacks run on the watcher's
// goroutine (or the caller of Reload), one at a time; they must not call
// Reload or Close. A Watcher is a Source and safe for concurrent use.
type Watcher struct {
	path string
	opts WatchOptions

	cur atomic.Pointer[Bundle]

	mu      sync.Mutex // serialises checks
	stamp   fileStamp
	warned  bool
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
}

var _ Source = (*Watcher)(nil)

// Watch opens the bundle at path like Open and starts watching it. It
// fails if the first load fails. Stop it with Close.
func Watch(path string, opts WatchOptions) (*Watcher, error) {
	if opts.Interval == 0 {
		opts.Interval = DefaultWatchInterval
	}
	if opts.ExpiryWarning == 0 {
		opts.ExpiryWarning = DefaultExpiryWarning
	}
	st, err := stampOf(path)
	if err != nil {
		return nil, &Error{Source: path, Stage: StageArchive, Err: err}
	}
	b, err := Open(path, opts.Options)
	if err != nil {
		return nil, err
	}
	w := &Watcher{path: path, opts: opts, stamp: st, stop: make(chan struct{}), done: make(chan struct{})}
	w.cur.Store(b)
	w.checkExpiry(b)
	if opts.Interval > 0 {
		go w.loop()
	} else {
		close(w.done)
	}
	return w, nil
}

// String describes the watcher without secrets.
func (w *Watcher) String() string {
	return fmt.Sprintf("loader.Watcher{path: %q, current: %v}", w.path, w.cur.Load())
}

// Format prints String for every verb, so the passphrase never prints.
func (w *Watcher) Format(f fmt.State, _ rune) { io.WriteString(f, w.String()) }

// Format prints the options with the passphrase redacted, for every verb.
func (o WatchOptions) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "loader.WatchOptions{%v, Interval: %s, ExpiryWarning: %s}", o.Options, o.Interval, o.ExpiryWarning)
}

// Current returns the bundle in use now.
func (w *Watcher) Current() *Bundle { return w.cur.Load() }

// TLSConfig returns a client TLS configuration whose every handshake uses
// the material current at that moment: the client certificate through
// GetClientCertificate and the CA pool, hostname policy and minimum
// version through VerifyConnection. Because crypto/tls cannot verify
// against a changing pool, InsecureSkipVerify is set and VerifyConnection
// does the complete verification. The host name checked is this
// configuration's ServerName, which Dialer sets per connection; set it
// yourself when dialling by hand. A copy made with Clone still verifies
// DNS names but fails closed for IP addresses, as does a connection with
// no server name at all while hostname verification is on.
func (w *Watcher) TLSConfig() *tls.Config {
	return dynamicConfig(func() *material { return w.cur.Load().mat }, w.opts.Now)
}

// Reload checks the path now and loads it if it changed. It returns nil if
// nothing changed or the new bundle is in use, and the load error (an
// *Error) if the changed file was rejected, in which case the old bundle
// stays in use and the same file is not retried until it changes again.
func (w *Watcher) Reload() error { return w.check(true) }

// Close stops watching and waits for the watcher's goroutine to exit. The
// last bundle stays usable through Current and TLSConfig. Close is
// idempotent and always returns nil.
func (w *Watcher) Close() error {
	w.closing.Do(func() {
		close(w.stop)
	})
	<-w.done
	return nil
}

func (w *Watcher) loop() {
	defer close(w.done)
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.check(false)
		}
	}
}

func (w *Watcher) log(level slog.Level, msg string, args ...any) {
	if w.opts.Logger != nil {
		w.opts.Logger.Log(context.Background(), level, msg, append([]any{slog.String("path", w.path)}, args...)...)
	}
}

func (w *Watcher) check(force bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { w.checkExpiry(w.cur.Load()) }()
	st, err := stampOf(w.path)
	if err != nil {
		// A missing file is usually a replacement in progress; report it
		// only when asked directly.
		if force {
			return &Error{Source: w.path, Stage: StageArchive, Err: err}
		}
		return nil
	}
	if st.equal(w.stamp) {
		return nil
	}
	w.stamp = st
	b, err := Open(w.path, w.opts.Options)
	if err != nil {
		w.log(slog.LevelWarn, "bundle reload failed; keeping the previous bundle", slog.String("error", err.Error()))
		if w.opts.OnError != nil {
			w.opts.OnError(err)
		}
		return err
	}
	old := w.cur.Load()
	if b.digest == old.digest {
		return nil
	}
	w.cur.Store(b)
	w.warned = false
	w.log(slog.LevelInfo, "bundle reloaded", slog.Any("bundle", b), slog.String("previous_client_cert_sha256", scb.Fingerprint(old.Certificate())))
	if w.opts.OnReload != nil {
		w.opts.OnReload(old, b)
	}
	return nil
}

func (w *Watcher) checkExpiry(b *Bundle) {
	if w.opts.ExpiryWarning < 0 || w.warned {
		return
	}
	left := b.Certificate().NotAfter.Sub(w.opts.now())
	if left >= w.opts.ExpiryWarning {
		return
	}
	w.warned = true
	if left <= 0 {
		w.log(slog.LevelError, "client certificate has expired", slog.Any("bundle", b))
	} else {
		w.log(slog.LevelWarn, "client certificate expires soon", slog.Any("bundle", b), slog.Duration("remaining", left))
	}
	if w.opts.OnExpiring != nil {
		w.opts.OnExpiring(b, left)
	}
}

// fileStamp identifies one version of the bundle path: the file (or, for a
// directory bundle, the directory and its manifest.json).
type fileStamp struct {
	fi, manifest os.FileInfo
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{fi: fi}
	if fi.IsDir() {
		if st.manifest, err = os.Stat(filepath.Join(path, filepath.FromSlash(scb.ManifestPath))); err != nil {
			return fileStamp{}, err
		}
	}
	return st, nil
}

func sameInfo(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func (s fileStamp) equal(o fileStamp) bool {
	return sameInfo(s.fi, o.fi) && sameInfo(s.manifest, o.manifest)
}
