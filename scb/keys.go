package scb

import (
	"bytes"
	"crypto"
	"crypto/x509"
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
