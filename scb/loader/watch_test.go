package loader_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

// events records watcher callbacks.
type events struct {
	mu       sync.Mutex
	reloads  [][2]*loader.Bundle
	errs     []error
	expiring []time.Duration
	reloaded chan struct{}
}

func newEvents() *events { return &events{reloaded: make(chan struct{}, 100)} }

func (e *events) opts(o loader.WatchOptions) loader.WatchOptions {
	o.OnReload = func(old, new *loader.Bundle) {
		e.mu.Lock()
		e.reloads = append(e.reloads, [2]*loader.Bundle{old, new})
		e.mu.Unlock()
		e.reloaded <- struct{}{}
	}
	o.OnError = func(err error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() }
	o.OnExpiring = func(_ *loader.Bundle, left time.Duration) {
		e.mu.Lock()
		e.expiring = append(e.expiring, left)
		e.mu.Unlock()
	}
	return o
}

func (e *events) counts() (reloads, errs, expiring int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.reloads), len(e.errs), len(e.expiring)
}

func TestWatcherReload(t *testing.T) {
	clock := loadertest.Clock(t0)
	c := loadertest.NewCA(t, clock)
	req := scb.Request{ClusterName: "c", ClientID: "app", CA: c, Now: clock}
	a, b := loadertest.Build(t, req), loadertest.Build(t, req)
	dir := t.TempDir()
	path := loadertest.Write(t, a, dir, "bundle.zip", scb.FormatZip)

	var logs bytes.Buffer
	ev := newEvents()
	w, err := loader.Watch(path, ev.opts(loader.WatchOptions{
		Options: loader.Options{Now: clock}, Interval: -1,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	}))
	require.NoError(t, err)
	defer w.Close()
	first := w.Current()
	require.NoError(t, w.Reload())
	r, e, _ := ev.counts()
	require.Zero(t, r+e, "nothing changed")

	// Atomic replacement with a renewed bundle.
	loadertest.Write(t, b, dir, "bundle.zip", scb.FormatZip)
	require.NoError(t, w.Reload())
	r, _, _ = ev.counts()
	require.Equal(t, 1, r)
	require.Same(t, first, ev.reloads[0][0])
	require.Same(t, w.Current(), ev.reloads[0][1])
	require.NotEqual(t, first.Certificate().Raw, w.Current().Certificate().Raw)
	cert, err := w.TLSConfig().GetClientCertificate(&tls.CertificateRequestInfo{})
	require.NoError(t, err)
	require.Equal(t, w.Current().Certificate().Raw, cert.Certificate[0])

	// A broken replacement is reported once and the old bundle stays.
	current := w.Current()
	require.NoError(t, os.WriteFile(path+".tmp", []byte("garbage"), 0o600))
	require.NoError(t, os.Rename(path+".tmp", path))
	err = w.Reload()
	require.ErrorIs(t, err, scb.ErrMalformedArchive)
	require.Same(t, current, w.Current())
	require.NoError(t, w.Reload(), "the same broken file is not retried")
	_, e, _ = ev.counts()
	require.Equal(t, 1, e)

	// A tampered one too.
	bad := loadertest.Clone(b)
	require.NoError(t, bad.Set(scb.ReadmePath, []byte("tampered")))
	loadertest.Write(t, bad, dir, "bundle.zip", scb.FormatZip)
	require.ErrorIs(t, w.Reload(), scb.ErrDigestMismatch)
	require.Same(t, current, w.Current())

	// The same content rewritten is not a reload.
	loadertest.Write(t, b, dir, "bundle.zip", scb.FormatZip)
	require.NoError(t, w.Reload())
	r, e, _ = ev.counts()
	require.Equal(t, 1, r)
	require.Equal(t, 2, e)

	// A missing file (replacement in progress) is reported by Reload only.
	require.NoError(t, os.Remove(path))
	require.ErrorIs(t, w.Reload(), os.ErrNotExist)
	require.Same(t, current, w.Current())

	s := logs.String()
	require.Contains(t, s, `"msg":"bundle reloaded"`)
	require.Contains(t, s, `"msg":"bundle reload failed; keeping the previous bundle"`)
	assertNoSecret(t, s, a)
	assertNoSecret(t, s, b)
}

func TestWatcherPollsAndCloses(t *testing.T) {
	base := runtime.NumGoroutine()
	req := scb.Request{ClusterName: "c", ClientID: "app"}
	dir := t.TempDir()
	path := loadertest.Write(t, loadertest.Build(t, req), dir, "bundle.tar.gz", scb.FormatTarGz)
	ev := newEvents()
	w, err := loader.Watch(path, ev.opts(loader.WatchOptions{Interval: 5 * time.Millisecond}))
	require.NoError(t, err)
	loadertest.Write(t, loadertest.Build(t, req), dir, "bundle.tar.gz", scb.FormatTarGz)
	select {
	case <-ev.reloaded:
	case <-time.After(10 * time.Second):
		t.Fatal("no reload after the file was replaced")
	}
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "idempotent")

	// Many watchers, all closed: no goroutine is left behind.
	var ws []*loader.Watcher
	for range 20 {
		w, err := loader.Watch(path, loader.WatchOptions{Interval: time.Millisecond})
		require.NoError(t, err)
		ws = append(ws, w)
	}
	w2, err := loader.Watch(path, loader.WatchOptions{Interval: -1})
	require.NoError(t, err)
	ws = append(ws, w2)
	time.Sleep(20 * time.Millisecond)
	for _, w := range ws {
		require.NoError(t, w.Close())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), base, "goroutines left behind")
}

func TestWatcherDirectoryBundle(t *testing.T) {
	req := scb.Request{ClusterName: "c", ClientID: "app"}
	dir := t.TempDir()
	path := loadertest.Write(t, loadertest.Build(t, req), dir, "bundle", scb.FormatDir)
	ev := newEvents()
	w, err := loader.Watch(path, ev.opts(loader.WatchOptions{Interval: -1}))
	require.NoError(t, err)
	defer w.Close()
	loadertest.Write(t, loadertest.Build(t, req), dir, "bundle", scb.FormatDir)
	require.NoError(t, w.Reload())
	r, _, _ := ev.counts()
	require.Equal(t, 1, r)
}

func TestWatcherExpiryWarning(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	req := scb.Request{ClusterName: "c", ClientID: "app", Now: loadertest.Clock(t0), Validity: 30 * 24 * time.Hour,
		CA: loadertest.NewCA(t, loadertest.Clock(t0))}
	dir := t.TempDir()
	path := loadertest.Write(t, loadertest.Build(t, req), dir, "b.zip", scb.FormatZip)
	var logs bytes.Buffer
	ev := newEvents()
	w, err := loader.Watch(path, ev.opts(loader.WatchOptions{
		Options: loader.Options{Now: clock}, Interval: -1, ExpiryWarning: 7 * 24 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}))
	require.NoError(t, err)
	defer w.Close()
	_, _, x := ev.counts()
	require.Zero(t, x)

	now = t0.Add(24 * 24 * time.Hour) // 6 days left
	require.NoError(t, w.Reload())
	require.NoError(t, w.Reload())
	_, _, x = ev.counts()
	require.Equal(t, 1, x, "warned once per certificate")
	require.Equal(t, 6*24*time.Hour, ev.expiring[0])
	require.Contains(t, logs.String(), "client certificate expires soon")

	// A renewed bundle resets the warning; an expiring renewal warns again.
	req.Now = clock
	req.CA = loadertest.NewCA(t, clock)
	req.Validity = 3 * 24 * time.Hour
	loadertest.Write(t, loadertest.Build(t, req), dir, "b.zip", scb.FormatZip)
	require.NoError(t, w.Reload())
	_, _, x = ev.counts()
	require.Equal(t, 2, x)

	// Expired certificates are not loaded by a reload.
	now = t0.Add(31 * 24 * time.Hour)
	req.Now = loadertest.Clock(t0)
	req.CA = loadertest.NewCA(t, loadertest.Clock(t0))
	req.Validity = 30 * 24 * time.Hour
	loadertest.Write(t, loadertest.Build(t, req), dir, "b.zip", scb.FormatZip)
	require.ErrorIs(t, w.Reload(), loader.ErrExpired)
}

func TestWatchFailsOnBadFirstLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.zip")
	require.NoError(t, os.WriteFile(p, []byte("nope"), 0o600))
	_, err := loader.Watch(p, loader.WatchOptions{})
	require.ErrorIs(t, err, scb.ErrMalformedArchive)
	_, err = loader.Watch(filepath.Join(t.TempDir(), "missing.zip"), loader.WatchOptions{})
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestWatcherRotatesTLS: after the file is replaced with a bundle from a
// new CA, new connections present the new certificate and trust the new
// CA, while a connection opened before keeps working.
func TestWatcherRotatesTLS(t *testing.T) {
	caA, caB := loadertest.NewCA(t, nil), loadertest.NewCA(t, nil)
	req := scb.Request{ClusterName: "c", ClientID: "app", CA: caA}
	dir := t.TempDir()
	path := loadertest.Write(t, loadertest.Build(t, req), dir, "b.zip", scb.FormatZip)
	w, err := loader.Watch(path, loader.WatchOptions{Interval: -1})
	require.NoError(t, err)
	defer w.Close()
	d := &loader.Dialer{Source: w}

	oldNode := startTLSServer(t, serverCert(t, caA, "127.0.0.1"), pool(caA.Root()), 0)
	newNode := startTLSServer(t, serverCert(t, caB, "127.0.0.1"), pool(caB.Root()), 0)
	existing := dialGreeted(t, d, oldNode.Addr())
	require.ErrorIs(t, greet(context.Background(), d, newNode.Addr()), loader.ErrServerCertificate)

	req.CA = caB
	loadertest.Write(t, loadertest.Build(t, req), dir, "b.zip", scb.FormatZip)
	require.NoError(t, w.Reload())

	dialGreeted(t, d, newNode.Addr())
	require.Equal(t, w.Current().Certificate().Raw, newNode.Seen()[0].Raw)
	require.ErrorIs(t, greet(context.Background(), d, oldNode.Addr()), loader.ErrServerCertificate)
	requireEcho(t, existing, "still here\n", "still here\n")

	// Fail closed: hostname verification on and no server name.
	raw, err := net.Dial("tcp", newNode.Addr())
	require.NoError(t, err)
	defer raw.Close()
	err = tls.Client(raw, w.TLSConfig()).Handshake()
	require.ErrorContains(t, err, "no server name")
}
