package scb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Metadata is the content of metadata.json.
type Metadata struct {
	BundleVersion string    `json:"bundle_version"`
	BundleID      string    `json:"bundle_id"`
	ClusterName   string    `json:"cluster_name"`
	ClientID      string    `json:"client_id"`
	Environment   string    `json:"environment"`
	GeneratedAt   time.Time `json:"generated_at"`
	// ExpiresAt is the client certificate's NotAfter.
	ExpiresAt        time.Time     `json:"expires_at"`
	SupportedDrivers []string      `json:"supported_drivers"`
	Clusters         []ClusterInfo `json:"clusters"`
	CA               CAInfo        `json:"ca"`
	Client           CertInfo      `json:"client_certificate"`
	// Gateway is where the scbkit gateway (metadata service + SNI proxy)
	// for this bundle runs; config.json points at it.
	Gateway   GatewayInfo   `json:"gateway"`
	Generator GeneratorInfo `json:"generator"`
	// Parameters records the generation request, without secrets.
	Parameters Parameters `json:"parameters"`
}

// ClusterInfo describes one cluster the bundle connects to.
type ClusterInfo struct {
	Name        string   `json:"name"`
	Datacenters []string `json:"datacenters"`
	// Endpoints are contact points as host:port.
	Endpoints []string `json:"endpoints"`
	// Role is "primary" or "failover".
	Role string `json:"role"`
}

// CAInfo identifies the trust anchor in certificates/ca-cert.pem.
type CAInfo struct {
	Subject           string    `json:"subject"`
	FingerprintSHA256 string    `json:"fingerprint_sha256"`
	NotAfter          time.Time `json:"not_after"`
}

// CertInfo identifies the client certificate.
type CertInfo struct {
	Subject           string    `json:"subject"`
	Serial            string    `json:"serial"`
	FingerprintSHA256 string    `json:"fingerprint_sha256"`
	NotBefore         time.Time `json:"not_before"`
	NotAfter          time.Time `json:"not_after"`
	KeyType           KeyType   `json:"key_type"`
	KeyEncrypted      bool      `json:"key_encrypted"`
}

// GatewayInfo is the address of the gateway for stock-driver bundle mode.
type GatewayInfo struct {
	Host         string `json:"host" yaml:"host"`
	MetadataPort int    `json:"metadata_port" yaml:"metadata_port"`
	CQLPort      int    `json:"cql_port" yaml:"cql_port"`
}

// GeneratorInfo names the software that produced the bundle.
type GeneratorInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Parameters are the generation settings, recorded for audit and renewal.
type Parameters struct {
	KeyType    KeyType          `json:"key_type"`
	Validity   string           `json:"validity"`
	Connection ConnectionParams `json:"connection"`
	Components []string         `json:"components,omitempty"`
}

// ParseMetadata decodes metadata.json and checks the fields every consumer
// relies on.
func ParseMetadata(data []byte) (*Metadata, error) {
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, &FileError{Path: MetadataPath, Err: fmt.Errorf("%w: malformed metadata: %v", ErrInvalid, err)}
	}
	if m.BundleVersion == "" {
		return nil, &FileError{Path: MetadataPath, Err: fmt.Errorf("%w: bundle_version missing", ErrInvalid)}
	}
	if major, _, _ := strings.Cut(m.BundleVersion, "."); major != "1" {
		return nil, &FileError{Path: MetadataPath, Err: fmt.Errorf("%w: unsupported bundle_version %q (this reader supports %s)", ErrInvalid, m.BundleVersion, FormatVersion)}
	}
	if m.ClusterName == "" || m.ClientID == "" || m.ExpiresAt.IsZero() {
		return nil, &FileError{Path: MetadataPath, Err: fmt.Errorf("%w: cluster_name, client_id and expires_at are required", ErrInvalid)}
	}
	return &m, nil
}

func (m *Metadata) encode() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic("scb: metadata encoding cannot fail: " + err.Error())
	}
	return append(b, '\n')
}
