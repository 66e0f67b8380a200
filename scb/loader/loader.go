package loader

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scbkit/scbkit/scb"
)

// Options control Open, Decode and Load. The zero value is usable: no
// signature check, the system clock, default archive limits, and expired
// bundles refused.
type Options struct {
	// KeyPassphrase decrypts certificates/client-key.pem when the bundle
	// was generated with an encrypted key. Without it (or with a wrong one)
	// loading fails with an error wrapping scb.ErrPassphrase. It is never
	// printed or logged.
	KeyPassphrase []byte

	// Verify, when set, is called with the decoded bundle after every file
	// has been checked against manifest.json and before anything in it is
	// used. A non-nil error rejects the bundle (Stage StageSignature, the
	// error wrapped unchanged). It is the hook for signature verification
	// (package verify); nil means no signature check.
	Verify func(*scb.Bundle) error

	// Now is the clock for validity checks and server certificate
	// verification. Nil means time.Now.
	Now func() time.Time

	// Environments, when non-empty, lists the environments whose bundles
	// are accepted (metadata.json "environment"); any other is refused
	// with an error wrapping ErrEnvironment. A production service sets
	// []string{"production"} so a development or testing bundle can never
	// be deployed to it by mistake. Combine with Verify: metadata is only
	// trustworthy when the bundle is signed.
	Environments []string

	// InsecureAllowExpired loads bundles whose client certificate has
	// expired or is not yet valid. FOR TESTS ONLY: the cluster will refuse
	// such a certificate anyway, and production code must never set it.
	InsecureAllowExpired bool

	// Limits bound what is read from an untrusted archive. Zero fields
	// take scb's defaults.
	Limits scb.Limits
}

// String describes the options with the passphrase redacted.
func (o Options) String() string {
	return fmt.Sprintf("loader.Options{KeyPassphrase: %s, Verify: %t, InsecureAllowExpired: %t}",
		redacted(o.KeyPassphrase), o.Verify != nil, o.InsecureAllowExpired)
}

// Format prints String for every verb, so the passphrase never prints.
func (o Options) Format(f fmt.State, _ rune) { io.WriteString(f, o.String()) }

func redacted(b []byte) string {
	if len(b) == 0 {
		return "<none>"
	}
	return "<redacted>"
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Source supplies bundle material for new connections. *Bundle (a fixed
// bundle) and *Watcher (a bundle that is reloaded when its file changes)
// implement it; the driver adapters accept either.
type Source interface {
	// Current returns the bundle new connections should use now. It is
	// never nil.
	Current() *Bundle
	// TLSConfig returns the client TLS configuration for new connections.
	// Its ServerName is empty unless the bundle names one: set it to the
	// node's host (Dialer does) so hostname verification can work.
	TLSConfig() *tls.Config
}

// Endpoint is one contact point.
type Endpoint struct {
	Host string
	Port int
}

// String returns "host:port" ("[v6]:port" for IPv6).
func (e Endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Endpoints say where the cluster is.
type Endpoints struct {
	// ContactPoints from config/cassandra.yaml, in order.
	ContactPoints []Endpoint
	// LocalDatacenter is the client's datacenter, for DC-aware routing.
	LocalDatacenter string
	// Clusters from metadata.json, each with its role ("primary" or
	// "failover").
	Clusters []scb.ClusterInfo
}

// Bundle is an opened, checked secure connection bundle: the parsed
// metadata and configuration and the client TLS material. It is immutable
// and safe for concurrent use. It holds the client's private key and
// never prints it: String, GoString, Format, LogValue and MarshalJSON all
// redact.
type Bundle struct {
	raw      *scb.Bundle
	meta     *scb.Metadata
	cfg      *scb.ClientConfig
	manifest *scb.Manifest
	digest   [32]byte // of manifest.json: identifies the content
	eps      []Endpoint
	mat      *material
	// Only the clock and the expiry override are kept: never the
	// passphrase.
	now          func() time.Time
	allowExpired bool
}

var (
	_ Source         = (*Bundle)(nil)
	_ slog.LogValuer = (*Bundle)(nil)
	_ fmt.Formatter  = (*Bundle)(nil)
	_ json.Marshaler = (*Bundle)(nil)
)

// Open reads the bundle at path (a zip or tar.gz file, or a bundle
// directory), checks it and prepares its TLS material. Nothing is
// extracted to disk. Errors are *Error values (see Stage for what each
// stage wraps); an fs error for a missing file is wrapped at StageArchive.
func Open(path string, opts Options) (*Bundle, error) {
	raw, err := readBundle(path, opts.Limits)
	if err != nil {
		return nil, &Error{Source: path, Stage: StageArchive, Err: err}
	}
	return load(path, raw, opts)
}

// smallArchive is the size up to which Open reads an archive with one
// read instead of many small ones (a typical bundle is 10–20 KiB).
const smallArchive = 4 << 20

func readBundle(path string, lim scb.Limits) (*scb.Bundle, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() || fi.Size() > smallArchive {
		return scb.ReadFile(path, lim)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return scb.Decode(bytes.NewReader(data), int64(len(data)), lim)
}

// Decode reads a zip or tar.gz bundle of the given size from r and checks
// it like Open.
func Decode(r io.ReaderAt, size int64, opts Options) (*Bundle, error) {
	raw, err := scb.Decode(r, size, opts.Limits)
	if err != nil {
		return nil, &Error{Stage: StageArchive, Err: err}
	}
	return load("", raw, opts)
}

// Load checks an in-memory bundle (for example one just made by scb.Build)
// like Open. The bundle must not be modified afterwards.
func Load(b *scb.Bundle, opts Options) (*Bundle, error) {
	if b == nil {
		return nil, &Error{Stage: StageArchive, Err: errors.New("nil bundle")}
	}
	return load("", b, opts)
}

// loaderRequired are the files Load needs; README.md and the profile are
// only checked through the manifest.
var loaderRequired = []string{scb.MetadataPath, scb.ManifestPath, scb.CACertPath, scb.ClientCertPath, scb.ClientKeyPath, scb.ClientYAMLPath}

func load(source string, raw *scb.Bundle, opts Options) (*Bundle, error) {
	fail := func(st Stage, err error) (*Bundle, error) {
		return nil, &Error{Source: source, Stage: st, Err: err}
	}
	// 1. Completeness and digests.
	var missing []error
	for _, p := range loaderRequired {
		switch d, ok := raw.Get(p); {
		case !ok:
			missing = append(missing, &scb.FileError{Path: p, Err: scb.ErrMissingFile})
		case len(d) == 0:
			missing = append(missing, &scb.FileError{Path: p, Err: scb.ErrEmptyFile})
		}
	}
	if len(missing) > 0 {
		return fail(StageManifest, errors.Join(missing...))
	}
	manifest, err := scb.CheckManifest(raw)
	if err != nil {
		return fail(StageManifest, err)
	}
	// 2. Signature hook.
	if opts.Verify != nil {
		if err := opts.Verify(raw); err != nil {
			return fail(StageSignature, err)
		}
	}
	// 3. Metadata and configuration.
	meta, err := raw.Metadata()
	if err != nil {
		return fail(StageContent, err)
	}
	if len(opts.Environments) > 0 && !slices.Contains(opts.Environments, meta.Environment) {
		return fail(StageContent, fmt.Errorf("%w: bundle is for %q, this service accepts %s", ErrEnvironment, meta.Environment, strings.Join(opts.Environments, ", ")))
	}
	cfgData, _ := raw.Get(scb.ClientYAMLPath)
	cfg, err := scb.ParseClientConfig(cfgData)
	if err != nil {
		if ep := badContactPoint(cfgData); ep != nil {
			return fail(StageContent, &scb.FileError{Path: scb.ClientYAMLPath, Err: ep})
		}
		return fail(StageContent, err)
	}
	invalid := func(p, format string, a ...any) (*Bundle, error) {
		return fail(StageContent, &scb.FileError{Path: p, Err: fmt.Errorf("%w: "+format, append([]any{scb.ErrInvalid}, a...)...)})
	}
	if err := cfg.Connection.Validate(); err != nil {
		return invalid(scb.ClientYAMLPath, "connection: %v", err)
	}
	minTLS, err := parseTLSVersion(cfg.TLS.MinVersion)
	if err != nil {
		return invalid(scb.ClientYAMLPath, "tls: %v", err)
	}
	if cfg.TLS.ServerName != "" {
		if _, _, err := scb.SplitHostPort(cfg.TLS.ServerName, 1); err != nil {
			return invalid(scb.ClientYAMLPath, "tls server_name: %v", err)
		}
	}
	eps := make([]Endpoint, 0, len(cfg.ContactPoints))
	for _, cp := range cfg.ContactPoints {
		h, p, err := scb.SplitHostPort(cp, 0)
		if err != nil {
			return fail(StageContent, &scb.FileError{Path: scb.ClientYAMLPath, Err: endpointError(err)})
		}
		eps = append(eps, Endpoint{Host: h, Port: p})
	}
	for _, c := range meta.Clusters {
		for _, ep := range c.Endpoints {
			if _, _, err := scb.SplitHostPort(ep, 0); err != nil {
				return fail(StageContent, &scb.FileError{Path: scb.MetadataPath, Err: endpointError(fmt.Errorf("cluster %q: %w", c.Name, err))})
			}
		}
	}
	// 4. Certificates and key. The trust anchors come from
	// certificates/ca-cert.pem only, whatever the configuration says.
	caPEM, _ := raw.Get(scb.CACertPath)
	roots, err := scb.ParseCertificatesPEM(caPEM)
	if err != nil {
		return invalid(scb.CACertPath, "%v", err)
	}
	chainPEM, _ := raw.Get(scb.ClientCertPath)
	chain, err := scb.ParseCertificatesPEM(chainPEM)
	if err != nil {
		return invalid(scb.ClientCertPath, "%v", err)
	}
	leaf := chain[0]
	keyPEM, _ := raw.Get(scb.ClientKeyPath)
	key, err := scb.ParsePrivateKeyPEM(keyPEM, opts.KeyPassphrase)
	if err != nil {
		return fail(StageKey, &scb.FileError{Path: scb.ClientKeyPath, Err: err})
	}
	if !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return fail(StageKey, &scb.FileError{Path: scb.ClientKeyPath, Err: fmt.Errorf("%w: private key does not match the client certificate", scb.ErrInvalid)})
	}
	// 5. Validity, then the chain at a time the leaf is valid.
	now := opts.now()
	at := now
	if err := checkValidity(leaf, now); err != nil {
		if !opts.InsecureAllowExpired {
			return fail(StageValidity, err)
		}
		at = clamp(now, leaf.NotBefore, leaf.NotAfter)
	}
	rootPool := x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: rootPool, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		var ci x509.CertificateInvalidError
		if errors.As(err, &ci) && ci.Reason == x509.Expired && ci.Cert != nil {
			if verr := checkValidity(ci.Cert, at); verr != nil {
				return fail(StageValidity, verr)
			}
		}
		return invalid(scb.ClientCertPath, "client certificate does not chain to %s: %v", scb.CACertPath, err)
	}
	if scb.Fingerprint(roots[0]) != meta.CA.FingerprintSHA256 {
		return invalid(scb.MetadataPath, "CA fingerprint does not match %s", scb.CACertPath)
	}
	if !leaf.NotAfter.Equal(meta.ExpiresAt) {
		return invalid(scb.MetadataPath, "expires_at differs from the client certificate's NotAfter")
	}
	// 6. TLS material.
	der := make([][]byte, len(chain))
	for i, c := range chain {
		der[i] = c.Raw
	}
	manifestData, _ := raw.Get(scb.ManifestPath)
	b := &Bundle{
		raw: raw, meta: meta, cfg: cfg, manifest: manifest, eps: eps,
		now: opts.Now, allowExpired: opts.InsecureAllowExpired,
		digest: sha256.Sum256(manifestData),
		mat: &material{
			cert:       tls.Certificate{Certificate: der, PrivateKey: key, Leaf: leaf},
			chain:      chain,
			roots:      rootPool,
			rootCerts:  roots,
			hostVerify: cfg.TLS.HostnameVerification,
			serverName: cfg.TLS.ServerName,
			minVersion: minTLS,
		},
	}
	return b, nil
}

// badContactPoint finds the malformed contact point that made
// config/cassandra.yaml fail to parse, if that was the reason.
func badContactPoint(data []byte) error {
	var doc struct {
		ContactPoints []string `yaml:"contact_points"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	for _, cp := range doc.ContactPoints {
		if _, _, err := scb.SplitHostPort(cp, 0); err != nil {
			return endpointError(err)
		}
	}
	return nil
}

func endpointError(err error) error {
	return fmt.Errorf("%w: %w: %v", scb.ErrInvalid, ErrEndpoint, err)
}

func clamp(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

func parseTLSVersion(s string) (uint16, error) {
	switch s {
	case "", "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unsupported minimum TLS version %q (valid: 1.2, 1.3)", s)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// Current returns b itself: a Bundle is a Source that never changes.
func (b *Bundle) Current() *Bundle { return b }

// Raw returns the files of the bundle. They include the private key: do
// not print or log their content, and do not modify them.
func (b *Bundle) Raw() *scb.Bundle { return b.raw }

// Metadata returns a copy of metadata.json. Slices are shared: do not
// modify them.
func (b *Bundle) Metadata() *scb.Metadata { m := *b.meta; return &m }

// ClientConfig returns a copy of config/cassandra.yaml. Slices are shared:
// do not modify them.
func (b *Bundle) ClientConfig() *scb.ClientConfig { c := *b.cfg; return &c }

// Manifest returns the parsed manifest.json.
func (b *Bundle) Manifest() *scb.Manifest { return b.manifest }

// Endpoints returns the contact points, local datacenter and clusters.
func (b *Bundle) Endpoints() Endpoints {
	return Endpoints{
		ContactPoints:   append([]Endpoint(nil), b.eps...),
		LocalDatacenter: b.cfg.LocalDatacenter,
		Clusters:        append([]scb.ClusterInfo(nil), b.meta.Clusters...),
	}
}

// Username is the username recorded in the bundle, if it was generated
// with one, or "". Passwords are never stored in a bundle: pass them to
// the connector.
func (b *Bundle) Username() string { return b.cfg.Auth.Username }

// Params are the connection parameters (timeouts, consistency, retry,
// pool, load balancing, compression, hostname verification, minimum TLS
// version).
func (b *Bundle) Params() scb.ConnectionParams { return b.cfg.Connection }

// HostnameVerification reports whether server certificates are checked
// against the node's host name (on unless the bundle was generated for
// tests with it off).
func (b *Bundle) HostnameVerification() bool { return b.mat.hostVerify }

// Certificate returns the client leaf certificate.
func (b *Bundle) Certificate() *x509.Certificate { return b.mat.cert.Leaf }

// CertificateChain returns the client leaf followed by its intermediates.
func (b *Bundle) CertificateChain() []*x509.Certificate {
	return append([]*x509.Certificate(nil), b.mat.chain...)
}

// CACertificates returns the trust anchors of certificates/ca-cert.pem.
func (b *Bundle) CACertificates() []*x509.Certificate {
	return append([]*x509.Certificate(nil), b.mat.rootCerts...)
}

// CheckValidity reports whether the client certificate is valid now (by
// the Options clock): nil, or a *ValidityError wrapping ErrExpired or
// ErrNotYetValid. With InsecureAllowExpired it always returns nil. The
// driver adapters call it before dialling.
func (b *Bundle) CheckValidity() error {
	if b.allowExpired {
		return nil
	}
	now := time.Now()
	if b.now != nil {
		now = b.now()
	}
	return checkValidity(b.mat.cert.Leaf, now)
}

// TLSConfig returns a new client TLS configuration: the bundle's client
// certificate and key, server certificates verified against
// certificates/ca-cert.pem only (never the system roots), TLS 1.2 or the
// bundle's minimum, and hostname verification as the bundle says. Its
// ServerName is empty unless the bundle sets server_name, so callers that
// dial by hand must set it to the node's host (tls.Dial and Dialer do);
// crypto/tls refuses to connect without one while hostname verification
// is on. Each call returns a new configuration the caller may modify.
func (b *Bundle) TLSConfig() *tls.Config { return b.mat.staticConfig(b.now) }

// String describes the bundle without any secret.
func (b *Bundle) String() string {
	if b == nil {
		return "loader.Bundle(<nil>)"
	}
	return fmt.Sprintf("loader.Bundle{cluster: %q, client: %q, bundle_id: %q, expires: %s, key: <redacted>}",
		b.meta.ClusterName, b.meta.ClientID, b.meta.BundleID, b.mat.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// GoString is String, so %#v cannot print the key.
func (b *Bundle) GoString() string { return b.String() }

// Format prints String for every verb, so no verb can reach the key.
func (b *Bundle) Format(f fmt.State, _ rune) { io.WriteString(f, b.String()) }

// LogValue implements slog.LogValuer without any secret.
func (b *Bundle) LogValue() slog.Value {
	if b == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("cluster", b.meta.ClusterName),
		slog.String("client_id", b.meta.ClientID),
		slog.String("bundle_id", b.meta.BundleID),
		slog.String("client_cert_sha256", scb.Fingerprint(b.mat.cert.Leaf)),
		slog.Time("expires_at", b.mat.cert.Leaf.NotAfter.UTC()),
	)
}

// MarshalJSON encodes a summary without any secret.
func (b *Bundle) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	err := json.NewEncoder(&buf).Encode(struct {
		Cluster   string    `json:"cluster_name"`
		ClientID  string    `json:"client_id"`
		BundleID  string    `json:"bundle_id"`
		ExpiresAt time.Time `json:"expires_at"`
		ClientFP  string    `json:"client_cert_sha256"`
	}{b.meta.ClusterName, b.meta.ClientID, b.meta.BundleID, b.mat.cert.Leaf.NotAfter.UTC(), scb.Fingerprint(b.mat.cert.Leaf)})
	return bytes.TrimSpace(buf.Bytes()), err
}
