package scb_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

// countingCA records how often it is asked to issue.
type countingCA struct {
	scb.CA
	issued atomic.Int32
}

func (c *countingCA) Issue(ctx context.Context, req *scb.CertificateRequest) ([]*x509.Certificate, error) {
	c.issued.Add(1)
	return c.CA.Issue(ctx, req)
}

// countingReader records how many random bytes were drawn.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestBuildRejectsBadRequests(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r *scb.Request)
		want   string // substring of the message
		is     error  // sentinel, if any
	}{
		{"unknown key type", func(r *scb.Request) { r.KeyType = "dsa-1024" }, `unknown key type "dsa-1024"`, nil},
		{"ed25519 for TLS", func(r *scb.Request) { r.KeyType = scb.KeyEd25519 }, "cannot be used for TLS", nil},
		{"contact point bad port", func(r *scb.Request) { r.ContactPoints = []string{"10.0.0.1:99999"} }, "malformed endpoint", nil},
		{"contact point port not a number", func(r *scb.Request) { r.ContactPoints = []string{"10.0.0.1:cql"} }, "malformed endpoint", nil},
		{"contact point bad host", func(r *scb.Request) { r.ContactPoints = []string{"bad host!:9042"} }, "malformed endpoint", nil},
		{"contact point empty", func(r *scb.Request) { r.ContactPoints = []string{""} }, "malformed endpoint", nil},
		{"contact point unbalanced bracket", func(r *scb.Request) { r.ContactPoints = []string{"[::1:9042"} }, "malformed endpoint", nil},
		{"contact point url", func(r *scb.Request) { r.ContactPoints = []string{"https://db.example.com:9042"} }, "malformed endpoint", nil},
		{"cluster name empty", func(r *scb.Request) { r.ClusterName = "" }, "cluster name is required", nil},
		{"cluster name traversal", func(r *scb.Request) { r.ClusterName = "../x" }, "cluster name", nil},
		{"cluster name slash", func(r *scb.Request) { r.ClusterName = "a/b" }, "cluster name", nil},
		{"cluster name backslash", func(r *scb.Request) { r.ClusterName = `a\b` }, "cluster name", nil},
		{"cluster name dotdot inside", func(r *scb.Request) { r.ClusterName = "a..b" }, "cluster name", nil},
		{"cluster name leading dot", func(r *scb.Request) { r.ClusterName = ".hidden" }, "cluster name", nil},
		{"cluster name space", func(r *scb.Request) { r.ClusterName = "a b" }, "cluster name", nil},
		{"cluster name newline", func(r *scb.Request) { r.ClusterName = "a\nb" }, "cluster name", nil},
		{"cluster name too long", func(r *scb.Request) { r.ClusterName = strings.Repeat("a", 65) }, "longer than 64", nil},
		{"client id empty", func(r *scb.Request) { r.ClientID = "" }, "client ID is required", nil},
		{"client id traversal", func(r *scb.Request) { r.ClientID = "../x" }, "client ID", nil},
		{"client id slash", func(r *scb.Request) { r.ClientID = "a/b" }, "client ID", nil},
		{"client id non-ascii", func(r *scb.Request) { r.ClientID = "caf\u00e9" }, "client ID", nil},
		{"environment", func(r *scb.Request) { r.Environment = "prod" }, `environment "prod" is not valid`, nil},
		{"validity negative", func(r *scb.Request) { r.Validity = -time.Hour }, "validity must be positive", nil},
		{"validity too short", func(r *scb.Request) { r.Validity = time.Second }, "too short", nil},
		{"validity beyond CA", func(r *scb.Request) { r.Validity = 20 * 365 * 24 * time.Hour }, "CA", scb.ErrValidityExceedsCA},
		{"encrypted key with stock files", func(r *scb.Request) { r.KeyPassphrase = []byte("pw") }, "encrypted client key cannot be used by the stock-driver files", nil},
		{"driver unknown", func(r *scb.Request) { r.Drivers = []string{"rust"} }, `driver "rust" is not valid`, nil},
		{"driver twice", func(r *scb.Request) { r.Drivers = []string{"java", "java"} }, "listed twice", nil},
		{"credentials without password", func(r *scb.Request) { r.Credentials = &scb.Credentials{Username: "u"} }, "username and a password", nil},
		{"datacenter quote", func(r *scb.Request) { r.LocalDatacenter = `dc"1` }, "datacenter", nil},
		{"gateway host", func(r *scb.Request) { r.Gateway.Host = "not a host" }, "gateway host", nil},
		{"gateway port", func(r *scb.Request) { r.Gateway.MetadataPort = 70000 }, "gateway port", nil},
		{"consistency", func(r *scb.Request) { r.Connection.Consistency = "MOST" }, "consistency", nil},
		{"no CA", func(r *scb.Request) { r.CA = nil }, "no CA configured", nil},
	}
	base, err := ca.New(ca.Config{})
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &countingCA{CA: base}
			rnd := &countingReader{r: zeroReader{}}
			req := scb.Request{ClusterName: "c1", ClientID: "app", CA: c, Rand: rnd}
			tc.mutate(&req)
			if req.CA == nil {
				c = &countingCA{}
			}
			b, err := scb.Build(context.Background(), req)
			require.Error(t, err)
			require.Nil(t, b)
			require.Contains(t, err.Error(), tc.want)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
				return // the CA was rightly asked and refused
			}
			require.Zero(t, c.issued.Load(), "the CA was asked to issue for an invalid request")
			require.Zero(t, rnd.n.Load(), "randomness was drawn (a key generated?) for an invalid request")
			// Messages are one line, lower-case first, no trailing period.
			msg := err.Error()
			require.NotContains(t, msg, "\n")
			require.False(t, strings.HasSuffix(msg, "."), msg)
			require.Equal(t, strings.ToLower(msg[:1]), msg[:1], msg)
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestBuildValidityBeyondCAMessage(t *testing.T) {
	c, err := ca.New(ca.Config{Validity: 30 * 24 * time.Hour})
	require.NoError(t, err)
	_, err = scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", CA: c, Validity: 31 * 24 * time.Hour})
	require.ErrorIs(t, err, scb.ErrValidityExceedsCA)
	// The message says both dates so the user can pick a shorter validity.
	require.Regexp(t, `\d{4}-\d\d-\d\dT.*\d{4}-\d\d-\d\dT`, err.Error())
	// Just inside the CA's (intermediate's) lifetime is fine.
	_, err = scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", CA: c, Validity: 28 * 24 * time.Hour})
	require.NoError(t, err)
}

// TestWriteFileFailuresLeaveNothing makes WriteFile fail in every format
// and checks that the output directory is exactly as before.
func TestWriteFileFailuresLeaveNothing(t *testing.T) {
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "w", CA: testCA(t)})
	require.NoError(t, err)

	for _, f := range scb.Formats {
		t.Run(string(f), func(t *testing.T) {
			root := t.TempDir()
			notADir := filepath.Join(root, "file")
			require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
			existingDir := filepath.Join(root, "existing")
			require.NoError(t, os.Mkdir(existingDir, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(existingDir, "keep"), []byte("keep"), 0o600))

			targets := map[string]string{
				"missing parent":         filepath.Join(root, "missing", "out"),
				"parent is a file":       filepath.Join(notADir, "out"),
				"target is a directory":  existingDir,
				"target is a file (dir)": notADir,
			}
			for what, target := range targets {
				if f == scb.FormatDir && what == "target is a file (dir)" {
					continue // the dir format replaces a file when asked to overwrite
				}
				before := snapshot(t, root)
				err := b.WriteFile(target, scb.WriteOptions{Format: f}, true)
				if what == "target is a file (dir)" {
					// zip/tar.gz over an existing file with overwrite: allowed.
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
					continue
				}
				if f == scb.FormatDir && what == "target is a directory" {
					// Replacing a directory bundle is allowed; restore.
					require.NoError(t, err)
					require.NoError(t, os.RemoveAll(existingDir))
					require.NoError(t, os.Mkdir(existingDir, 0o700))
					require.NoError(t, os.WriteFile(filepath.Join(existingDir, "keep"), []byte("keep"), 0o600))
					continue
				}
				require.Error(t, err, what)
				require.Equal(t, before, snapshot(t, root), "%s: WriteFile left something behind", what)
			}

			if os.Geteuid() != 0 {
				ro := filepath.Join(root, "readonly")
				require.NoError(t, os.Mkdir(ro, 0o500))
				t.Cleanup(func() { os.Chmod(ro, 0o700) })
				before := snapshot(t, root)
				require.Error(t, b.WriteFile(filepath.Join(ro, "out"), scb.WriteOptions{Format: f}, false))
				require.Equal(t, before, snapshot(t, root))
			}
		})
	}

	// A directory write that fails after some files are out (a bundle
	// holding both "a" and "a/b" cannot be laid out on disk) leaves no
	// temporary directory behind.
	t.Run("dir-midway", func(t *testing.T) {
		bad := &scb.Bundle{}
		require.NoError(t, bad.Set("0-first", []byte("written first")))
		require.NoError(t, bad.Set("a", []byte("file")))
		require.NoError(t, bad.Set("a/b", []byte("needs a to be a directory")))
		root := t.TempDir()
		before := snapshot(t, root)
		err := bad.WriteFile(filepath.Join(root, "out"), scb.WriteOptions{Format: scb.FormatDir}, false)
		require.Error(t, err)
		require.Equal(t, before, snapshot(t, root))
	})

	// A failing writer makes Encode return the error, for every format
	// and at every point.
	t.Run("encode-short-write", func(t *testing.T) {
		for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
			var full countWriter
			require.NoError(t, b.Encode(&full, scb.WriteOptions{Format: f}))
			for n := int64(0); n < full.n; n += 997 {
				err := b.Encode(&failingWriter{left: n}, scb.WriteOptions{Format: f})
				require.ErrorIs(t, err, errDiskFull, "%s failing after %d bytes", f, n)
			}
		}
	})
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{ left int64 }

func (w *failingWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.left {
		n := int(w.left)
		w.left = 0
		return n, errDiskFull
	}
	w.left -= int64(len(p))
	return len(p), nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func TestSplitHostPort(t *testing.T) {
	good := map[string]struct {
		host string
		port int
	}{
		"10.0.0.1:9042":        {"10.0.0.1", 9042},
		"10.0.0.1":             {"10.0.0.1", 9042},
		"db.example.com:9142":  {"db.example.com", 9142},
		"db.example.com":       {"db.example.com", 9042},
		"[::1]:9142":           {"::1", 9142},
		"[::1]":                {"::1", 9042},
		"::1":                  {"::1", 9042},
		"[fe80::1]:65535":      {"fe80::1", 65535},
		" 10.0.0.1:9042 ":      {"10.0.0.1", 9042},
		"cass_1.internal:9042": {"cass_1.internal", 9042},
	}
	for in, want := range good {
		h, p, err := scb.SplitHostPort(in, 9042)
		require.NoError(t, err, in)
		require.Equal(t, want.host, h, in)
		require.Equal(t, want.port, p, in)
	}
	for _, in := range []string{"", ":9042", "host:", "host:0", "host:65536", "host:-1", "[::1:9042", "::1]", "[::1", "[[::1]]", "a b:9042", "-bad-.example.com:9042", "host.:9042", "http://host:9042"} {
		_, _, err := scb.SplitHostPort(in, 9042)
		require.Error(t, err, "%q accepted", in)
		require.Contains(t, err.Error(), "malformed endpoint")
	}
}

func TestParseMetadataVersion(t *testing.T) {
	for v, ok := range map[string]bool{"1.0": true, "1.7": true, "1": true, "10.0": false, "2.0": false, "0.9": false} {
		_, err := scb.ParseMetadata([]byte(`{"bundle_version":"` + v + `","cluster_name":"c","client_id":"x","expires_at":"2030-01-01T00:00:00Z"}`))
		if ok && err != nil || !ok && err == nil {
			t.Errorf("bundle_version %q: err = %v", v, err)
		}
	}
}
