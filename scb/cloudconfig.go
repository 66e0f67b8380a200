package scb

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// CloudConfig is config.json, the file the DataStax drivers read in
// secure-connect-bundle mode. Host and Port locate the metadata service;
// ports are JSON integers (the C++ driver and Go tools require it).
type CloudConfig struct {
	Host               string `json:"host"`
	Port               int    `json:"port"`
	CQLPort            int    `json:"cql_port,omitempty"`
	LocalDC            string `json:"localDC,omitempty"`
	CACertLocation     string `json:"caCertLocation"`
	KeyLocation        string `json:"keyLocation"`
	CertLocation       string `json:"certLocation"`
	KeyStoreLocation   string `json:"keyStoreLocation,omitempty"`
	KeyStorePassword   string `json:"keyStorePassword,omitempty"`
	TrustStoreLocation string `json:"trustStoreLocation,omitempty"`
	TrustStorePassword string `json:"trustStorePassword,omitempty"`
	PFXCertPassword    string `json:"pfxCertPassword,omitempty"`
	Username           string `json:"username,omitempty"`
	Password           string `json:"password,omitempty"`
}

// String redacts every password.
func (c CloudConfig) String() string {
	return fmt.Sprintf("CloudConfig{host:%s port:%d cql_port:%d passwords:<redacted>}", c.Host, c.Port, c.CQLPort)
}

// GoString redacts every password.
func (c CloudConfig) GoString() string { return c.String() }

func (c *CloudConfig) encode() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		panic("scb: config.json encoding cannot fail: " + err.Error())
	}
	return buf.Bytes()
}

// ParseCloudConfig decodes config.json. Errors never echo its content.
func ParseCloudConfig(data []byte) (*CloudConfig, error) {
	var c CloudConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, &FileError{Path: CloudConfigPath, Err: fmt.Errorf("%w: malformed JSON or wrong field type", ErrInvalid)}
	}
	if c.Host == "" || c.Port <= 0 || c.Port > 65535 {
		return nil, &FileError{Path: CloudConfigPath, Err: fmt.Errorf("%w: host and an integer port are required", ErrInvalid)}
	}
	return &c, nil
}
