package scb

// Tests of checkPFXWork, the bound on what a PKCS#12 file may make its
// reader do. Hostile files are built here with encoding/asn1 (or by
// patching what go-pkcs12 writes); each must be refused before any large
// key derivation runs. A guard fails a test that is still running after a
// few seconds (without the check these files take minutes to hours), but
// pass or fail is decided by the error, not by the clock.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"
)

const (
	tPFXPassword = "pfx-Passw0rd-ü" // not ASCII, to exercise BMPString and UTF-8 handling
	tHuge        = 1<<31 - 1        // ~6 minutes (PBKDF2) to ~4 (MAC) of CPU each in go-pkcs12
	tGuard       = 2 * time.Second
)

// tPFXErrors are the only messages checkPFXWork may return.
var tPFXErrors = regexp.MustCompile(`^PKCS#12 file: [A-Za-z0-9 .,()/#:-]+$`)

// --- an identity to put in files ---

type tPFXIdentity struct {
	key, caKey *ecdsa.PrivateKey
	leaf, ca   *x509.Certificate
}

func newTPFXIdentity(t testing.TB) *tPFXIdentity {
	t.Helper()
	id := &tPFXIdentity{}
	var err error
	id.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pfx test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, id.caKey.Public(), id.caKey)
	require.NoError(t, err)
	id.ca, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	id.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	id.leaf = id.issue(t, &CertificateRequest{PublicKey: id.key.Public(), Subject: pkix.Name{CommonName: "pfx client"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(24 * time.Hour)})
	return id
}

func (id *tPFXIdentity) issue(t testing.TB, req *CertificateRequest) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tpl := &x509.Certificate{
		SerialNumber: serial, Subject: req.Subject, NotBefore: req.NotBefore, NotAfter: req.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, id.ca, req.PublicKey, id.caKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// tPFXCA lets Build run inside package scb (package ca imports scb).
type tPFXCA struct {
	t  testing.TB
	id *tPFXIdentity
}

func (c tPFXCA) Issue(_ context.Context, req *CertificateRequest) ([]*x509.Certificate, error) {
	return []*x509.Certificate{c.id.issue(c.t, req)}, nil
}

func (c tPFXCA) Roots(context.Context) ([]*x509.Certificate, error) {
	return []*x509.Certificate{c.id.ca}, nil
}

// --- building PKCS#12 files ---

func tDER(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	require.NoError(t, err)
	return b
}

func tRaw(t testing.TB, v any) asn1.RawValue { return asn1.RawValue{FullBytes: tDER(t, v)} }

func tExplicit(inner []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}
}

func tSeq(t testing.TB, elems ...[]byte) []byte {
	return tDER(t, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: bytes.Join(elems, nil)})
}

func tRandom(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func tBag(t testing.TB, id asn1.ObjectIdentifier, value []byte) []byte {
	return tDER(t, struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue
	}{id, tExplicit(value)})
}

func tCertBag(t testing.TB, c *x509.Certificate) []byte {
	x509Type := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	return tBag(t, oidCertBag, tDER(t, struct {
		ID   asn1.ObjectIdentifier
		Cert asn1.RawValue
	}{x509Type, tExplicit(tDER(t, c.Raw))}))
}

func tShroudedBag(t testing.TB, alg pkix.AlgorithmIdentifier, ct []byte) []byte {
	return tBag(t, oidShroudedKeyBag, tDER(t, pfxEncryptedKeyInfo{alg, ct}))
}

func tDataContent(t testing.TB, safeContents []byte) []byte {
	return tDER(t, struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{oidPKCS7Data, tExplicit(tDER(t, safeContents))})
}

func tEncryptedContent(t testing.TB, alg pkix.AlgorithmIdentifier, ct []byte) []byte {
	type eci struct {
		Type      asn1.ObjectIdentifier
		Algorithm pkix.AlgorithmIdentifier
		Content   []byte `asn1:"tag:0"`
	}
	ed := tDER(t, struct {
		Version int
		Info    eci
	}{0, eci{oidPKCS7Data, alg, ct}})
	return tDER(t, struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{oidPKCS7EncryptedData, tExplicit(ed)})
}

// tPFX wraps an AuthenticatedSafe and an optional MacData.
func tPFX(t testing.TB, authSafe, macData []byte) []byte {
	return tDER(t, struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  asn1.RawValue `asn1:"optional"`
	}{3, asn1.RawValue{FullBytes: tDataContent(t, authSafe)}, asn1.RawValue{FullBytes: macData}})
}

// tMAC computes a real HMAC-SHA-256 MAC over authSafe with iter iterations
// of the PKCS#12 KDF, and states the count stated (normally iter).
func tMAC(t testing.TB, authSafe, bmpPassword []byte, iter, stated int) []byte {
	salt := tRandom(t, 16)
	key := pkcs12KDF(sha256.New, 3, salt, bmpPassword, iter, 32)
	m := hmac.New(sha256.New, key)
	m.Write(authSafe)
	var md pfxMacData
	md.Mac.Algorithm = pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}
	md.Mac.Digest = m.Sum(nil)
	md.MacSalt, md.Iterations = salt, stated
	return tDER(t, md)
}

func tPad(pt []byte, bs int) []byte {
	n := bs - len(pt)%bs
	return append(bytes.Clone(pt), bytes.Repeat([]byte{byte(n)}, n)...)
}

// tPBES2 is PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC.
func tPBES2(t testing.TB, iter int, salt, iv []byte) pkix.AlgorithmIdentifier {
	kdf := pfxPBKDF2Params{Salt: tRaw(t, salt), Iterations: iter,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACSHA256, Parameters: asn1.NullRawValue}}
	return pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: tRaw(t, pfxPBES2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: tRaw(t, kdf)},
		Cipher: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Parameters: tRaw(t, iv)},
	})}
}

func tEncryptPBES2(t testing.TB, password string, iter int, pt []byte) (pkix.AlgorithmIdentifier, []byte) {
	salt, iv := tRandom(t, 16), tRandom(t, 16)
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	ct := tPad(pt, 16)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
	return tPBES2(t, iter, salt, iv), ct
}

func tPBES1(t testing.TB, scheme asn1.ObjectIdentifier, iter int, salt []byte) pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: scheme, Parameters: tRaw(t, pfxPBES1Params{salt, iter})}
}

func tEncrypt3DES(t testing.TB, bmpPassword []byte, iter int, pt []byte) (pkix.AlgorithmIdentifier, []byte) {
	salt := tRandom(t, 8)
	block, err := des.NewTripleDESCipher(pkcs12KDF(sha1.New, 1, salt, bmpPassword, iter, 24))
	require.NoError(t, err)
	ct := tPad(pt, 8)
	cipher.NewCBCEncrypter(block, pkcs12KDF(sha1.New, 2, salt, bmpPassword, iter, 8)).CryptBlocks(ct, ct)
	return tPBES1(t, oidPBEWithSHA1And3DES, iter, salt), ct
}

func tBMP(t testing.TB, password string) []byte {
	b, err := pfxBMPPassword(password)
	require.NoError(t, err)
	return b
}

// tPFXParts builds a file as go-pkcs12 and OpenSSL lay it out: the
// certificates in an encryptedData content, the shrouded key in a data
// content. Each part can be replaced.
type tPFXParts struct {
	password string
	contents [][]byte // the AuthenticatedSafe
	macIter  int      // 0: no MAC
	macState int      // the count the MAC states, when not macIter
}

func (id *tPFXIdentity) parts(t testing.TB, password string) *tPFXParts {
	keyDER, err := x509.MarshalPKCS8PrivateKey(id.key)
	require.NoError(t, err)
	keyAlg, keyCT := tEncryptPBES2(t, password, 16, keyDER)
	certAlg, certCT := tEncryptPBES2(t, password, 16, tSeq(t, tCertBag(t, id.leaf), tCertBag(t, id.ca)))
	return &tPFXParts{
		password: password,
		contents: [][]byte{tEncryptedContent(t, certAlg, certCT), tDataContent(t, tSeq(t, tShroudedBag(t, keyAlg, keyCT)))},
		macIter:  16,
	}
}

func (p *tPFXParts) encode(t testing.TB) []byte {
	authSafe := tSeq(t, p.contents...)
	var mac []byte
	if p.macIter > 0 {
		stated := p.macState
		if stated == 0 {
			stated = p.macIter
		}
		mac = tMAC(t, authSafe, tBMP(t, p.password), p.macIter, stated)
	}
	return tPFX(t, authSafe, mac)
}

// tPatchMAC decodes the MacData of pfx, lets f change it and encodes the
// file again.
func tPatchMAC(t testing.TB, pfx []byte, f func(md *pfxMacData)) []byte {
	var pdu pfxPDU
	require.True(t, pfxUnmarshal(pfx, &pdu))
	var md pfxMacData
	require.True(t, pfxUnmarshal(pdu.MacData.FullBytes, &md))
	f(&md)
	pdu.MacData = tRaw(t, md)
	return tDER(t, pdu)
}

// tWithin runs f and fails the test if it has not returned after d.
func tWithin[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("still running after %v: the work is not bounded", d)
		panic("unreachable")
	}
}

func tOpenSSL(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err == nil {
		return p
	}
	msg := "openssl not found on PATH; install it with: apt-get install -y openssl"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func tRun(t testing.TB, dir, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(tool), strings.Join(args, " "), out)
}

// --- accepted files ---

// tRequireDecodes checks that pfx passes the check, that go-pkcs12 then
// reads id from it, and returns the work charged.
func tRequireDecodes(t *testing.T, id *tPFXIdentity, pfx []byte, password string, chain int) int64 {
	t.Helper()
	work, err := pfxWork(pfx, password)
	require.NoError(t, err)
	key, certs, err := decodePFX(pfx, password)
	require.NoError(t, err)
	require.True(t, id.key.Public().(*ecdsa.PublicKey).Equal(key.(*ecdsa.PrivateKey).Public()))
	require.Len(t, certs, chain)
	require.Equal(t, id.leaf.Raw, certs[0].Raw)
	return work
}

func TestCheckPFXWorkAcceptsGoPKCS12(t *testing.T) {
	id := newTPFXIdentity(t)
	cases := map[string]struct {
		enc  *pkcs12.Encoder
		work int64
	}{
		// MAC 2048 + cert content 2048 (twice: go-pkcs12 and the check) + key 2048.
		"Modern2023": {pkcs12.Modern2023, 2048 + 2*2048 + 2048},
		// PBMAC1 with a 32-byte key: one SHA-256 block.
		"Modern2026": {pkcs12.Modern2026, 2048 + 2*2048 + 2048},
		// MAC 1 + 3DES (two key blocks and one IV block) for the certificates, twice, and the key.
		"LegacyDES": {pkcs12.LegacyDES, 1 + 2*3*2048 + 3*2048},
		// RC2-40: one key block and one IV block.
		"LegacyRC2": {pkcs12.LegacyRC2, 1 + 2*2*2048 + 3*2048},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pfx, err := tc.enc.Encode(id.key, id.leaf, []*x509.Certificate{id.ca}, tPFXPassword)
			require.NoError(t, err)
			require.Equal(t, tc.work, tRequireDecodes(t, id, pfx, tPFXPassword, 2))

			_, err = pfxWork(pfx, "wrong password")
			require.ErrorIs(t, err, errPFXDecrypt)
		})
	}
	t.Run("empty password", func(t *testing.T) {
		pfx, err := pkcs12.LegacyDES.Encode(id.key, id.leaf, nil, "")
		require.NoError(t, err)
		tRequireDecodes(t, id, pfx, "", 1)
	})
}

// TestCheckPFXWorkAcceptsOwn checks what scb itself writes into cert.pfx.
func TestCheckPFXWorkAcceptsOwn(t *testing.T) {
	id := newTPFXIdentity(t)
	for _, legacy := range []bool{false, true} {
		pfx, err := encodePFX(rand.Reader, id.key, []*x509.Certificate{id.leaf, id.ca}, tPFXPassword, legacy)
		require.NoError(t, err)
		tRequireDecodes(t, id, pfx, tPFXPassword, 2)
	}
}

// TestCheckPFXWorkAcceptsOpenSSL reads what `openssl pkcs12 -export`
// writes by default and with its usual options.
func TestCheckPFXWorkAcceptsOpenSSL(t *testing.T) {
	openssl := tOpenSSL(t)
	id := newTPFXIdentity(t)
	dir := t.TempDir()
	keyPEM, err := MarshalPrivateKeyPEM(id.key, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), EncodeCertificatesPEM(id.leaf), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), EncodeCertificatesPEM(id.ca), 0o600))
	variants := map[string][]string{
		"default":        nil,
		"legacy":         {"-legacy"}, // RC2-40 certificates, 3DES key, SHA-1 MAC
		"legacy-rc2-128": {"-legacy", "-certpbe", "PBE-SHA1-RC2-128"},
		"descert":        {"-descert"},
		"aes-128":        {"-keypbe", "AES-128-CBC", "-certpbe", "AES-128-CBC"},
		"unencrypted":    {"-keypbe", "NONE", "-certpbe", "NONE"},
		"mac-sha512":     {"-macalg", "sha512"},
		"noiter":         {"-noiter", "-nomaciter"},
		"iter-100000":    {"-iter", "100000"},
	}
	for name, extra := range variants {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name+".p12")
			args := append([]string{"pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-certfile", "ca.pem",
				"-passout", "pass:" + tPFXPassword, "-out", out}, extra...)
			tRun(t, dir, openssl, args...)
			pfx, err := os.ReadFile(out)
			require.NoError(t, err)
			tRequireDecodes(t, id, pfx, tPFXPassword, 2)
		})
	}
}

// TestCheckPFXWorkAcceptsBuiltHere checks the test's own builder against
// go-pkcs12, so that the hostile files below differ from a readable one
// only where they mean to.
func TestCheckPFXWorkAcceptsBuiltHere(t *testing.T) {
	id := newTPFXIdentity(t)
	p := id.parts(t, tPFXPassword)
	tRequireDecodes(t, id, p.encode(t), tPFXPassword, 2)

	// Some writers use no password bytes at all for an empty password;
	// go-pkcs12 retries with that, and so does the check.
	keyDER, err := x509.MarshalPKCS8PrivateKey(id.key)
	require.NoError(t, err)
	keyAlg, keyCT := tEncrypt3DES(t, nil, 16, keyDER)
	certAlg, certCT := tEncrypt3DES(t, nil, 16, tSeq(t, tCertBag(t, id.leaf)))
	authSafe := tSeq(t, tEncryptedContent(t, certAlg, certCT), tDataContent(t, tSeq(t, tShroudedBag(t, keyAlg, keyCT))))
	tRequireDecodes(t, id, tPFX(t, authSafe, tMAC(t, authSafe, nil, 16, 16)), "", 1)
}

// --- refused files ---

func TestCheckPFXWorkRefusesHostile(t *testing.T) {
	id := newTPFXIdentity(t)
	modern, err := pkcs12.Modern2023.Encode(id.key, id.leaf, nil, tPFXPassword)
	require.NoError(t, err)
	legacy, err := pkcs12.LegacyDES.Encode(id.key, id.leaf, nil, tPFXPassword)
	require.NoError(t, err)
	pbmac1, err := pkcs12.Modern2026.Encode(id.key, id.leaf, nil, tPFXPassword)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(id.key)
	require.NoError(t, err)
	certs := tSeq(t, tCertBag(t, id.leaf))
	junk := make([]byte, 64)
	salt, iv := tRandom(t, 16), tRandom(t, 16)

	// with builds a file from id.parts after f changes them.
	with := func(f func(p *tPFXParts)) []byte {
		p := id.parts(t, tPFXPassword)
		f(p)
		return p.encode(t)
	}
	// inside puts bags in an encryptedData content that decrypts properly.
	inside := func(bags ...[]byte) []byte {
		alg, ct := tEncryptPBES2(t, tPFXPassword, 16, tSeq(t, bags...))
		return tEncryptedContent(t, alg, ct)
	}
	hugeKeyBag := tShroudedBag(t, tPBES2(t, tHuge, salt, iv), junk)
	pbmac1Iterations := func(n int) []byte {
		return tPatchMAC(t, pbmac1, func(md *pfxMacData) {
			var p pfxPBMAC1Params
			require.True(t, pfxUnmarshal(md.Mac.Algorithm.Parameters.FullBytes, &p))
			var kdf pfxPBKDF2Params
			require.True(t, pfxUnmarshal(p.KDF.Parameters.FullBytes, &kdf))
			kdf.Iterations = n
			p.KDF.Parameters = tRaw(t, kdf)
			md.Mac.Algorithm.Parameters = tRaw(t, p)
		})
	}
	scrypt := func() pkix.AlgorithmIdentifier {
		alg := tPBES2(t, 16, salt, iv)
		var p pfxPBES2Params
		require.True(t, pfxUnmarshal(alg.Parameters.FullBytes, &p))
		p.KDF = pkix.AlgorithmIdentifier{Algorithm: oidScrypt, Parameters: tRaw(t, struct {
			Salt    []byte
			N, R, P int
		}{salt, 1 << 30, 8, 1})}
		alg.Parameters = tRaw(t, p)
		return alg
	}()
	many := func(n int, elem []byte) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = elem
		}
		return out
	}

	cases := map[string]struct {
		pfx  []byte
		want string
	}{
		"MAC iterations 2^31-1 (Modern2023)": {tPatchMAC(t, modern, func(md *pfxMacData) { md.Iterations = tHuge }), "MAC iteration count out of range"},
		"MAC iterations 2^31-1 (LegacyDES)":  {tPatchMAC(t, legacy, func(md *pfxMacData) { md.Iterations = tHuge }), "MAC iteration count out of range"},
		"MAC iterations cap+1":               {tPatchMAC(t, modern, func(md *pfxMacData) { md.Iterations = maxPFXIterations + 1 }), "MAC iteration count out of range"},
		"MAC iterations 0":                   {tPatchMAC(t, modern, func(md *pfxMacData) { md.Iterations = 0 }), "MAC iteration count out of range"},
		"MAC iterations negative":            {tPatchMAC(t, modern, func(md *pfxMacData) { md.Iterations = -5 }), "MAC iteration count out of range"},
		"PBMAC1 iterations 2^31-1":           {pbmac1Iterations(tHuge), "PBMAC1 PBKDF2 iteration count out of range"},
		"MAC unknown algorithm": {tPatchMAC(t, modern, func(md *pfxMacData) {
			md.Mac.Algorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
		}), "unsupported MAC algorithm"},

		"key bag PBES2 iterations 2^31-1": {with(func(p *tPFXParts) {
			p.contents[1] = tDataContent(t, tSeq(t, hugeKeyBag))
		}), "shrouded key bag PBKDF2 iteration count out of range"},
		"key bag PBES1 iterations 2^31-1": {with(func(p *tPFXParts) {
			p.contents[1] = tDataContent(t, tSeq(t, tShroudedBag(t, tPBES1(t, oidPBEWithSHA1And3DES, tHuge, salt[:8]), junk)))
		}), "shrouded key bag PBE iteration count out of range"},
		"key bag scrypt": {with(func(p *tPFXParts) {
			p.contents[1] = tDataContent(t, tSeq(t, tShroudedBag(t, scrypt, junk)))
		}), "unsupported key derivation function"},
		"key bag PBES1 MD5-DES": {with(func(p *tPFXParts) {
			md5DES := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
			p.contents[1] = tDataContent(t, tSeq(t, tShroudedBag(t, tPBES1(t, md5DES, 16, salt[:8]), junk)))
		}), "unsupported encryption scheme"},

		"encryptedData PBES2 iterations 2^31-1": {with(func(p *tPFXParts) {
			p.contents[0] = tEncryptedContent(t, tPBES2(t, tHuge, salt, iv), junk)
		}), "encryptedData PBKDF2 iteration count out of range"},
		"encryptedData PBES1 iterations 2^31-1": {with(func(p *tPFXParts) {
			p.contents[0] = tEncryptedContent(t, tPBES1(t, oidPBEWithSHA1And40RC2, tHuge, salt[:8]), junk)
		}), "encryptedData PBE iteration count out of range"},
		"encryptedData scrypt": {with(func(p *tPFXParts) {
			p.contents[0] = tEncryptedContent(t, scrypt, junk)
		}), "unsupported key derivation function"},

		// Only visible once the content is decrypted.
		"key bag inside encryptedData iterations 2^31-1": {with(func(p *tPFXParts) {
			p.contents = [][]byte{inside(tCertBag(t, id.leaf), hugeKeyBag)}
		}), "shrouded key bag PBKDF2 iteration count out of range"},
		"nested safe contents inside encryptedData": {with(func(p *tPFXParts) {
			p.contents[0] = inside(tBag(t, oidSafeContentsBag, tSeq(t, hugeKeyBag)))
		}), "nested safe contents"},
		"nested safe contents": {with(func(p *tPFXParts) {
			p.contents[1] = tDataContent(t, tSeq(t, tBag(t, oidSafeContentsBag, tSeq(t, hugeKeyBag))))
		}), "nested safe contents"},

		// Each count under the cap, too many together.
		"total: 5 key bags of 1,000,000": {with(func(p *tPFXParts) {
			p.contents[1] = tDataContent(t, tSeq(t, many(5, tShroudedBag(t, tPBES2(t, maxPFXIterations, salt, iv), junk))...))
		}), "key-derivation iterations in total"},
		"total: 8 encryptedData of 600,000": {with(func(p *tPFXParts) {
			p.contents = many(8, tEncryptedContent(t, tPBES2(t, 600_000, salt, iv), junk))
		}), "key-derivation iterations in total"},
		"total: 5 key bags of 1,000,000 inside encryptedData": {with(func(p *tPFXParts) {
			p.contents = [][]byte{inside(many(5, tShroudedBag(t, tPBES2(t, maxPFXIterations, salt, iv), junk))...)}
		}), "key-derivation iterations in total"},

		"too many contents": {with(func(p *tPFXParts) {
			p.contents = many(maxPFXContents+1, tDataContent(t, tSeq(t)))
		}), "too many contents"},
		"too many bags": {with(func(p *tPFXParts) {
			p.contents = [][]byte{tDataContent(t, tSeq(t, many(maxPFXBags+1, tCertBag(t, id.leaf))...))}
		}), "too many bags"},
		"too many bags across contents": {with(func(p *tPFXParts) {
			p.contents = many(maxPFXContents, tDataContent(t, tSeq(t, many(maxPFXBags/maxPFXContents+1, tCertBag(t, id.leaf))...)))
		}), "too many bags"},
		"unknown bag": {with(func(p *tPFXParts) {
			p.contents[1] = tDataContent(t, tSeq(t, tBag(t, asn1.ObjectIdentifier{1, 2, 3}, keyDER)))
		}), "unknown bag type"},
		"enveloped content": {with(func(p *tPFXParts) {
			p.contents[1] = tDER(t, struct {
				Type    asn1.ObjectIdentifier
				Content asn1.RawValue
			}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}, tExplicit(certs)})
		}), "unsupported content type"},
		"public-key integrity": {tDER(t, struct {
			Version  int
			AuthSafe asn1.RawValue
		}{3, tRaw(t, struct {
			Type    asn1.ObjectIdentifier
			Content asn1.RawValue
		}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, tExplicit(certs)})}), "unsupported integrity mode"},
		"oversized":      {append(bytes.Clone(modern), make([]byte, maxPFXSize)...), "larger than"},
		"trailing bytes": {append(bytes.Clone(modern), 0), "malformed PFX"},
		"not DER":        {[]byte("PK\x03\x04 not a PKCS#12 file"), "malformed PFX"},
		"empty":          {nil, "malformed PFX"},
		"wrong version": {func() []byte {
			var pdu pfxPDU
			require.True(t, pfxUnmarshal(modern, &pdu))
			pdu.Version = 4
			return tDER(t, pdu)
		}(), "unsupported PFX version"},
		"encrypted content not whole blocks": {with(func(p *tPFXParts) {
			p.contents[0] = tEncryptedContent(t, tPBES2(t, 16, salt, iv), junk[:17])
		}), "whole number of blocks"},
		"encrypted content, wrong key": {with(func(p *tPFXParts) {
			alg, ct := tEncryptPBES2(t, "other password", 16, certs)
			p.contents[0] = tEncryptedContent(t, alg, ct)
		}), "cannot decrypt"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tWithin(t, tGuard, func() error { return checkPFXWork(tc.pfx, tPFXPassword) })
			require.ErrorContains(t, err, tc.want)
			require.Regexp(t, tPFXErrors, err.Error())
			require.NotContains(t, err.Error(), tPFXPassword)
			// decodePFX runs the check before go-pkcs12.
			err = tWithin(t, tGuard, func() error { _, _, err := decodePFX(tc.pfx, tPFXPassword); return err })
			require.ErrorContains(t, err, tc.want)
		})
	}

	t.Run("password outside the BMP", func(t *testing.T) {
		err := checkPFXWork(modern, "s3cr3t\U0001F511")
		require.ErrorContains(t, err, "Basic Multilingual Plane")
		require.NotContains(t, err.Error(), "s3cr3t")
	})
}

// TestCheckPFXWorkCapIsUsable: a file using the per-count cap for its MAC,
// its certificates and its key spends the whole budget, and is accepted;
// one more iteration anywhere is not.
func TestCheckPFXWorkCapIsUsable(t *testing.T) {
	id := newTPFXIdentity(t)
	p := id.parts(t, tPFXPassword)
	alg, ct := tEncryptPBES2(t, tPFXPassword, maxPFXIterations, tSeq(t, tCertBag(t, id.leaf)))
	p.contents[0] = tEncryptedContent(t, alg, ct)
	salt, iv := tRandom(t, 16), tRandom(t, 16)
	keyBag := tShroudedBag(t, tPBES2(t, maxPFXIterations, salt, iv), make([]byte, 64))
	p.contents[1] = tDataContent(t, tSeq(t, keyBag))
	p.macState = maxPFXIterations
	start := time.Now()
	work, err := pfxWork(p.encode(t), tPFXPassword)
	t.Logf("checked a file at the budget in %v", time.Since(start))
	require.NoError(t, err)
	require.Equal(t, int64(maxPFXWork), work)

	p.contents[1] = tDataContent(t, tSeq(t, keyBag, tShroudedBag(t, tPBES2(t, 1, salt, iv), make([]byte, 64))))
	_, err = pfxWork(p.encode(t), tPFXPassword)
	require.ErrorContains(t, err, "key-derivation iterations in total")
}

// TestValidateHostilePFX replaces cert.pfx of a real bundle with files
// carrying a correct MAC under the bundle's own pfxCertPassword, so that
// go-pkcs12 would go on to derive keys with 2^31-1 iterations. Validate
// must refuse them promptly, reporting cert.pfx.
func TestValidateHostilePFX(t *testing.T) {
	id := newTPFXIdentity(t)
	b, err := Build(context.Background(), Request{ClusterName: "c", ClientID: "pfx", CA: tPFXCA{t, id}})
	require.NoError(t, err)
	require.NoError(t, Validate(b, ValidateOptions{}))
	ccData, _ := b.Get(CloudConfigPath)
	cc, err := ParseCloudConfig(ccData)
	require.NoError(t, err)
	pw := cc.PFXCertPassword
	require.NotEmpty(t, pw)
	orig, _ := b.Get(CloudPFXPath)
	salt, iv := tRandom(t, 16), tRandom(t, 16)

	inner := id.parts(t, pw)
	alg, ct := tEncryptPBES2(t, pw, 16, tSeq(t, tCertBag(t, id.leaf), tShroudedBag(t, tPBES2(t, tHuge, salt, iv), make([]byte, 64))))
	inner.contents = [][]byte{tEncryptedContent(t, alg, ct)}

	outer := id.parts(t, pw)
	outer.contents[0] = tEncryptedContent(t, tPBES2(t, tHuge, salt, iv), make([]byte, 64))

	hostile := map[string][]byte{
		"MAC 2^31-1":                   tPatchMAC(t, orig, func(md *pfxMacData) { md.Iterations = tHuge }),
		"encryptedData 2^31-1":         outer.encode(t),
		"key bag inside encryptedData": inner.encode(t),
	}
	for name, pfx := range hostile {
		t.Run(name, func(t *testing.T) {
			c := &Bundle{}
			for _, f := range b.Files() {
				require.NoError(t, c.Set(f.Path, bytes.Clone(f.Data)))
			}
			require.NoError(t, c.Set(CloudPFXPath, pfx))
			err := tWithin(t, 10*time.Second, func() error { return Validate(c, ValidateOptions{}) })
			require.Error(t, err)
			var found bool
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *FileError
				if errors.As(e, &fe) && fe.Path == CloudPFXPath && errors.Is(fe, ErrInvalid) && strings.Contains(fe.Error(), "cannot be opened") {
					found = true
				}
			}
			require.True(t, found, "no cert.pfx error in %v", err)
			require.NotContains(t, err.Error(), pw)
		})
	}
}

// --- the primitives ---

func TestRC2(t *testing.T) {
	var seen [256]bool
	for _, v := range rc2PITable {
		require.False(t, seen[v], "PITABLE repeats %#x", v)
		seen[v] = true
	}
	// RFC 2268 section 5: key 88bca90e90875a, 64 effective bits.
	c, err := newRC2(tHex(t, "88bca90e90875a"), 64)
	require.NoError(t, err)
	out := make([]byte, 8)
	c.Encrypt(out, make([]byte, 8))
	require.Equal(t, "6ccf4308974c267f", hex.EncodeToString(out))
	c.Decrypt(out, out)
	require.Equal(t, make([]byte, 8), out)
}

// TestRC2AgainstOpenSSL decrypts what OpenSSL encrypts with RC2-40 and
// RC2-128 in CBC mode, the two variants PKCS#12 uses.
func TestRC2AgainstOpenSSL(t *testing.T) {
	openssl := tOpenSSL(t)
	dir := t.TempDir()
	for name, keyLen := range map[string]int{"rc2-40-cbc": 5, "rc2-cbc": 16} {
		t.Run(name, func(t *testing.T) {
			key, iv, pt := tRandom(t, keyLen), tRandom(t, 8), tRandom(t, 64)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "pt"), pt, 0o600))
			tRun(t, dir, openssl, "enc", "-e", "-"+name, "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(iv),
				"-nopad", "-provider", "legacy", "-provider", "default", "-in", "pt", "-out", "ct")
			ct, err := os.ReadFile(filepath.Join(dir, "ct"))
			require.NoError(t, err)
			block, err := newRC2Cipher(key)
			require.NoError(t, err)
			got := make([]byte, len(ct))
			cipher.NewCBCDecrypter(block, iv).CryptBlocks(got, ct)
			require.Equal(t, pt, got)
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(got, pt)
			require.Equal(t, ct, got)
		})
	}
}

func tHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// FuzzCheckPFXWork feeds damaged PKCS#12 files to checkPFXWork, and to
// go-pkcs12 whenever the check lets one through: nothing may panic, and
// every refusal is one of the fixed messages.
//
//	go test ./scb -run '^$' -fuzz FuzzCheckPFXWork -fuzztime 30s
func FuzzCheckPFXWork(f *testing.F) {
	id := newTPFXIdentity(f)
	for _, enc := range []*pkcs12.Encoder{pkcs12.Modern2023, pkcs12.Modern2026, pkcs12.LegacyDES, pkcs12.LegacyRC2} {
		pfx, err := enc.WithIterations(4).Encode(id.key, id.leaf, []*x509.Certificate{id.ca}, tPFXPassword)
		require.NoError(f, err)
		f.Add(pfx)
	}
	f.Add(id.parts(f, tPFXPassword).encode(f))
	f.Add(tPatchMAC(f, id.parts(f, tPFXPassword).encode(f), func(md *pfxMacData) { md.Iterations = tHuge }))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkPFXWork(data, tPFXPassword)
		if err != nil {
			require.Regexp(t, tPFXErrors, err.Error())
			return
		}
		pkcs12.DecodeChain(data, tPFXPassword)
	})
}
