// Package ca provides the certificate authorities behind scb.CA.
//
// Local is a two-level CA (a self-signed root and one intermediate that
// signs every leaf) that lives either in memory (New, for tests and
// embedding) or in a directory (Init, Open). On disk the directory is 0700,
// every file 0600, and both private keys are encrypted PKCS#8 (PBES2,
// PBKDF2-SHA256, AES-256-CBC) unless the caller explicitly asks for
// unencrypted keys, which is meant for development only.
//
//	root-cert.pem          self-signed root, the trust anchor put in bundles
//	root-key.pem           root key, used only to sign intermediates
//	intermediate-cert.pem  signs client and server certificates
//	intermediate-key.pem
//	ca.json                key type, creation time, whether keys are encrypted
//
// IssueServer issues server certificates for Cassandra nodes and gateways in
// the form Cassandra's PEMBasedSslContextFactory accepts.
package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
)

// Errors returned by this package.
var (
	// ErrNotFound means the directory holds no CA.
	ErrNotFound = errors.New("no CA found")
	// ErrExists means Init found a CA already in the directory.
	ErrExists = errors.New("a CA already exists")
	// ErrUnencrypted means a CA was to be written without a passphrase and
	// InsecureUnencryptedKeys was not set.
	ErrUnencrypted = errors.New("refusing to write CA keys unencrypted without an explicit override")
)

// Config describes a new CA. The zero value is usable: an ECDSA P-256 root
// valid for ten years named "scbkit", with crypto/rand and the system clock.
type Config struct {
	// Name is put in the subjects: "<Name> Root CA", "<Name> Intermediate CA".
	// Empty means "scbkit".
	Name string
	// Organization for the subjects. Empty means "scbkit".
	Organization string
	// KeyType of the root and intermediate keys. Empty means scb.DefaultKeyType.
	KeyType scb.KeyType
	// Validity of the root. Zero means ten years. The intermediate gets the
	// same validity less one day so it never outlives the root.
	Validity time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the entropy source. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// Local is an in-process CA. It is safe for concurrent use.
type Local struct {
	mu        sync.Mutex
	root      *x509.Certificate
	rootKey   crypto.Signer
	inter     *x509.Certificate
	interKey  crypto.Signer
	keyType   scb.KeyType
	createdAt time.Time
	now       func() time.Time
	rand      io.Reader
}

var _ scb.CA = (*Local)(nil)

// clockSkew is how far before "now" certificates start to be valid.
const clockSkew = 5 * time.Minute

// New creates a CA in memory.
func New(cfg Config) (*Local, error) {
	if cfg.Name == "" {
		cfg.Name = "scbkit"
	}
	if cfg.Organization == "" {
		cfg.Organization = "scbkit"
	}
	kt := cfg.KeyType
	if kt == "" {
		kt = scb.DefaultKeyType
	}
	if _, err := scb.ParseCertificateKeyType(string(kt)); err != nil {
		return nil, err
	}
	if cfg.Validity == 0 {
		cfg.Validity = 10 * 365 * 24 * time.Hour
	}
	if cfg.Validity < 48*time.Hour {
		return nil, fmt.Errorf("CA validity %s is too short (minimum 48h)", cfg.Validity)
	}
	l := &Local{keyType: kt, now: cfg.Now, rand: cfg.Rand}
	if l.now == nil {
		l.now = time.Now
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	now := l.now().UTC()
	l.createdAt = now.Truncate(time.Second)
	var err error
	if l.rootKey, err = kt.GenerateKey(l.rand); err != nil {
		return nil, fmt.Errorf("generate root key: %w", err)
	}
	if l.interKey, err = kt.GenerateKey(l.rand); err != nil {
		return nil, fmt.Errorf("generate intermediate key: %w", err)
	}
	subject := func(cn string) pkix.Name {
		return pkix.Name{CommonName: cn, Organization: []string{cfg.Organization}}
	}
	rootTmpl := &x509.Certificate{
		Subject:               subject(cfg.Name + " Root CA"),
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(cfg.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	if l.root, err = l.sign(rootTmpl, l.rootKey.Public(), nil, l.rootKey); err != nil {
		return nil, fmt.Errorf("create root: %w", err)
	}
	interTmpl := &x509.Certificate{
		Subject:               subject(cfg.Name + " Intermediate CA"),
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(cfg.Validity - 24*time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	if l.inter, err = l.sign(interTmpl, l.interKey.Public(), l.root, l.rootKey); err != nil {
		return nil, fmt.Errorf("create intermediate: %w", err)
	}
	return l, nil
}

// sign fills serial and key identifiers and signs tmpl with signer, as
// issued by parent (self-signed when parent is nil).
func (l *Local) sign(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(l.rand, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(spki)
	tmpl.SubjectKeyId = ski[:20]
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(l.rand, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Issue implements scb.CA: it signs a leaf with the intermediate and returns
// the leaf followed by the intermediate.
func (l *Local) Issue(ctx context.Context, req *scb.CertificateRequest) ([]*x509.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil || req.PublicKey == nil {
		return nil, errors.New("certificate request has no public key")
	}
	if req.Subject.CommonName == "" {
		return nil, errors.New("certificate request has no common name")
	}
	now := l.now().UTC()
	nb := req.NotBefore
	if nb.IsZero() {
		nb = now.Add(-clockSkew)
	}
	na := req.NotAfter
	if !na.After(nb) {
		return nil, fmt.Errorf("certificate validity must be positive (not before %s, not after %s)", nb.Format(time.RFC3339), na.Format(time.RFC3339))
	}
	if na.After(l.inter.NotAfter) {
		return nil, fmt.Errorf("%w: certificate would expire %s, CA expires %s", scb.ErrValidityExceedsCA,
			na.UTC().Format(time.RFC3339), l.inter.NotAfter.UTC().Format(time.RFC3339))
	}
	usage := req.Usage
	if usage == 0 {
		usage = scb.UsageClient
	}
	var eku []x509.ExtKeyUsage
	if usage&scb.UsageServer != 0 {
		eku = append(eku, x509.ExtKeyUsageServerAuth)
	}
	if usage&scb.UsageClient != 0 {
		eku = append(eku, x509.ExtKeyUsageClientAuth)
	}
	ku := x509.KeyUsageDigitalSignature
	if scb.KeyTypeOf(req.PublicKey) == scb.KeyRSA2048 || scb.KeyTypeOf(req.PublicKey) == scb.KeyRSA3072 || scb.KeyTypeOf(req.PublicKey) == scb.KeyRSA4096 {
		ku |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		Subject:               req.Subject,
		DNSNames:              req.DNSNames,
		IPAddresses:           req.IPAddresses,
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              ku,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	leaf, err := l.sign(tmpl, req.PublicKey, l.inter, l.interKey)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return []*x509.Certificate{leaf, l.inter}, nil
}

// Roots implements scb.CA.
func (l *Local) Roots(ctx context.Context) ([]*x509.Certificate, error) {
	return []*x509.Certificate{l.root}, ctx.Err()
}

// Root returns the self-signed root certificate.
func (l *Local) Root() *x509.Certificate { return l.root }

// Intermediate returns the certificate that signs leaves.
func (l *Local) Intermediate() *x509.Certificate { return l.inter }

// KeyType returns the key type of the CA's own keys.
func (l *Local) KeyType() scb.KeyType { return l.keyType }

// String describes the CA without any key material.
func (l *Local) String() string {
	return fmt.Sprintf("ca.Local{root: %q, expires: %s}", l.root.Subject.CommonName, l.root.NotAfter.UTC().Format(time.RFC3339))
}

// File names inside a CA directory.
const (
	rootCertFile  = "root-cert.pem"
	rootKeyFile   = "root-key.pem"
	interCertFile = "intermediate-cert.pem"
	interKeyFile  = "intermediate-key.pem"
	stateFile     = "ca.json"
)

type state struct {
	Version   int         `json:"version"`
	KeyType   scb.KeyType `json:"key_type"`
	Encrypted bool        `json:"encrypted"`
	CreatedAt time.Time   `json:"created_at"`
}

// InitOptions control how Init writes a new CA.
type InitOptions struct {
	Config
	// Passphrase encrypts both CA keys. Required unless
	// InsecureUnencryptedKeys is set.
	Passphrase []byte
	// InsecureUnencryptedKeys writes the keys as plain PKCS#8. For
	// development only: anyone who can read the directory can then issue
	// certificates your clusters trust.
	InsecureUnencryptedKeys bool
}

// Init creates a new CA and stores it in dir (created 0700 if missing). It
// fails with ErrExists if dir already holds a CA, and with ErrUnencrypted if
// no passphrase is given without InsecureUnencryptedKeys. On failure no CA
// file is left behind.
func Init(dir string, opts InitOptions) (*Local, error) {
	if len(opts.Passphrase) == 0 && !opts.InsecureUnencryptedKeys {
		return nil, ErrUnencrypted
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil, fmt.Errorf("%w in %s", ErrExists, dir)
	}
	l, err := New(opts.Config)
	if err != nil {
		return nil, err
	}
	if err := l.save(dir, opts.Passphrase); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Local) save(dir string, passphrase []byte) (err error) {
	if err := atomicfile.MkdirPrivate(dir); err != nil {
		return fmt.Errorf("create CA directory: %w", err)
	}
	rootKey, err := scb.MarshalPrivateKeyPEM(l.rootKey, passphrase)
	if err != nil {
		return err
	}
	interKey, err := scb.MarshalPrivateKeyPEM(l.interKey, passphrase)
	if err != nil {
		return err
	}
	st, err := json.MarshalIndent(state{Version: 1, KeyType: l.keyType, Encrypted: len(passphrase) > 0, CreatedAt: l.createdAt}, "", "  ")
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{rootCertFile, scb.EncodeCertificatesPEM(l.root)},
		{rootKeyFile, rootKey},
		{interCertFile, scb.EncodeCertificatesPEM(l.inter)},
		{interKeyFile, interKey},
		{stateFile, append(st, '\n')}, // last: its presence marks a complete CA
	}
	var written []string
	defer func() {
		if err != nil {
			for _, w := range written {
				os.Remove(w)
			}
		}
	}()
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err = atomicfile.WriteFile(p, f.data, 0o600, false); err != nil {
			return fmt.Errorf("write CA: %w", err)
		}
		written = append(written, p)
	}
	return nil
}

// Exists reports whether dir holds a CA.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, stateFile))
	return err == nil
}

// IsEncrypted reports whether the CA in dir has encrypted keys.
func IsEncrypted(dir string) (bool, error) {
	st, err := readState(dir)
	if err != nil {
		return false, err
	}
	return st.Encrypted, nil
}

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNotFound, dir)
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil || st.Version != 1 {
		return nil, fmt.Errorf("corrupt CA state file %s", filepath.Join(dir, stateFile))
	}
	return &st, nil
}

// OpenOptions control Open.
type OpenOptions struct {
	// Passphrase decrypts the keys; ignored for unencrypted CAs.
	Passphrase []byte
	// Now and Rand as in Config.
	Now  func() time.Time
	Rand io.Reader
}

// Open loads the CA stored in dir. It fails with ErrNotFound when there is
// none, scb.ErrPassphrase when the passphrase is wrong or missing, and a
// descriptive error when files are corrupt or do not belong together.
func Open(dir string, opts OpenOptions) (*Local, error) {
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	l := &Local{keyType: st.KeyType, createdAt: st.CreatedAt, now: opts.Now, rand: opts.Rand}
	if l.now == nil {
		l.now = time.Now
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	readKey := func(name string) (crypto.Signer, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		k, err := scb.ParsePrivateKeyPEM(data, opts.Passphrase)
		if errors.Is(err, scb.ErrPassphrase) {
			return nil, fmt.Errorf("open CA key %s: %w", name, err)
		}
		if err != nil {
			return nil, fmt.Errorf("corrupt CA file %s: %w", name, err)
		}
		return k, nil
	}
	if l.root, l.inter, err = readCertificates(dir); err != nil {
		return nil, err
	}
	if l.interKey, err = readKey(interKeyFile); err != nil {
		return nil, err
	}
	if l.rootKey, err = readKey(rootKeyFile); err != nil {
		return nil, err
	}
	if err := l.inter.CheckSignatureFrom(l.root); err != nil {
		return nil, fmt.Errorf("corrupt CA: intermediate is not signed by root: %w", err)
	}
	if !scbPublicKeysEqual(l.inter.PublicKey, l.interKey.Public()) || !scbPublicKeysEqual(l.root.PublicKey, l.rootKey.Public()) {
		return nil, errors.New("corrupt CA: a key does not match its certificate")
	}
	return l, nil
}

func scbPublicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// Certificates reads the root and intermediate certificates of the CA in
// dir without touching its keys (no passphrase needed), for previews and
// expiry checks.
func Certificates(dir string) (root, intermediate *x509.Certificate, err error) {
	if _, err := readState(dir); err != nil {
		return nil, nil, err
	}
	return readCertificates(dir)
}

// readCertificates reads root-cert.pem and intermediate-cert.pem of dir.
func readCertificates(dir string) (root, intermediate *x509.Certificate, err error) {
	read := func(name string) (*x509.Certificate, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		certs, err := scb.ParseCertificatesPEM(data)
		if err != nil {
			return nil, fmt.Errorf("corrupt CA file %s: %w", name, err)
		}
		return certs[0], nil
	}
	if root, err = read(rootCertFile); err != nil {
		return nil, nil, err
	}
	if intermediate, err = read(interCertFile); err != nil {
		return nil, nil, err
	}
	return root, intermediate, nil
}
