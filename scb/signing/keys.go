package signing

import (
	"crypto"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
)

// GenerateKey creates a signing key of type kt, one of SigningKeyTypes
// (empty means ECDSA P-256). Randomness comes from crypto/rand; tests that
// need repeatable keys use testing/cryptotest.SetGlobalRandom. RSA keys
// take from 100 ms to seconds.
func GenerateKey(kt scb.KeyType) (crypto.Signer, error) {
	if kt == "" {
		kt = scb.KeyECDSAP256
	}
	if !slices.Contains(SigningKeyTypes, kt) {
		return nil, fmt.Errorf("%w: key type %q (valid: ecdsa-p256, ecdsa-p384, ed25519, rsa-3072, rsa-4096)", ErrUnsupportedKey, string(kt))
	}
	return kt.GenerateKey(nil)
}

// PrivateKeyEncoding says how a private key file is protected.
type PrivateKeyEncoding struct {
	// Passphrase encrypts the key (PKCS#8 PBES2: PBKDF2-HMAC-SHA-256,
	// AES-256-CBC; see scb.MarshalPrivateKeyPEM). Required unless
	// InsecureUnencrypted is set.
	Passphrase []byte
	// InsecureUnencrypted allows writing the key in clear when Passphrase
	// is empty. Anyone who can read the file can then sign bundles your
	// verifiers trust: use it for tests and throw-away development keys
	// only.
	InsecureUnencrypted bool
}

// String never shows the passphrase.
func (e PrivateKeyEncoding) String() string {
	return fmt.Sprintf("signing.PrivateKeyEncoding{Passphrase:<redacted> InsecureUnencrypted:%v}", e.InsecureUnencrypted)
}

// GoString is String.
func (e PrivateKeyEncoding) GoString() string { return e.String() }

// EncodePrivateKey returns key as PKCS#8 PEM, encrypted with
// enc.Passphrase. With no passphrase it fails with ErrUnencrypted unless
// enc.InsecureUnencrypted is set. It fails with ErrUnsupportedKey for keys
// that may not sign bundles.
func EncodePrivateKey(key crypto.Signer, enc PrivateKeyEncoding) ([]byte, error) {
	if _, err := AlgorithmOf(key.Public()); err != nil {
		return nil, err
	}
	if len(enc.Passphrase) == 0 && !enc.InsecureUnencrypted {
		return nil, ErrUnencrypted
	}
	return scb.MarshalPrivateKeyPEM(key, enc.Passphrase)
}

// WritePrivateKeyFile writes key (see EncodePrivateKey) to name with mode
// 0600, through a temporary file renamed into place, so the file is never
// readable by others nor seen half-written. An existing file is replaced
// only when overwrite is true; otherwise the error wraps
// scb.ErrExists.
func WritePrivateKeyFile(name string, key crypto.Signer, enc PrivateKeyEncoding, overwrite bool) error {
	data, err := EncodePrivateKey(key, enc)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(name, data, 0o600, overwrite)
}

// ParsePrivateKey decodes a PKCS#8 PEM signing key, decrypting it with
// passphrase if it is encrypted (scb.ErrPassphrase if that fails). It
// fails with ErrUnsupportedKey for keys that may not sign bundles. Errors
// never include key bytes.
func ParsePrivateKey(data, passphrase []byte) (crypto.Signer, error) {
	key, err := scb.ParsePrivateKeyPEM(data, passphrase)
	if err != nil {
		return nil, err
	}
	if _, err := AlgorithmOf(key.Public()); err != nil {
		return nil, err
	}
	return key, nil
}

// maxKeyFileSize bounds private key files.
const maxKeyFileSize = 64 << 10

// ReadPrivateKeyFile reads a key written by WritePrivateKeyFile (see
// ParsePrivateKey).
func ReadPrivateKeyFile(name string, passphrase []byte) (crypto.Signer, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a key file", name, maxKeyFileSize)
	}
	key, err := ParsePrivateKey(data, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return key, nil
}
