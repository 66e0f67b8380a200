package scb

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Build issues a client certificate through req.CA and assembles a complete
// format-1 bundle in memory: certificates, neutral and per-driver
// configuration, the stock-driver files, README, metadata and manifest.
// Every input is validated before any key is generated, and the result is
// checked with Validate before it is returned, so a bundle from Build is
// always complete and consistent.
func Build(ctx context.Context, req Request) (*Bundle, error) {
	r, err := req.normalize()
	if err != nil {
		return nil, err
	}
	if r.CA == nil {
		return nil, errors.New("no CA configured")
	}
	now := r.Now().UTC().Truncate(time.Second)

	key, err := r.KeyType.GenerateKey(r.Rand)
	if err != nil {
		return nil, fmt.Errorf("generate client key: %w", err)
	}
	chain, err := r.CA.Issue(ctx, &CertificateRequest{
		PublicKey: key.Public(),
		Subject:   clientSubject(r),
		Usage:     UsageClient,
		NotBefore: now.Add(-5 * time.Minute),
		NotAfter:  now.Add(r.Validity),
	})
	if err != nil {
		return nil, fmt.Errorf("issue client certificate: %w", err)
	}
	if len(chain) == 0 {
		return nil, errors.New("issue client certificate: CA returned no certificate")
	}
	roots, err := r.CA.Roots(ctx)
	if err != nil {
		return nil, fmt.Errorf("CA roots: %w", err)
	}
	if len(roots) == 0 {
		return nil, errors.New("CA has no root certificate")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &assembly{req: r, now: now, key: key, chain: chain, roots: roots, b: &Bundle{}}
	if err := a.assemble(); err != nil {
		return nil, err
	}
	if err := Validate(a.b, ValidateOptions{KeyPassphrase: r.KeyPassphrase, Now: now}); err != nil {
		return nil, fmt.Errorf("generated bundle failed validation: %w", err)
	}
	return a.b, nil
}

func clientSubject(r *Request) pkix.Name {
	ou := r.Environment
	if r.Environment == "testing" {
		ou = "testing - NOT FOR PRODUCTION"
	}
	return pkix.Name{CommonName: r.ClientID, Organization: []string{r.ClusterName}, OrganizationalUnit: []string{ou}}
}

// Preview describes the bundle a Request would produce, computed without
// creating keys, certificates or files.
type Preview struct {
	// Files lists every path the bundle would hold with its size; sizes of
	// certificates, keys, keystores, metadata and manifest are estimates.
	Files []PreviewFile `json:"files"`
	// Metadata is what metadata.json would hold; identifiers, fingerprints
	// and serial numbers are placeholders.
	Metadata *Metadata `json:"metadata"`
	// Request is the normalised request: every default applied.
	Settings PreviewSettings `json:"settings"`
}

// PreviewFile is one entry of a Preview.
type PreviewFile struct {
	Path        string `json:"path"`
	Size        int    `json:"size"`
	Approximate bool   `json:"approximate"`
}

// PreviewSettings are the effective generation settings.
type PreviewSettings struct {
	ClusterName     string           `json:"cluster_name"`
	ClientID        string           `json:"client_id"`
	Environment     string           `json:"environment"`
	ContactPoints   []string         `json:"contact_points"`
	LocalDatacenter string           `json:"local_datacenter"`
	Gateway         GatewayInfo      `json:"gateway"`
	Validity        string           `json:"validity"`
	KeyType         KeyType          `json:"key_type"`
	KeyEncrypted    bool             `json:"key_encrypted"`
	Drivers         []string         `json:"drivers"`
	Components      []string         `json:"components"`
	PKCS12Cipher    string           `json:"pkcs12_cipher"`
	Connection      ConnectionParams `json:"connection"`
}

// Plan validates req exactly as Build does (req.CA may be nil) and returns a
// Preview of the bundle, without generating keys, contacting the CA or
// writing anything.
// The paths are exactly those Build would produce.
func Plan(req Request) (*Preview, error) {
	r, err := req.normalize()
	if err != nil {
		return nil, err
	}
	now := r.Now().UTC().Truncate(time.Second)
	a := &assembly{req: r, now: now, b: &Bundle{}, dry: true}
	if err := a.assemble(); err != nil {
		return nil, err
	}
	p := &Preview{Metadata: a.meta, Settings: PreviewSettings{
		ClusterName: r.ClusterName, ClientID: r.ClientID, Environment: r.Environment,
		ContactPoints: r.ContactPoints, LocalDatacenter: r.LocalDatacenter, Gateway: r.Gateway,
		Validity: r.Validity.String(), KeyType: r.KeyType, KeyEncrypted: len(r.KeyPassphrase) > 0,
		Drivers: r.Drivers, Components: r.Components, PKCS12Cipher: pkcs12Cipher(r), Connection: r.Connection,
	}}
	for _, f := range a.b.Files() {
		p.Files = append(p.Files, PreviewFile{Path: f.Path, Size: len(f.Data), Approximate: a.approx[f.Path]})
	}
	return p, nil
}

func pkcs12Cipher(r *Request) string {
	if !slices.Contains(r.Components, ComponentPKCS12) {
		return ""
	}
	if r.LegacyPKCS12 {
		return "legacy-3des"
	}
	return "aes256"
}

type assembly struct {
	dry    bool            // Plan: placeholders instead of key material
	approx map[string]bool // paths whose placeholder size is an estimate
	req    *Request
	now    time.Time
	key    crypto.Signer
	chain  []*x509.Certificate
	roots  []*x509.Certificate
	b      *Bundle
	meta   *Metadata
}

// normalize applies defaults and validates req, returning a copy.
func (req Request) normalize() (*Request, error) {
	r := req
	if err := CheckName("cluster name", r.ClusterName); err != nil {
		return nil, err
	}
	if err := CheckName("client ID", r.ClientID); err != nil {
		return nil, err
	}
	if r.Environment == "" {
		r.Environment = DefaultEnvironment
	}
	if err := oneOf("environment", r.Environment, Environments); err != nil {
		return nil, err
	}
	if len(r.ContactPoints) == 0 {
		r.ContactPoints = []string{"127.0.0.1:" + strconv.Itoa(DefaultCQLPort)}
	}
	cps := make([]string, 0, len(r.ContactPoints))
	for _, cp := range r.ContactPoints {
		h, p, err := SplitHostPort(cp, DefaultCQLPort)
		if err != nil {
			return nil, err
		}
		cps = append(cps, net.JoinHostPort(h, strconv.Itoa(p)))
	}
	r.ContactPoints = cps
	if r.LocalDatacenter == "" {
		r.LocalDatacenter = DefaultDatacenter
	}
	if strings.ContainsAny(r.LocalDatacenter, "\"'\\\n\r\t") || len(r.LocalDatacenter) > 64 {
		return nil, fmt.Errorf("datacenter name %q is not valid", r.LocalDatacenter)
	}
	r.gatewayNamed = r.Gateway.Host != ""
	if r.Gateway.Host == "" {
		r.Gateway.Host, _, _ = SplitHostPort(r.ContactPoints[0], 0)
	} else if net.ParseIP(r.Gateway.Host) == nil && !ValidDNSName(r.Gateway.Host) {
		return nil, fmt.Errorf("gateway host %q is neither an IP address nor a DNS name", r.Gateway.Host)
	}
	if r.Gateway.MetadataPort == 0 {
		r.Gateway.MetadataPort = DefaultMetadataPort
	}
	if r.Gateway.CQLPort == 0 {
		r.Gateway.CQLPort = DefaultGatewayPort
	}
	for _, p := range []int{r.Gateway.MetadataPort, r.Gateway.CQLPort} {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("gateway port %d out of range 1..65535", p)
		}
	}
	if r.Validity == 0 {
		r.Validity = DefaultValidity
	}
	if r.Validity < 0 {
		return nil, fmt.Errorf("validity must be positive, got %s", r.Validity)
	}
	if r.Validity < time.Minute {
		return nil, fmt.Errorf("validity %s is too short (minimum 1m)", r.Validity)
	}
	kt, err := ParseCertificateKeyType(string(r.KeyType))
	if err != nil {
		return nil, err
	}
	r.KeyType = kt
	if r.Components == nil {
		r.Components = slices.Clone(Components)
	} else {
		r.Components = slices.Clone(r.Components)
		seenc := map[string]bool{}
		for _, c := range r.Components {
			if err := oneOf("component", c, Components); err != nil {
				return nil, err
			}
			if seenc[c] {
				return nil, fmt.Errorf("component %q listed twice", c)
			}
			seenc[c] = true
		}
	}
	if r.OmitStockDriverFiles {
		r.Components = slices.DeleteFunc(r.Components, func(c string) bool {
			return c == ComponentStockDriver || c == ComponentJKS || c == ComponentPKCS12
		})
	}
	if !slices.Contains(r.Components, ComponentStockDriver) {
		r.Components = slices.DeleteFunc(r.Components, func(c string) bool { return c == ComponentJKS || c == ComponentPKCS12 })
	}
	r.OmitStockDriverFiles = !slices.Contains(r.Components, ComponentStockDriver)
	if len(r.KeyPassphrase) > 0 && !r.OmitStockDriverFiles {
		return nil, errors.New("an encrypted client key cannot be used by the stock-driver files (key, cert.pfx, identity.jks): leave out the stock-driver component or the key passphrase")
	}
	for _, c := range r.ReadmeNotes {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return nil, errors.New("README notes contain control characters")
		}
	}
	if len(r.ReadmeNotes) > 16<<10 {
		return nil, errors.New("README notes are longer than 16 KiB")
	}
	if r.Credentials != nil && (r.Credentials.Username == "" || r.Credentials.Password == "") {
		return nil, errors.New("credentials need both a username and a password")
	}
	if len(r.Drivers) == 0 {
		r.Drivers = slices.Clone(Drivers)
	}
	seen := map[string]bool{}
	for _, d := range r.Drivers {
		if err := oneOf("driver", d, Drivers); err != nil {
			return nil, err
		}
		if seen[d] {
			return nil, fmt.Errorf("driver %q listed twice", d)
		}
		seen[d] = true
	}
	r.Connection = r.Connection.withDefaults()
	if !r.InsecureSkipHostnameVerification {
		r.Connection.HostnameVerification = true
	} else {
		r.Connection.HostnameVerification = false
	}
	if err := r.Connection.Validate(); err != nil {
		return nil, err
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Rand == nil {
		r.Rand = rand.Reader
	}
	if r.GeneratorVersion == "" {
		r.GeneratorVersion = "devel"
	}
	return &r, nil
}

// Fingerprint returns the lower-case hex SHA-256 of a certificate's DER.
func Fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

func (a *assembly) set(p string, data []byte) {
	if err := a.b.Set(p, data); err != nil {
		panic("scb: internal path " + p + " invalid: " + err.Error())
	}
}

func (a *assembly) password() (string, error) {
	buf := make([]byte, 18)
	if _, err := io.ReadFull(a.req.Rand, buf); err != nil {
		return "", fmt.Errorf("generate store password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// Estimated sizes of key material in PEM, by key type, for Plan.
var (
	estCertPEM = map[KeyType]int{KeyECDSAP256: 700, KeyECDSAP384: 780, KeyRSA2048: 1150, KeyRSA3072: 1500, KeyRSA4096: 1850}
	estKeyPEM  = map[KeyType]int{KeyECDSAP256: 241, KeyECDSAP384: 306, KeyRSA2048: 1704, KeyRSA3072: 2484, KeyRSA4096: 3272}
)

// placeholder records an estimated file for Plan.
func (a *assembly) placeholder(p string, size int) {
	if a.approx == nil {
		a.approx = map[string]bool{}
	}
	a.approx[p] = true
	a.set(p, make([]byte, size))
}

func (a *assembly) assemble() error {
	r := a.req
	encrypted := len(r.KeyPassphrase) > 0
	var chainPEM []byte
	if a.dry {
		kt := r.KeyType
		a.placeholder(CACertPath, estCertPEM[KeyECDSAP256])
		a.placeholder(ClientCertPath, estCertPEM[kt]+estCertPEM[KeyECDSAP256])
		keySize := estKeyPEM[kt]
		if encrypted {
			keySize = keySize*5/4 + 200
		}
		a.placeholder(ClientKeyPath, keySize)
	} else {
		keyPEM, err := MarshalPrivateKeyPEM(a.key, r.KeyPassphrase)
		if err != nil {
			return err
		}
		chainPEM = EncodeCertificatesPEM(a.chain...)
		a.set(CACertPath, EncodeCertificatesPEM(a.roots...))
		a.set(ClientCertPath, chainPEM)
		a.set(ClientKeyPath, keyPEM)
	}

	bundleID, err := a.bundleID()
	if err != nil {
		return err
	}
	if !r.OmitStockDriverFiles {
		if err := a.stockFiles(chainPEM); err != nil {
			return err
		}
	}

	cfg := &ClientConfig{
		Format:          clientConfigFormat,
		ClusterName:     r.ClusterName,
		Environment:     r.Environment,
		ClientID:        r.ClientID,
		ContactPoints:   r.ContactPoints,
		LocalDatacenter: r.LocalDatacenter,
		TLS: TLSConfig{
			CACert:               CACertPath,
			ClientCert:           ClientCertPath,
			ClientKey:            ClientKeyPath,
			ClientKeyEncrypted:   encrypted,
			HostnameVerification: r.Connection.HostnameVerification,
			MinVersion:           r.Connection.MinTLSVersion,
		},
		Auth:       AuthConfig{Provider: "password", CredentialsInConfigJSON: r.Credentials != nil && !r.OmitStockDriverFiles},
		Connection: r.Connection,
		Gateway:    r.Gateway,
	}
	if r.Credentials != nil {
		cfg.Auth.Username = r.Credentials.Username
	}
	a.set(ClientYAMLPath, cfg.encode())
	a.set(ConnectionProfilePath(r.Environment), connectionProfile(cfg, r))

	for _, rd := range r.Renderers {
		if !slices.Contains(r.Drivers, rd.Name()) {
			continue
		}
		files, err := rd.Render(cfg)
		if err != nil {
			return fmt.Errorf("render %s configuration: %w", rd.Name(), err)
		}
		if err := checkRendered(rd, files); err != nil {
			return err
		}
		for _, f := range files {
			if strings.HasPrefix(f.Path, "examples/") && !slices.Contains(r.Components, ComponentExamples) ||
				strings.HasPrefix(f.Path, "config/driver-configs/") && !slices.Contains(r.Components, ComponentDriverConfigs) {
				continue
			}
			a.set(f.Path, f.Data)
		}
	}

	a.meta = &Metadata{
		BundleVersion:    FormatVersion,
		BundleID:         bundleID,
		ClusterName:      r.ClusterName,
		ClientID:         r.ClientID,
		Environment:      r.Environment,
		GeneratedAt:      a.now,
		SupportedDrivers: r.Drivers,
		Clusters: []ClusterInfo{{
			Name: r.ClusterName, Datacenters: []string{r.LocalDatacenter},
			Endpoints: r.ContactPoints, Role: "primary",
		}},
		Gateway:   r.Gateway,
		Generator: GeneratorInfo{Name: "scbkit", Version: r.GeneratorVersion},
		Parameters: Parameters{
			KeyType: r.KeyType, Validity: r.Validity.String(), Connection: r.Connection, Components: r.Components,
		},
	}
	if a.dry {
		const ph = "(assigned at generation)"
		na := a.now.Add(r.Validity)
		a.meta.ExpiresAt = na
		a.meta.CA = CAInfo{Subject: ph, FingerprintSHA256: ph}
		a.meta.Client = CertInfo{Subject: clientSubject(r).String(), Serial: ph, FingerprintSHA256: ph,
			NotBefore: a.now.Add(-5 * time.Minute), NotAfter: na, KeyType: r.KeyType, KeyEncrypted: encrypted}
	} else {
		leaf, root := a.chain[0], a.roots[0]
		a.meta.ExpiresAt = leaf.NotAfter.UTC()
		a.meta.CA = CAInfo{Subject: root.Subject.String(), FingerprintSHA256: Fingerprint(root), NotAfter: root.NotAfter.UTC()}
		a.meta.Client = CertInfo{
			Subject: leaf.Subject.String(), Serial: leaf.SerialNumber.Text(16),
			FingerprintSHA256: Fingerprint(leaf), NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(),
			KeyType: r.KeyType, KeyEncrypted: encrypted,
		}
	}
	a.set(ReadmePath, bundleReadme(a.meta, cfg, r))
	a.set(MetadataPath, a.meta.encode())
	a.set(ManifestPath, NewManifest(a.b).Encode())
	if a.dry {
		a.approx[MetadataPath] = true
		a.approx[ManifestPath] = true
		a.approx[ReadmePath] = true // holds the CA fingerprint
	}
	return nil
}

func (a *assembly) bundleID() (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(a.req.Rand, u[:]); err != nil {
		return "", fmt.Errorf("generate bundle id: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// stockFiles writes the root-level files the DataStax drivers read.
func (a *assembly) stockFiles(chainPEM []byte) error {
	r := a.req
	jks := slices.Contains(r.Components, ComponentJKS)
	p12 := slices.Contains(r.Components, ComponentPKCS12)
	var pw [3]string
	for i := range pw {
		p, err := a.password()
		if err != nil {
			return err
		}
		pw[i] = p
	}
	cc := &CloudConfig{
		Host: r.Gateway.Host, Port: r.Gateway.MetadataPort, CQLPort: r.Gateway.CQLPort,
		LocalDC:        r.LocalDatacenter,
		CACertLocation: "./" + CloudCAPath, KeyLocation: "./" + CloudKeyPath, CertLocation: "./" + CloudCertPath,
	}
	if jks {
		cc.KeyStoreLocation, cc.KeyStorePassword = "./"+CloudIdentityPath, pw[0]
		cc.TrustStoreLocation, cc.TrustStorePassword = "./"+CloudTrustStorePath, pw[1]
	}
	if p12 {
		cc.PFXCertPassword = pw[2]
	}
	if r.Credentials != nil {
		cc.Username, cc.Password = r.Credentials.Username, r.Credentials.Password
	}
	a.set(CloudConfigPath, cc.encode())
	a.set(CqlshrcPath, cqlshrc(r))
	if a.dry {
		kt := r.KeyType
		a.placeholder(CloudCAPath, estCertPEM[KeyECDSAP256])
		a.placeholder(CloudCertPath, estCertPEM[kt]+estCertPEM[KeyECDSAP256])
		a.placeholder(CloudKeyPath, estKeyPEM[kt])
		if p12 {
			a.placeholder(CloudPFXPath, estKeyPEM[kt]+2*estCertPEM[kt]/2+600)
		}
		if jks {
			a.placeholder(CloudIdentityPath, estKeyPEM[kt]+3*estCertPEM[kt]*3/4)
			a.placeholder(CloudTrustStorePath, estCertPEM[KeyECDSAP256]*3/4)
		}
		return nil
	}
	keyPEM, err := MarshalPrivateKeyPEM(a.key, nil)
	if err != nil {
		return err
	}
	a.set(CloudCAPath, EncodeCertificatesPEM(a.roots[0]))
	a.set(CloudCertPath, chainPEM)
	a.set(CloudKeyPath, keyPEM)
	if p12 {
		pfx, err := encodePFX(r.Rand, a.key, a.chain, pw[2], r.LegacyPKCS12)
		if err != nil {
			return err
		}
		a.set(CloudPFXPath, pfx)
	}
	if jks {
		fullChain := append(slices.Clone(a.chain), a.roots[0])
		identity, err := encodeIdentityJKS(r.Rand, a.now, a.key, fullChain, pw[0])
		if err != nil {
			return err
		}
		trust, err := encodeTrustJKS(r.Rand, a.now, a.roots[:1], pw[1])
		if err != nil {
			return err
		}
		a.set(CloudIdentityPath, identity)
		a.set(CloudTrustStorePath, trust)
	}
	return nil
}
