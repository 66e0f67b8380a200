package scb_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/youmark/pkcs8"

	"github.com/scbkit/scbkit/scb"
)

// Mirrors of the PKCS#8 / PBES2 structures, to craft hostile keys.
type tEncInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}
type tPBES2 struct{ KDF, Cipher pkix.AlgorithmIdentifier }
type tPBKDF2 struct {
	Salt       []byte
	Iterations int
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}
type tScrypt struct {
	Salt    []byte
	N, R, P int
}

func raw(t testing.TB, v any) asn1.RawValue {
	t.Helper()
	b, err := asn1.Marshal(v)
	require.NoError(t, err)
	return asn1.RawValue{FullBytes: b}
}

// encryptedKeyPEM encrypts key with a cheap KDF so that tests and the
// fuzzer run fast.
func encryptedKeyPEM(t testing.TB, key crypto.Signer, pass string, opts *pkcs8.Opts) []byte {
	t.Helper()
	der, err := pkcs8.MarshalPrivateKey(key, []byte(pass), opts)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

var cheapAES = &pkcs8.Opts{Cipher: pkcs8.AES256CBC, KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 8, IterationCount: 16, HMACHash: crypto.SHA256}}

// mutateEncrypted decodes an encrypted key, lets f change its structures
// and encodes it again.
func mutateEncrypted(t testing.TB, pemData []byte, f func(info *tEncInfo, p *tPBES2)) []byte {
	t.Helper()
	blk, _ := pem.Decode(pemData)
	var info tEncInfo
	_, err := asn1.Unmarshal(blk.Bytes, &info)
	require.NoError(t, err)
	var p tPBES2
	_, err = asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &p)
	require.NoError(t, err)
	f(&info, &p)
	info.Algorithm.Parameters = raw(t, p)
	der, err := asn1.Marshal(info)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// keyErrorMessages is the closed set of messages ParsePrivateKeyPEM may
// return: none of them can carry bytes of the input.
var keyErrorMessages = regexp.MustCompile(`^(` +
	`no PKCS#8 private key found` +
	`|no PKCS#8 private key found: found a "(RSA|EC) PRIVATE KEY" block; convert it to PKCS#8` +
	`|wrong or missing passphrase for encrypted private key` +
	`|malformed PKCS#8 private key` +
	`|unsupported private key type \*?[A-Za-z0-9_.]+` +
	`|encrypted private key: [A-Za-z0-9 ().,#-]+` +
	`)$`)

func TestParsePrivateKeyPEMHostileEncryption(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	good := encryptedKeyPEM(t, key, "pw", cheapAES)
	k, err := scb.ParsePrivateKeyPEM(good, []byte("pw"))
	require.NoError(t, err)
	require.True(t, key.Public().(*ecdsa.PublicKey).Equal(k.Public()))
	_, err = scb.ParsePrivateKeyPEM(good, []byte("wrong"))
	require.ErrorIs(t, err, scb.ErrPassphrase)
	_, err = scb.ParsePrivateKeyPEM(good, nil)
	require.ErrorIs(t, err, scb.ErrPassphrase)

	kdf := func(iter int) func(*tEncInfo, *tPBES2) {
		return func(_ *tEncInfo, p *tPBES2) {
			var k tPBKDF2
			_, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &k)
			require.NoError(t, err)
			k.Iterations = iter
			p.KDF.Parameters = raw(t, k)
		}
	}
	oid := func(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }
	cases := map[string]func(*tEncInfo, *tPBES2){
		"iv too short":        func(_ *tEncInfo, p *tPBES2) { p.Cipher.Parameters = raw(t, []byte{1, 2, 3}) },
		"iv empty":            func(_ *tEncInfo, p *tPBES2) { p.Cipher.Parameters = raw(t, []byte{}) },
		"iv too long":         func(_ *tEncInfo, p *tPBES2) { p.Cipher.Parameters = raw(t, make([]byte, 32)) },
		"iv not octets":       func(_ *tEncInfo, p *tPBES2) { p.Cipher.Parameters = raw(t, 7) },
		"ciphertext partial":  func(i *tEncInfo, _ *tPBES2) { i.Data = i.Data[:len(i.Data)-1] },
		"ciphertext empty":    func(i *tEncInfo, _ *tPBES2) { i.Data = nil },
		"iterations huge":     kdf(1 << 30),
		"iterations max int":  kdf(1<<31 - 1),
		"iterations zero":     kdf(0),
		"iterations negative": kdf(-5),
		"scrypt huge": func(_ *tEncInfo, p *tPBES2) {
			p.KDF = pkix.AlgorithmIdentifier{Algorithm: oid(1, 3, 6, 1, 4, 1, 11591, 4, 11), Parameters: raw(t, tScrypt{Salt: []byte("salt"), N: 1 << 24, R: 8, P: 1})}
		},
		"scrypt r huge": func(_ *tEncInfo, p *tPBES2) {
			p.KDF = pkix.AlgorithmIdentifier{Algorithm: oid(1, 3, 6, 1, 4, 1, 11591, 4, 11), Parameters: raw(t, tScrypt{Salt: []byte("salt"), N: 2, R: 1 << 28, P: 1})}
		},
		"gcm":            func(_ *tEncInfo, p *tPBES2) { p.Cipher.Algorithm = oid(2, 16, 840, 1, 101, 3, 4, 1, 46) },
		"unknown kdf":    func(_ *tEncInfo, p *tPBES2) { p.KDF.Algorithm = oid(1, 2, 3, 4) },
		"not pbes2":      func(i *tEncInfo, _ *tPBES2) { i.Algorithm.Algorithm = oid(1, 2, 840, 113549, 1, 5, 3) },
		"kdf params bad": func(_ *tEncInfo, p *tPBES2) { p.KDF.Parameters = raw(t, "nonsense") },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			hostile := mutateEncrypted(t, good, f)
			var err error
			start := time.Now()
			require.NotPanics(t, func() { _, err = scb.ParsePrivateKeyPEM(hostile, []byte("pw")) })
			require.Error(t, err)
			require.Less(t, time.Since(start), 2*time.Second, "a hostile key made the parser work for %s", time.Since(start))
			require.Regexp(t, keyErrorMessages, err.Error())
		})
	}

	t.Run("garbage der", func(t *testing.T) {
		_, err := scb.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("garbage")}), []byte("pw"))
		require.Error(t, err)
		require.Regexp(t, keyErrorMessages, err.Error())
	})
	t.Run("bounded scrypt and 3DES still work", func(t *testing.T) {
		for _, opts := range []*pkcs8.Opts{
			{Cipher: pkcs8.AES128CBC, KDFOpts: pkcs8.ScryptOpts{SaltSize: 16, CostParameter: 1 << 10, BlockSize: 8, ParallelizationParameter: 1}},
			{Cipher: pkcs8.TripleDESCBC, KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 8, IterationCount: 2048, HMACHash: crypto.SHA1}},
		} {
			k, err := scb.ParsePrivateKeyPEM(encryptedKeyPEM(t, key, "pw", opts), []byte("pw"))
			require.NoError(t, err)
			require.True(t, key.Public().(*ecdsa.PublicKey).Equal(k.Public()))
		}
	})
}

// TestParsePrivateKeyPEMFromOpenSSL reads keys OpenSSL writes with its
// usual encryption settings, so the parameter checks refuse nothing real.
func TestParsePrivateKeyPEMFromOpenSSL(t *testing.T) {
	openssl := needTool(t, "openssl", "openssl")
	dir := t.TempDir()
	mustRun(t, dir, openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "plain.pem")
	variants := map[string][]string{
		"default":     {"pkcs8", "-topk8", "-in", "plain.pem", "-passout", "pass:pw"},
		"aes-128":     {"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-in", "plain.pem", "-passout", "pass:pw"},
		"des3-sha1":   {"pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1", "-in", "plain.pem", "-passout", "pass:pw"},
		"scrypt":      {"pkcs8", "-topk8", "-scrypt", "-in", "plain.pem", "-passout", "pass:pw"},
		"iter-600000": {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "600000", "-in", "plain.pem", "-passout", "pass:pw"},
		"genpkey":     {"pkey", "-in", "plain.pem", "-aes-256-cbc", "-passout", "pass:pw"},
	}
	plain, err := scb.ParsePrivateKeyPEM(readFile(t, filepath.Join(dir, "plain.pem")), nil)
	require.NoError(t, err)
	for name, args := range variants {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name+".pem")
			mustRun(t, dir, openssl, append(args, "-out", out)...)
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			require.True(t, scb.IsEncryptedKeyPEM(data), "%s", data)
			k, err := scb.ParsePrivateKeyPEM(data, []byte("pw"))
			require.NoError(t, err)
			require.True(t, plain.Public().(*ecdsa.PublicKey).Equal(k.Public()))
			_, err = scb.ParsePrivateKeyPEM(data, []byte("not pw"))
			require.ErrorIs(t, err, scb.ErrPassphrase)
		})
	}
}

// TestKeyErrorsNeverEchoInput feeds keys damaged in many ways and checks
// each error is one of the fixed messages and contains no base64 of the
// key.
func TestKeyErrorsNeverEchoInput(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	plain, err := scb.MarshalPrivateKeyPEM(key, nil)
	require.NoError(t, err)
	blk, _ := pem.Decode(plain)
	body := strings.Join(strings.Split(string(plain), "\n")[1:3], "")
	inputs := [][]byte{
		[]byte(strings.Replace(string(plain), "PRIVATE KEY", "RSA PRIVATE KEY", 2)),
		[]byte(strings.Replace(string(plain), "PRIVATE KEY", "EC PRIVATE KEY", 2)),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: blk.Bytes[:len(blk.Bytes)/2]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: append([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, blk.Bytes...)}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: blk.Bytes}),
		[]byte(body),
		[]byte("-----BEGIN PRIVATE KEY-----\n" + body + "\n"),
	}
	for i, in := range inputs {
		_, err := scb.ParsePrivateKeyPEM(in, nil)
		require.Error(t, err, "input %d", i)
		require.Regexp(t, keyErrorMessages, err.Error(), "input %d", i)
		require.NotContains(t, err.Error(), body[:16])
		var fe *scb.FileError
		require.False(t, errors.As(err, &fe))
	}
}
