package scb

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Environments a bundle can be generated for.
var Environments = []string{"development", "staging", "production", "testing"}

// Drivers are the driver families a bundle can carry configuration for.
var Drivers = []string{"java", "python", "nodejs", "go", "dotnet", "cpp"}

// Defaults applied by Build.
const (
	DefaultEnvironment  = "development"
	DefaultDatacenter   = "datacenter1"
	DefaultCQLPort      = 9042
	DefaultMetadataPort = 29080
	DefaultGatewayPort  = 29042
	DefaultValidity     = 365 * 24 * time.Hour
)

// Request describes a bundle to build. Zero fields take the documented
// defaults; Build validates everything before creating any key.
type Request struct {
	// ClusterName and ClientID are required: 1–64 characters of letters,
	// digits, '.', '_' and '-', starting with a letter or digit.
	ClusterName string
	ClientID    string
	// Environment is one of Environments. Empty means "development".
	Environment string
	// ContactPoints are HOST:PORT. Empty means 127.0.0.1:9042. A bare host
	// gets port 9042.
	ContactPoints []string
	// LocalDatacenter of the client. Empty means "datacenter1".
	LocalDatacenter string
	// Gateway is where the metadata service and SNI proxy for stock-driver
	// bundle mode run (see package gateway). A zero Host means the host of
	// the first contact point; zero ports mean 29080 (metadata) and 29042.
	Gateway GatewayInfo
	// Validity of the client certificate. Zero means one year.
	Validity time.Duration
	// KeyType of the client key. Empty means DefaultKeyType.
	KeyType KeyType
	// KeyPassphrase, when set, encrypts certificates/client-key.pem. The
	// stock-driver files need a plain key, so Build refuses an encrypted key
	// unless the stock-driver component is left out.
	KeyPassphrase []byte
	// Credentials, when set, are written into config.json for the stock
	// drivers. Leave nil unless you must: credentials in a file travel with
	// it.
	Credentials *Credentials
	// Drivers limits supported_drivers and the renderers run. Empty means
	// all of Drivers.
	Drivers []string
	// Connection parameters; zero fields take DefaultConnectionParams.
	Connection ConnectionParams
	// InsecureSkipHostnameVerification renders configurations that do not
	// check server host names. For tests against ad-hoc clusters only.
	InsecureSkipHostnameVerification bool
	// Components selects optional parts of the bundle; nil means all of
	// Components. Certificates, metadata, manifest, README and the neutral
	// configuration are always present.
	Components []string
	// OmitStockDriverFiles removes the stock-driver, jks and pkcs12
	// components: no config.json, ca.crt, cert, key, cert.pfx,
	// identity.jks, trustStore.jks or cqlshrc.
	OmitStockDriverFiles bool
	// LegacyPKCS12 writes cert.pfx with 3DES and a SHA-1 MAC for old
	// Windows/.NET Framework; the default is AES-256 with PBKDF2.
	LegacyPKCS12 bool
	// ReadmeNotes is extra Markdown text appended to the bundle README
	// under "Notes from your platform team". Control characters other than
	// newlines and tabs are refused.
	ReadmeNotes string
	// CA issues the client certificate. Required.
	CA CA
	// Renderers add per-driver files; each is run when its Name is in
	// Drivers.
	Renderers []Renderer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the entropy source; nil means crypto/rand.
	Rand io.Reader
	// GeneratorVersion is recorded in metadata.json.
	GeneratorVersion string

	// gatewayNamed records, after normalisation, that Gateway.Host was
	// given rather than defaulted.
	gatewayNamed bool
}

// Optional bundle components.
const (
	// ComponentDriverConfigs is config/driver-configs/<driver>/.
	ComponentDriverConfigs = "driver-configs"
	// ComponentExamples is examples/<driver>/.
	ComponentExamples = "examples"
	// ComponentStockDriver is config.json, ca.crt, cert, key and cqlshrc at
	// the root, read by the DataStax drivers and cqlsh.
	ComponentStockDriver = "stock-driver"
	// ComponentJKS is identity.jks and trustStore.jks (Java).
	ComponentJKS = "jks"
	// ComponentPKCS12 is cert.pfx (.NET).
	ComponentPKCS12 = "pkcs12"
)

// Components lists every optional component.
var Components = []string{ComponentDriverConfigs, ComponentExamples, ComponentStockDriver, ComponentJKS, ComponentPKCS12}

// Credentials are a Cassandra username and password. They never print.
type Credentials struct {
	Username string
	Password string
}

// String redacts the password.
func (c Credentials) String() string {
	return fmt.Sprintf("{Username:%q Password:<redacted>}", c.Username)
}

// GoString redacts the password.
func (c Credentials) GoString() string { return c.String() }

// CheckName validates a cluster name or client ID.
func CheckName(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is required", field)
	}
	if len(s) > 64 {
		return fmt.Errorf("%s is longer than 64 characters", field)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (i > 0 && (r == '.' || r == '_' || r == '-'))
		if !ok {
			return fmt.Errorf("%s %q is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit", field, s)
		}
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("%s %q is not valid: it must not contain \"..\"", field, s)
	}
	return nil
}
