package ca_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

var passphrase = []byte("ca passphrase for tests")

var caFiles = []string{"root-cert.pem", "root-key.pem", "intermediate-cert.pem", "intermediate-key.pem", "ca.json"}

func initCA(t testing.TB, opts ca.InitOptions) (string, *ca.Local) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "nested", "ca")
	l, err := ca.Init(dir, opts)
	require.NoError(t, err)
	return dir, l
}

func TestInitWritesPrivateEncryptedFiles(t *testing.T) {
	dir, l := initCA(t, ca.InitOptions{Passphrase: passphrase})
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := e.Info()
		require.NoError(t, err)
		require.True(t, fi.Mode().IsRegular(), e.Name())
		require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), e.Name())
	}
	require.ElementsMatch(t, caFiles, names, "unexpected files (temporary files left behind?)")
	for _, k := range []string{"root-key.pem", "intermediate-key.pem"} {
		data, err := os.ReadFile(filepath.Join(dir, k))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(data), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), k)
		require.NotContains(t, string(data), "-----BEGIN PRIVATE KEY-----")
	}
	var st map[string]any
	require.NoError(t, json.Unmarshal(mustRead(t, filepath.Join(dir, "ca.json")), &st))
	require.Equal(t, true, st["encrypted"])
	require.True(t, ca.Exists(dir))
	enc, err := ca.IsEncrypted(dir)
	require.NoError(t, err)
	require.True(t, enc)

	// The certificates on disk are the CA's.
	root, inter, err := ca.Certificates(dir)
	require.NoError(t, err)
	require.True(t, root.Equal(l.Root()))
	require.True(t, inter.Equal(l.Intermediate()))
	require.True(t, root.IsCA)
	require.True(t, inter.IsCA)
	require.NoError(t, inter.CheckSignatureFrom(root))
}

func TestOpen(t *testing.T) {
	dir, created := initCA(t, ca.InitOptions{Passphrase: passphrase})
	l, err := ca.Open(dir, ca.OpenOptions{Passphrase: passphrase})
	require.NoError(t, err)
	require.True(t, l.Root().Equal(created.Root()))
	require.True(t, l.Intermediate().Equal(created.Intermediate()))
	chain := issueClient(t, l, time.Hour)
	verifyChain(t, chain, l.Root(), x509.ExtKeyUsageClientAuth)

	for name, pw := range map[string][]byte{"wrong": []byte("not the passphrase"), "missing": nil} {
		t.Run(name, func(t *testing.T) {
			_, err := ca.Open(dir, ca.OpenOptions{Passphrase: pw})
			require.ErrorIs(t, err, scb.ErrPassphrase)
			require.NotContains(t, err.Error(), string(passphrase))
			if pw != nil {
				require.NotContains(t, err.Error(), string(pw))
			}
		})
	}

	_, err = ca.Open(t.TempDir(), ca.OpenOptions{Passphrase: passphrase})
	require.ErrorIs(t, err, ca.ErrNotFound)
	_, err = ca.Open(filepath.Join(t.TempDir(), "missing"), ca.OpenOptions{Passphrase: passphrase})
	require.ErrorIs(t, err, ca.ErrNotFound)
}

func TestInitRefusesUnencryptedWithoutOverride(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	_, err := ca.Init(dir, ca.InitOptions{})
	require.ErrorIs(t, err, ca.ErrUnencrypted)
	_, statErr := os.Stat(dir)
	require.ErrorIs(t, statErr, fs.ErrNotExist, "Init wrote something before refusing")

	l, err := ca.Init(dir, ca.InitOptions{InsecureUnencryptedKeys: true})
	require.NoError(t, err)
	for _, k := range []string{"root-key.pem", "intermediate-key.pem"} {
		data := mustRead(t, filepath.Join(dir, k))
		require.True(t, strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n"), k)
	}
	enc, err := ca.IsEncrypted(dir)
	require.NoError(t, err)
	require.False(t, enc)
	opened, err := ca.Open(dir, ca.OpenOptions{})
	require.NoError(t, err)
	require.True(t, opened.Root().Equal(l.Root()))
}

func TestInitTwice(t *testing.T) {
	dir, _ := initCA(t, ca.InitOptions{Passphrase: passphrase})
	before := map[string][]byte{}
	for _, f := range caFiles {
		before[f] = mustRead(t, filepath.Join(dir, f))
	}
	for _, opts := range []ca.InitOptions{{Passphrase: passphrase}, {Passphrase: []byte("other")}, {InsecureUnencryptedKeys: true}} {
		_, err := ca.Init(dir, opts)
		require.ErrorIs(t, err, ca.ErrExists)
	}
	for _, f := range caFiles {
		require.Equal(t, before[f], mustRead(t, filepath.Join(dir, f)), "%s changed", f)
	}
}

func TestOpenCorrupt(t *testing.T) {
	other, err := ca.New(ca.Config{Name: "Other"})
	require.NoError(t, err)
	otherDir, _ := initCA(t, ca.InitOptions{Passphrase: passphrase, Config: ca.Config{Name: "Other"}})

	cases := []struct {
		name    string
		corrupt func(dir string)
		want    string
		is      error
	}{
		{"state not json", func(d string) { write(t, d, "ca.json", "{not json") }, "corrupt CA state file", nil},
		{"state wrong version", func(d string) { write(t, d, "ca.json", `{"version": 7}`) }, "corrupt CA state file", nil},
		{"state missing", func(d string) { must(t, os.Remove(filepath.Join(d, "ca.json"))) }, "no CA found", ca.ErrNotFound},
		{"root cert garbage", func(d string) { write(t, d, "root-cert.pem", "garbage") }, "corrupt CA file root-cert.pem", nil},
		{"root cert bad DER", func(d string) {
			write(t, d, "root-cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})))
		}, "corrupt CA file root-cert.pem", nil},
		{"intermediate cert missing", func(d string) { must(t, os.Remove(filepath.Join(d, "intermediate-cert.pem"))) }, "read CA", nil},
		{"intermediate key garbage", func(d string) { write(t, d, "intermediate-key.pem", "garbage") }, "corrupt CA file intermediate-key.pem", nil},
		{"intermediate key truncated", func(d string) {
			data := mustRead(t, filepath.Join(d, "intermediate-key.pem"))
			write(t, d, "intermediate-key.pem", string(data[:len(data)/2]))
		}, "corrupt CA file intermediate-key.pem", nil},
		{"root key empty", func(d string) { write(t, d, "root-key.pem", "") }, "corrupt CA file root-key.pem", nil},
		{"intermediate from another CA", func(d string) {
			write(t, d, "intermediate-cert.pem", string(scb.EncodeCertificatesPEM(other.Intermediate())))
		}, "intermediate is not signed by root", nil},
		{"key from another CA", func(d string) {
			write(t, d, "intermediate-key.pem", string(mustRead(t, filepath.Join(otherDir, "intermediate-key.pem"))))
		}, "a key does not match its certificate", nil},
		{"key with hostile KDF", func(d string) {
			write(t, d, "intermediate-key.pem", string(hostileKDFKey(t, mustRead(t, filepath.Join(d, "intermediate-key.pem")))))
		}, "corrupt CA file intermediate-key.pem", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := initCA(t, ca.InitOptions{Passphrase: passphrase})
			tc.corrupt(dir)
			start := time.Now()
			l, err := ca.Open(dir, ca.OpenOptions{Passphrase: passphrase})
			require.Nil(t, l)
			require.Error(t, err)
			require.Less(t, time.Since(start), 5*time.Second)
			require.Contains(t, err.Error(), tc.want)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			require.False(t, errors.Is(err, scb.ErrPassphrase), "corruption reported as a wrong passphrase: %v", err)
			require.NotContains(t, err.Error(), string(passphrase))
		})
	}
}

// hostileKDFKey rewrites an encrypted PKCS#8 key to ask for 2^31-1 PBKDF2
// iterations (about half an hour of CPU if obeyed).
func hostileKDFKey(t testing.TB, pemData []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(pemData)
	require.NotNil(t, blk)
	// 100000 = 0x0186a0 is encoded as INTEGER 02 03 01 86 a0.
	old := []byte{0x02, 0x03, 0x01, 0x86, 0xa0}
	require.Equal(t, 1, bytes.Count(blk.Bytes, old), "iteration count not found")
	// Same length keeps every enclosing DER length valid: 0x7fffff.
	hostile := bytes.Replace(blk.Bytes, old, []byte{0x02, 0x03, 0x7f, 0xff, 0xff}, 1)
	return pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: hostile})
}

func TestIssue(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := ca.New(ca.Config{Validity: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	require.NoError(t, err)
	key, err := scb.KeyECDSAP256.GenerateKey(nil)
	require.NoError(t, err)
	req := func(na time.Time) *scb.CertificateRequest {
		return &scb.CertificateRequest{PublicKey: key.Public(), Subject: subject("c"), NotBefore: now, NotAfter: na}
	}
	ctx := context.Background()

	_, err = l.Issue(ctx, req(now.Add(60*24*time.Hour)))
	require.ErrorIs(t, err, scb.ErrValidityExceedsCA)
	require.Contains(t, err.Error(), l.Intermediate().NotAfter.UTC().Format(time.RFC3339))
	_, err = l.Issue(ctx, req(l.Intermediate().NotAfter.Add(time.Second)))
	require.ErrorIs(t, err, scb.ErrValidityExceedsCA)
	chain, err := l.Issue(ctx, req(l.Intermediate().NotAfter))
	require.NoError(t, err)
	require.Len(t, chain, 2)

	_, err = l.Issue(ctx, req(now))
	require.ErrorContains(t, err, "validity must be positive")
	_, err = l.Issue(ctx, req(now.Add(-time.Hour)))
	require.ErrorContains(t, err, "validity must be positive")
	_, err = l.Issue(ctx, &scb.CertificateRequest{Subject: subject("c"), NotAfter: now.Add(time.Hour)})
	require.ErrorContains(t, err, "no public key")
	_, err = l.Issue(ctx, nil)
	require.Error(t, err)
	_, err = l.Issue(ctx, &scb.CertificateRequest{PublicKey: key.Public(), NotAfter: now.Add(time.Hour)})
	require.ErrorContains(t, err, "no common name")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.Issue(cancelled, req(now.Add(time.Hour)))
	require.ErrorIs(t, err, context.Canceled)

	// The leaf is a client certificate only, not a CA.
	leaf := chain[0]
	require.False(t, leaf.IsCA)
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage)
	require.Equal(t, x509.KeyUsageDigitalSignature, leaf.KeyUsage)
	require.Equal(t, l.Intermediate().SubjectKeyId, leaf.AuthorityKeyId)
}

func TestIssueConcurrentUniqueSerials(t *testing.T) {
	l, err := ca.New(ca.Config{})
	require.NoError(t, err)
	key, err := scb.KeyECDSAP256.GenerateKey(nil)
	require.NoError(t, err)
	var mu sync.Mutex
	serials := map[string]bool{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 16 {
				chain, err := l.Issue(context.Background(), &scb.CertificateRequest{PublicKey: key.Public(), Subject: subject(fmt.Sprintf("c%d-%d", i, j)), NotAfter: time.Now().Add(time.Hour)})
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				serials[chain[0].SerialNumber.String()] = true
				mu.Unlock()
				if chain[0].SerialNumber.Sign() <= 0 || chain[0].SerialNumber.Cmp(new(big.Int).Lsh(big.NewInt(1), 159)) >= 0 {
					t.Errorf("serial %s out of the RFC 5280 range", chain[0].SerialNumber)
				}
			}
		}()
	}
	wg.Wait()
	require.Len(t, serials, 8*16)
}

func TestKeyTypes(t *testing.T) {
	for _, kt := range []scb.KeyType{scb.KeyECDSAP256, scb.KeyECDSAP384, scb.KeyRSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			l, err := ca.New(ca.Config{KeyType: kt})
			require.NoError(t, err)
			require.Equal(t, kt, l.KeyType())
			require.Equal(t, kt, scb.KeyTypeOf(l.Root().PublicKey))
			require.Equal(t, kt, scb.KeyTypeOf(l.Intermediate().PublicKey))
			chain := issueClient(t, l, time.Hour)
			verifyChain(t, chain, l.Root(), x509.ExtKeyUsageClientAuth)

			// And the same through Init/Open with encrypted keys.
			dir := filepath.Join(t.TempDir(), "ca")
			_, err = ca.Init(dir, ca.InitOptions{Passphrase: passphrase, Config: ca.Config{KeyType: kt}})
			require.NoError(t, err)
			opened, err := ca.Open(dir, ca.OpenOptions{Passphrase: passphrase})
			require.NoError(t, err)
			require.Equal(t, kt, opened.KeyType())
			verifyChain(t, issueClient(t, opened, time.Hour), opened.Root(), x509.ExtKeyUsageClientAuth)
		})
	}
	for _, bad := range []scb.KeyType{scb.KeyEd25519, "dsa", "rsa-1024"} {
		_, err := ca.New(ca.Config{KeyType: bad})
		require.Error(t, err, bad)
	}
	_, err := ca.New(ca.Config{Validity: time.Hour})
	require.ErrorContains(t, err, "too short")
}

func TestIssueServer(t *testing.T) {
	l, err := ca.New(ca.Config{})
	require.NoError(t, err)
	hosts := []string{"Node1.Cluster.Example", "10.0.0.7", "::1", "*.nodes.example"}
	sc, err := ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: hosts, Validity: 48 * time.Hour})
	require.NoError(t, err)
	leaf := sc.Chain[0]
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	require.Equal(t, []string{"node1.cluster.example", "*.nodes.example"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 2)
	require.True(t, leaf.IPAddresses[0].Equal(net.ParseIP("10.0.0.7")))
	require.True(t, leaf.IPAddresses[1].Equal(net.ParseIP("::1")))
	require.Equal(t, "Node1.Cluster.Example", leaf.Subject.CommonName)
	require.NoError(t, leaf.VerifyHostname("node1.cluster.example"))
	require.NoError(t, leaf.VerifyHostname("10.0.0.7"))
	require.NoError(t, leaf.VerifyHostname("a.nodes.example"))
	verifyChain(t, sc.Chain, l.Root(), x509.ExtKeyUsageServerAuth)
	require.True(t, sc.Key.Public().(*ecdsa.PublicKey).Equal(leaf.PublicKey))

	// Printing never shows the key.
	raw, err := sc.Key.(*ecdsa.PrivateKey).Bytes()
	require.NoError(t, err)
	d := new(big.Int).SetBytes(raw).String()
	//lint:ignore S1025 the %s verb itself is under test
	for _, s := range []string{fmt.Sprint(sc), fmt.Sprintf("%+v", sc), fmt.Sprintf("%#v", sc), fmt.Sprintf("%s", sc), fmt.Sprint(l), fmt.Sprintf("%#v", l)} {
		require.NotContains(t, s, d)
		require.NotContains(t, s, "PRIVATE KEY")
	}

	for _, bad := range [][]string{nil, {}, {""}, {"bad host"}, {"a/b"}, {"user@host"}, {"host:9042"}, {".example"}, {"a..b"}} {
		_, err := ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: bad})
		require.Error(t, err, "%q", bad)
	}
	_, err = ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: []string{"h"}, Validity: -time.Hour})
	require.Error(t, err)
	_, err = ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: []string{"h"}, Validity: 20 * 365 * 24 * time.Hour})
	require.ErrorIs(t, err, scb.ErrValidityExceedsCA)
	_, err = ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: []string{"h"}, KeyType: scb.KeyEd25519})
	require.Error(t, err)
}

func TestServerWriteFilesWithOpenSSL(t *testing.T) {
	openssl := needTool(t, "openssl")
	l, err := ca.New(ca.Config{})
	require.NoError(t, err)
	for _, kt := range []scb.KeyType{scb.KeyECDSAP256, scb.KeyRSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			sc, err := ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: []string{"node1.example", "127.0.0.1"}, KeyType: kt})
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "server")
			require.NoError(t, sc.WriteFiles(dir, nil, false))
			fi, err := os.Stat(dir)
			require.NoError(t, err)
			require.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
			for _, f := range []string{ca.ServerCertFile, ca.ServerKeyFile, ca.ServerCAFile} {
				fi, err := os.Stat(filepath.Join(dir, f))
				require.NoError(t, err)
				require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), f)
			}
			key := mustRead(t, filepath.Join(dir, ca.ServerKeyFile))
			require.True(t, strings.HasPrefix(string(key), "-----BEGIN PRIVATE KEY-----\n"), "server key is not PKCS#8")
			run(t, dir, openssl, "pkey", "-in", ca.ServerKeyFile, "-noout", "-check")
			require.Equal(t,
				run(t, dir, openssl, "x509", "-in", ca.ServerCertFile, "-noout", "-pubkey"),
				run(t, dir, openssl, "pkey", "-in", ca.ServerKeyFile, "-pubout"))

			// Split the chain: leaf then intermediate.
			blocks := pemBlocks(t, mustRead(t, filepath.Join(dir, ca.ServerCertFile)))
			require.Len(t, blocks, 2)
			write(t, dir, "leaf.pem", string(blocks[0]))
			write(t, dir, "inter.pem", string(blocks[1]))
			out := run(t, dir, openssl, "verify", "-x509_strict", "-CAfile", ca.ServerCAFile, "-untrusted", "inter.pem", "-purpose", "sslserver", "-verify_hostname", "node1.example", "leaf.pem")
			require.Contains(t, out, "leaf.pem: OK")
			out = run(t, dir, openssl, "verify", "-CAfile", ca.ServerCAFile, "-untrusted", "inter.pem", "-purpose", "sslserver", "-verify_ip", "127.0.0.1", "leaf.pem")
			require.Contains(t, out, "leaf.pem: OK")
			for _, args := range [][]string{
				{"-purpose", "sslclient"},
				{"-verify_hostname", "other.example"},
			} {
				a := append([]string{"verify", "-CAfile", ca.ServerCAFile, "-untrusted", "inter.pem"}, args...)
				out, err := exec.Command(openssl, append(a, filepath.Join(dir, "leaf.pem"))...).CombinedOutput()
				require.Error(t, err, "openssl accepted %v:\n%s", args, out)
			}

			// Not overwritten without asking; replaced when asked.
			before := mustRead(t, filepath.Join(dir, ca.ServerKeyFile))
			sc2, err := ca.IssueServer(context.Background(), l, ca.ServerRequest{Hosts: []string{"node1.example"}, KeyType: kt})
			require.NoError(t, err)
			require.ErrorIs(t, sc2.WriteFiles(dir, nil, false), scb.ErrExists)
			require.Equal(t, before, mustRead(t, filepath.Join(dir, ca.ServerKeyFile)))
			require.NoError(t, sc2.WriteFiles(dir, nil, true))
			require.NotEqual(t, before, mustRead(t, filepath.Join(dir, ca.ServerKeyFile)))

			// Encrypted key: OpenSSL opens it with the passphrase only.
			encDir := filepath.Join(t.TempDir(), "enc")
			require.NoError(t, sc.WriteFiles(encDir, []byte("node pass"), false))
			enc := mustRead(t, filepath.Join(encDir, ca.ServerKeyFile))
			require.True(t, strings.HasPrefix(string(enc), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"))
			run(t, encDir, openssl, "pkey", "-in", ca.ServerKeyFile, "-passin", "pass:node pass", "-noout")
			out2, err := exec.Command(openssl, "pkey", "-in", filepath.Join(encDir, ca.ServerKeyFile), "-passin", "pass:wrong", "-noout").CombinedOutput()
			require.Error(t, err, "%s", out2)
		})
	}
}

// TestCAChainWithOpenSSL verifies a client chain issued by a CA opened
// from disk, with OpenSSL.
func TestCAChainWithOpenSSL(t *testing.T) {
	openssl := needTool(t, "openssl")
	dir, _ := initCA(t, ca.InitOptions{Passphrase: passphrase})
	l, err := ca.Open(dir, ca.OpenOptions{Passphrase: passphrase})
	require.NoError(t, err)
	chain := issueClient(t, l, 24*time.Hour)
	work := t.TempDir()
	write(t, work, "leaf.pem", string(scb.EncodeCertificatesPEM(chain[0])))
	write(t, work, "inter.pem", string(scb.EncodeCertificatesPEM(chain[1:]...)))
	out := run(t, work, openssl, "verify", "-x509_strict", "-CAfile", filepath.Join(dir, "root-cert.pem"), "-untrusted", "inter.pem", "-purpose", "sslclient", "leaf.pem")
	require.Contains(t, out, "leaf.pem: OK")
	// The encrypted CA keys open with OpenSSL and the passphrase.
	for _, k := range []string{"root-key.pem", "intermediate-key.pem"} {
		run(t, dir, openssl, "pkey", "-in", k, "-passin", "pass:"+string(passphrase), "-noout")
	}
	// The intermediate cannot sign further CAs (path length 0).
	text := run(t, dir, openssl, "x509", "-in", "intermediate-cert.pem", "-noout", "-text")
	require.Contains(t, text, "CA:TRUE, pathlen:0")
}

func issueClient(t testing.TB, l *ca.Local, validity time.Duration) []*x509.Certificate {
	t.Helper()
	key, err := scb.KeyECDSAP256.GenerateKey(nil)
	require.NoError(t, err)
	chain, err := l.Issue(context.Background(), &scb.CertificateRequest{PublicKey: key.Public(), Subject: subject("client"), NotAfter: time.Now().Add(validity)})
	require.NoError(t, err)
	return chain
}

func verifyChain(t testing.TB, chain []*x509.Certificate, root *x509.Certificate, usage x509.ExtKeyUsage) {
	t.Helper()
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	for _, c := range chain[1:] {
		inters.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{usage}})
	require.NoError(t, err)
	other := x509.ExtKeyUsageServerAuth
	if usage == other {
		other = x509.ExtKeyUsageClientAuth
	}
	_, err = chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{other}})
	require.Error(t, err, "certificate valid for the other usage too")
}

func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found on PATH; install it with: apt-get install -y " + name
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func run(t testing.TB, dir, tool string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", tool, strings.Join(args, " "), out)
	return string(out)
}

func pemBlocks(t testing.TB, data []byte) [][]byte {
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, pem.EncodeToMemory(b))
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	d, err := os.ReadFile(name)
	require.NoError(t, err)
	return d
}

func write(t testing.TB, dir, name, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600))
}

func must(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}

func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func subject(cn string) pkix.Name { return pkix.Name{CommonName: cn} }
