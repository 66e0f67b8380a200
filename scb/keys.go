package scb

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/youmark/pkcs8"
)

// PEM block types for private keys. Only PKCS#8 is ever written: Cassandra's
// PEM support rejects PKCS#1 and SEC 1 keys.
const (
	pemPrivateKey          = "PRIVATE KEY"
	pemEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"
	pemCertificate         = "CERTIFICATE"
)

// Key-file errors.
var (
	// ErrPassphrase means an encrypted key could not be decrypted with the
	// passphrase given (or none was given).
	ErrPassphrase = errors.New("wrong or missing passphrase for encrypted private key")
	// ErrNoKey means no private key was found in the input.
	ErrNoKey = errors.New("no PKCS#8 private key found")
)

// keyEncryption is PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC: readable by
// OpenSSL, Java, Python cryptography, Node.js crypto and .NET.
var keyEncryption = &pkcs8.Opts{
	Cipher: pkcs8.AES256CBC,
	KDFOpts: pkcs8.PBKDF2Opts{
		SaltSize:       16,
		IterationCount: 100_000,
		HMACHash:       crypto.SHA256,
	},
}

// MarshalPrivateKeyPEM encodes key as a PKCS#8 PEM block. With a non-empty
// passphrase the block is "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-SHA256,
// AES-256-CBC); otherwise it is a plain "PRIVATE KEY".
func MarshalPrivateKeyPEM(key crypto.Signer, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("encode private key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(key, passphrase, keyEncryption)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedPrivateKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes the first PKCS#8 private key in data, decrypting
// it with passphrase when it is encrypted. Errors never include key bytes.
// An encrypted key with a wrong or empty passphrase gives ErrPassphrase.
func ParsePrivateKeyPEM(data, passphrase []byte) (crypto.Signer, error) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, ErrNoKey
		}
		switch b.Type {
		case pemPrivateKey:
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("malformed PKCS#8 private key")
			}
			return asSigner(k)
		case pemEncryptedPrivateKey:
			if len(passphrase) == 0 {
				return nil, ErrPassphrase
			}
			if err := checkKeyEncryption(b.Bytes); err != nil {
				return nil, err
			}
			k, _, err := pkcs8.ParsePrivateKey(b.Bytes, passphrase)
			if err != nil {
				return nil, ErrPassphrase
			}
			return asSigner(k)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return nil, fmt.Errorf("%w: found a %q block; convert it to PKCS#8", ErrNoKey, b.Type)
		}
	}
}

// Limits on the work an encrypted key may ask for. Ours use 100,000
// PBKDF2 iterations (about 35 ms); 2,000,000 is about 0.7 s.
const (
	maxPBKDF2Iterations = 2_000_000
	maxScryptMemory     = 256 << 20 // bytes: 128 * r * N
)

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	// cbcBlockSizes are the CBC ciphers github.com/youmark/pkcs8 decrypts
	// correctly (its "GCM" ones are really CBC), by OID.
	cbcBlockSizes = map[string]int{
		"2.16.840.1.101.3.4.1.2":  16, // AES-128-CBC
		"2.16.840.1.101.3.4.1.22": 16, // AES-192-CBC
		"2.16.840.1.101.3.4.1.42": 16, // AES-256-CBC
		"1.2.840.113549.3.7":      8,  // DES-EDE3-CBC
	}
)

// checkKeyEncryption looks at the PBES2 parameters of an encrypted PKCS#8
// key before anything is derived or decrypted. It refuses parameters that
// would make github.com/youmark/pkcs8 panic (an IV or ciphertext that does
// not fit the cipher's block size) or work without bound (a huge PBKDF2
// iteration count, scrypt parameters needing gigabytes), so a hostile key
// file can neither crash nor stall the caller. Errors never echo input.
func checkKeyEncryption(der []byte) error {
	bad := func(why string) error { return errors.New("encrypted private key: " + why) }
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}
	var params struct {
		KDF, Cipher pkix.AlgorithmIdentifier
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return bad("malformed structure")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return bad("unsupported encryption scheme (only PBES2 is supported)")
	}
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return bad("malformed PBES2 parameters")
	}
	block, ok := cbcBlockSizes[params.Cipher.Algorithm.String()]
	if !ok {
		return bad("unsupported cipher (use AES-CBC or DES-EDE3-CBC)")
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Cipher.Parameters.FullBytes, &iv); err != nil || len(iv) != block {
		return bad("malformed cipher IV")
	}
	if len(info.Data) == 0 || len(info.Data)%block != 0 {
		return bad("ciphertext is not a whole number of blocks")
	}
	switch {
	case params.KDF.Algorithm.Equal(oidPBKDF2):
		var p struct {
			Salt       []byte
			Iterations int
			PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &p); err != nil {
			return bad("malformed PBKDF2 parameters")
		}
		if p.Iterations < 1 || p.Iterations > maxPBKDF2Iterations {
			return bad(fmt.Sprintf("PBKDF2 iteration count out of range 1..%d", maxPBKDF2Iterations))
		}
	case params.KDF.Algorithm.Equal(oidScrypt):
		var p struct {
			Salt    []byte
			N, R, P int
		}
		if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &p); err != nil {
			return bad("malformed scrypt parameters")
		}
		if p.N < 2 || p.R < 1 || p.P < 1 || p.P > 16 || p.R > maxScryptMemory/128 || p.N > maxScryptMemory/128/p.R {
			return bad("scrypt parameters out of range")
		}
	default:
		return bad("unsupported key derivation function (use PBKDF2)")
	}
	return nil
}

// IsEncryptedKeyPEM reports whether data holds an encrypted PKCS#8 key.
func IsEncryptedKeyPEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "+pemEncryptedPrivateKey+"-----"))
}

func asSigner(k any) (crypto.Signer, error) {
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", k)
	}
	return s, nil
}

// EncodeCertificatesPEM encodes certs as consecutive CERTIFICATE blocks.
func EncodeCertificatesPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		pem.Encode(&buf, &pem.Block{Type: pemCertificate, Bytes: c.Raw})
	}
	return buf.Bytes()
}

// ParseCertificatesPEM decodes every CERTIFICATE block in data, in order.
// It fails if there is none or if any is malformed.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != pemCertificate {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("malformed certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return certs, nil
}

// publicKeysEqual reports whether a and b are the same public key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}
