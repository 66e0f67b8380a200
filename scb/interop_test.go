package scb_test

// Interoperability tests: bundles written by scb are opened with the tools
// users and drivers actually use (OpenSSL, keytool, the JDK, unzip, tar,
// sha256sum, file). Each tool is exec'd for real; a missing tool skips the
// test locally and fails it in CI.

import (
	"bufio"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

// interopBundle is one bundle written as a zip and extracted with Go.
type interopBundle struct {
	name   string
	b      *scb.Bundle
	zip    string            // path of the zip
	dir    string            // extraction directory
	cloud  *scb.CloudConfig  // parsed config.json; nil without stock files
	digest map[string]string // manifest: path → sha256
}

var interopCases = []struct {
	name   string
	caKey  scb.KeyType
	req    scb.Request
	legacy bool
}{
	{name: "ecdsa-p256", caKey: scb.KeyECDSAP256, req: scb.Request{KeyType: scb.KeyECDSAP256}},
	{name: "ecdsa-p384-legacy-pfx", caKey: scb.KeyECDSAP384, req: scb.Request{KeyType: scb.KeyECDSAP384, LegacyPKCS12: true}, legacy: true},
	{name: "rsa-2048", caKey: scb.KeyRSA2048, req: scb.Request{KeyType: scb.KeyRSA2048}},
}

// buildInterop builds a bundle and writes it as zip into outDir, which
// must outlive the subtests that use the zip.
func buildInterop(t *testing.T, outDir, name string, caKey scb.KeyType, req scb.Request) *interopBundle {
	t.Helper()
	c, err := ca.New(ca.Config{KeyType: caKey})
	require.NoError(t, err)
	req.CA = c
	req.ClusterName, req.ClientID = "interop", "app-"+name
	req.ContactPoints = []string{"127.0.0.1:9042", "cass-2.example.com:9142"}
	b, err := scb.Build(context.Background(), req)
	require.NoError(t, err)
	zipPath := filepath.Join(outDir, name+".zip")
	require.NoError(t, b.WriteFile(zipPath, scb.WriteOptions{}, false))
	ib := &interopBundle{name: name, b: b, zip: zipPath, dir: extractZip(t, zipPath), digest: map[string]string{}}
	if d, ok := b.Get(scb.CloudConfigPath); ok {
		ib.cloud, err = scb.ParseCloudConfig(d)
		require.NoError(t, err)
	}
	m, err := scb.CheckManifest(b)
	require.NoError(t, err)
	for _, e := range m.Files {
		ib.digest[e.Path] = e.SHA256
	}
	return ib
}

func TestInteropStockFiles(t *testing.T) {
	openssl := needTool(t, "openssl", "openssl")
	keytool := needTool(t, "keytool", "openjdk-17-jdk-headless")
	fileTool := needTool(t, "file", "file")
	unzip := needTool(t, "unzip", "unzip")
	zipinfo := needTool(t, "zipinfo", "unzip")
	sha256sum := needTool(t, "sha256sum", "coreutils")

	var zips []string
	outDir := t.TempDir()
	for _, tc := range interopCases {
		t.Run(tc.name, func(t *testing.T) {
			ib := buildInterop(t, outDir, tc.name, tc.caKey, tc.req)
			zips = append(zips, ib.zip)
			work := t.TempDir()

			t.Run("unzip", func(t *testing.T) {
				checkUnzipListing(t, unzip, zipinfo, ib)
			})
			t.Run("sha256sum", func(t *testing.T) {
				checkSHA256Sum(t, sha256sum, ib)
			})
			t.Run("openssl-verify", func(t *testing.T) {
				leaf, inter := splitChain(t, work, filepath.Join(ib.dir, scb.CloudCertPath))
				out := mustRun(t, ib.dir, openssl, "verify", "-x509_strict", "-CAfile", scb.CloudCAPath, "-untrusted", inter, "-purpose", "sslclient", leaf)
				require.Contains(t, out, leaf+": OK")
				// The same chain from certificates/, against certificates/ca-cert.pem.
				leaf2, inter2 := splitChain(t, t.TempDir(), filepath.Join(ib.dir, scb.ClientCertPath))
				out = mustRun(t, ib.dir, openssl, "verify", "-x509_strict", "-CAfile", scb.CACertPath, "-untrusted", inter2, "-purpose", "sslclient", leaf2)
				require.Contains(t, out, leaf2+": OK")
				// A client certificate is not a server certificate.
				out, err := runTool(t, ib.dir, openssl, "verify", "-CAfile", scb.CloudCAPath, "-untrusted", inter, "-purpose", "sslserver", leaf)
				require.Error(t, err, "client certificate accepted for sslserver:\n%s", out)
				// ca.crt is exactly one self-signed certificate.
				ca := readFile(t, filepath.Join(ib.dir, scb.CloudCAPath))
				require.Equal(t, 1, strings.Count(string(ca), "-----BEGIN CERTIFICATE-----"))
				out = mustRun(t, ib.dir, openssl, "verify", "-CAfile", scb.CloudCAPath, scb.CloudCAPath)
				require.Contains(t, out, "ca.crt: OK")
			})
			t.Run("openssl-pkey", func(t *testing.T) {
				for _, p := range []string{scb.CloudKeyPath, scb.ClientKeyPath} {
					require.True(t, strings.HasPrefix(string(readFile(t, filepath.Join(ib.dir, p))), "-----BEGIN PRIVATE KEY-----\n"), "%s is not PKCS#8", p)
					mustRun(t, ib.dir, openssl, "pkey", "-in", p, "-noout", "-check")
				}
				leaf, _ := splitChain(t, work, filepath.Join(ib.dir, scb.CloudCertPath))
				requireSamePublicKey(t, openssl, ib.dir, leaf, filepath.Join(ib.dir, scb.CloudKeyPath))
			})
			t.Run("openssl-pkcs12", func(t *testing.T) {
				checkPKCS12(t, openssl, work, ib, tc.legacy)
			})
			t.Run("keytool", func(t *testing.T) {
				checkKeytool(t, keytool, ib)
			})
			t.Run("file-magic", func(t *testing.T) {
				for _, p := range []string{scb.CloudIdentityPath, scb.CloudTrustStorePath} {
					data := readFile(t, filepath.Join(ib.dir, p))
					require.Equal(t, []byte{0xFE, 0xED, 0xFE, 0xED}, data[:4], "%s is not JKS", p)
					out := mustRun(t, ib.dir, fileTool, "-b", p)
					require.Contains(t, out, "Java KeyStore", p)
				}
			})
		})
	}

	t.Run("java", func(t *testing.T) {
		java := needTool(t, "java", "openjdk-17-jdk-headless")
		if len(zips) == 0 {
			t.Skip("no bundles: the key-type subtests were filtered out")
		}
		src, err := filepath.Abs(filepath.Join("testdata", "interop", "BundleCheck.java"))
		require.NoError(t, err)
		// A control that must fail, so the checker is known to bite: a
		// bundle whose trust store is really the identity store.
		bad := filepath.Join(outDir, "control-bad.zip")
		b, err := scb.ReadFile(zips[0], scb.Limits{})
		require.NoError(t, err)
		identity, _ := b.Get(scb.CloudIdentityPath)
		require.NoError(t, b.Set(scb.CloudTrustStorePath, identity))
		require.NoError(t, b.WriteFile(bad, scb.WriteOptions{}, false))

		out, err := runTool(t, t.TempDir(), java, append([]string{src, bad}, zips...)...)
		require.Error(t, err, "the control bundle passed:\n%s", out)
		require.Contains(t, out, "FAIL "+bad+": ", out)
		for _, z := range zips {
			require.Contains(t, out, "OK "+z+"\n", out)
		}
	})
}

// TestInteropEncryptedKey checks a bundle whose client key is encrypted
// (and which therefore has no stock-driver files) with OpenSSL.
func TestInteropEncryptedKey(t *testing.T) {
	openssl := needTool(t, "openssl", "openssl")
	const pass = "correct horse battery staple"
	ib := buildInterop(t, t.TempDir(), "encrypted", scb.KeyECDSAP256, scb.Request{KeyPassphrase: []byte(pass), OmitStockDriverFiles: true})
	for _, p := range scb.StockDriverPaths {
		_, err := os.Stat(filepath.Join(ib.dir, p))
		require.ErrorIs(t, err, os.ErrNotExist, "%s present in a bundle without stock-driver files", p)
	}
	keyPath := scb.ClientKeyPath
	require.True(t, strings.HasPrefix(string(readFile(t, filepath.Join(ib.dir, keyPath))), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"))
	mustRun(t, ib.dir, openssl, "pkey", "-in", keyPath, "-passin", "pass:"+pass, "-noout", "-check")

	// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, as documented.
	asn := mustRun(t, ib.dir, openssl, "asn1parse", "-in", keyPath)
	for _, want := range []string{"PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"} {
		require.Contains(t, asn, want)
	}

	for _, wrong := range []string{"pass:wrong passphrase", "pass:"} {
		out, err := runTool(t, ib.dir, openssl, "pkey", "-in", keyPath, "-passin", wrong, "-noout")
		require.Error(t, err, "openssl read the key with %q:\n%s", wrong, out)
	}

	// The decrypted key matches the certificate.
	work := t.TempDir()
	plain := filepath.Join(work, "plain-key.pem")
	mustRun(t, ib.dir, openssl, "pkey", "-in", keyPath, "-passin", "pass:"+pass, "-out", plain)
	leaf, inter := splitChain(t, work, filepath.Join(ib.dir, scb.ClientCertPath))
	requireSamePublicKey(t, openssl, ib.dir, leaf, plain)
	out := mustRun(t, ib.dir, openssl, "verify", "-x509_strict", "-CAfile", scb.CACertPath, "-untrusted", inter, "-purpose", "sslclient", leaf)
	require.Contains(t, out, ": OK")
}

// TestInteropTarGz extracts a tar.gz bundle with GNU tar.
func TestInteropTarGz(t *testing.T) {
	tarTool := needTool(t, "tar", "tar")
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "tar", CA: testCA(t)})
	require.NoError(t, err)
	name := filepath.Join(t.TempDir(), "b.tar.gz")
	require.NoError(t, b.WriteFile(name, scb.WriteOptions{Format: scb.FormatTarGz}, false))

	out := mustRun(t, t.TempDir(), tarTool, "-tzvf", name)
	files := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(line, "-rw------- "):
			files++
		case strings.HasPrefix(line, "drwx------ "):
		default:
			t.Errorf("unexpected tar entry mode: %s", line)
		}
	}
	require.Equal(t, b.Len(), files)

	dir := t.TempDir()
	mustRun(t, dir, tarTool, "-xzf", name)
	for _, f := range b.Files() {
		require.Equal(t, f.Data, readFile(t, filepath.Join(dir, filepath.FromSlash(f.Path))), f.Path)
	}

	// GNU tar's own archive (padded to its 10 KiB record) reads back.
	gnu := filepath.Join(t.TempDir(), "gnu.tar.gz")
	mustRun(t, dir, tarTool, append([]string{"-czf", gnu}, b.Paths()...)...)
	got, err := scb.ReadFile(gnu, scb.Limits{})
	require.NoError(t, err)
	require.Equal(t, b.Paths(), got.Paths())
	require.NoError(t, scb.Validate(got, scb.ValidateOptions{}))
}

func checkUnzipListing(t *testing.T, unzip, zipinfo string, ib *interopBundle) {
	out := mustRun(t, filepath.Dir(ib.zip), unzip, "-v", ib.zip)
	var names []string
	inTable := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "--------") {
			if inTable {
				break
			}
			inTable = true
			continue
		}
		if !inTable || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 8, line)
		require.True(t, strings.HasPrefix(f[1], "Defl"), "entry not deflated: %s", line)
		names = append(names, f[len(f)-1])
	}
	require.Equal(t, ib.b.Paths(), sorted(names))

	out = mustRun(t, filepath.Dir(ib.zip), unzip, "-tq", ib.zip)
	require.Contains(t, out, "No errors detected")

	out = mustRun(t, filepath.Dir(ib.zip), zipinfo, ib.zip)
	entries := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "-") || strings.HasPrefix(line, "d") {
			require.True(t, strings.HasPrefix(line, "-rw------- "), "entry mode is not 0600: %s", line)
			entries++
		}
	}
	require.Equal(t, ib.b.Len(), entries)
}

func checkSHA256Sum(t *testing.T, sha256sum string, ib *interopBundle) {
	var rel []string
	require.NoError(t, filepath.WalkDir(ib.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		r, err := filepath.Rel(ib.dir, p)
		rel = append(rel, filepath.ToSlash(r))
		return err
	}))
	out := mustRun(t, ib.dir, sha256sum, append([]string{"--"}, rel...)...)
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, sc.Text())
		got[name] = sum
	}
	for _, p := range rel {
		if !scb.InManifest(p) {
			continue
		}
		want, listed := ib.digest[p]
		require.True(t, listed, "%s extracted but not in manifest.json", p)
		require.Equal(t, want, got[p], p)
	}
	for p := range ib.digest {
		_, ok := got[p]
		require.True(t, ok, "%s in manifest.json but not extracted", p)
	}
}

func checkPKCS12(t *testing.T, openssl, work string, ib *interopBundle, legacy bool) {
	pw := "pass:" + ib.cloud.PFXCertPassword
	info := mustRun(t, ib.dir, openssl, "pkcs12", "-in", scb.CloudPFXPath, "-passin", pw, "-info", "-noout")
	if legacy {
		require.Contains(t, info, "MAC: sha1")
		require.Contains(t, info, "pbeWithSHA1And3-KeyTripleDES-CBC")
	} else {
		require.Contains(t, info, "MAC: sha256")
		require.Contains(t, info, "PBES2, PBKDF2, AES-256-CBC")
	}
	certs := mustRun(t, ib.dir, openssl, "pkcs12", "-in", scb.CloudPFXPath, "-passin", pw, "-nokeys")
	require.Equal(t, 2, strings.Count(certs, "-----BEGIN CERTIFICATE-----"), "cert.pfx should hold the leaf and the intermediate")
	key := mustRun(t, ib.dir, openssl, "pkcs12", "-in", scb.CloudPFXPath, "-passin", pw, "-nocerts", "-nodes")
	require.Contains(t, key, "-----BEGIN PRIVATE KEY-----")
	keyFile := filepath.Join(work, "pfx-key.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte(key), 0o600))
	leaf, _ := splitChain(t, work, filepath.Join(ib.dir, scb.CloudCertPath))
	requireSamePublicKey(t, openssl, ib.dir, leaf, keyFile)

	out, err := runTool(t, ib.dir, openssl, "pkcs12", "-in", scb.CloudPFXPath, "-passin", "pass:not-the-password", "-info", "-noout")
	require.Error(t, err, "cert.pfx opened with a wrong password:\n%s", out)
	require.Contains(t, out, "Mac verify error")
}

func checkKeytool(t *testing.T, keytool string, ib *interopBundle) {
	out := mustRun(t, ib.dir, keytool, "-list", "-v", "-keystore", scb.CloudIdentityPath, "-storetype", "JKS", "-storepass", ib.cloud.KeyStorePassword)
	for _, want := range []string{"Keystore type: JKS", "Your keystore contains 1 entry", "Alias name: " + scb.IdentityAlias, "Entry type: PrivateKeyEntry", "Certificate chain length: 3"} {
		require.Contains(t, out, want)
	}
	out = mustRun(t, ib.dir, keytool, "-list", "-v", "-keystore", scb.CloudTrustStorePath, "-storetype", "JKS", "-storepass", ib.cloud.TrustStorePassword)
	for _, want := range []string{"Keystore type: JKS", "Your keystore contains 1 entry", "Alias name: " + scb.TrustAlias, "Entry type: trustedCertEntry"} {
		require.Contains(t, out, want)
	}
	for _, p := range []string{scb.CloudIdentityPath, scb.CloudTrustStorePath} {
		out, err := runTool(t, ib.dir, keytool, "-list", "-keystore", p, "-storetype", "JKS", "-storepass", "wrong-password")
		require.Error(t, err, "%s opened with a wrong password:\n%s", p, out)
		require.Contains(t, out, "password was incorrect")
	}
}

// splitChain writes the first certificate of a PEM chain to leaf.pem and
// the others to intermediates.pem in dir.
func splitChain(t *testing.T, dir, chainFile string) (leaf, inter string) {
	t.Helper()
	rest := readFile(t, chainFile)
	var blocks [][]byte
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, pem.EncodeToMemory(b))
	}
	require.GreaterOrEqual(t, len(blocks), 2, "chain in %s has no intermediate", chainFile)
	leaf, inter = filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "intermediates.pem")
	require.NoError(t, os.WriteFile(leaf, blocks[0], 0o600))
	var in []byte
	for _, b := range blocks[1:] {
		in = append(in, b...)
	}
	require.NoError(t, os.WriteFile(inter, in, 0o600))
	return leaf, inter
}

func requireSamePublicKey(t *testing.T, openssl, dir, certFile, keyFile string) {
	t.Helper()
	fromCert := mustRun(t, dir, openssl, "x509", "-in", certFile, "-noout", "-pubkey")
	fromKey := mustRun(t, dir, openssl, "pkey", "-in", keyFile, "-pubout")
	require.Equal(t, fromCert, fromKey, "key %s does not match certificate %s", keyFile, certFile)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	d, err := os.ReadFile(name)
	require.NoError(t, err)
	return d
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
