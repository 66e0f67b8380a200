package scb

import (
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration that encodes as a Go duration string ("5s")
// in JSON and YAML.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ConnectionParams are the driver-neutral connection settings rendered into
// config/cassandra.yaml and every driver's own configuration.
type ConnectionParams struct {
	// ConnectTimeout bounds establishing a connection (TCP + TLS + auth).
	ConnectTimeout Duration `json:"connect_timeout" yaml:"connect_timeout"`
	// RequestTimeout bounds one request.
	RequestTimeout Duration `json:"request_timeout" yaml:"request_timeout"`
	// Consistency is the default consistency level, e.g. LOCAL_QUORUM.
	Consistency string `json:"consistency" yaml:"consistency"`
	// Retry policy: "default" (the driver's standard policy) or "none".
	RetryPolicy string `json:"retry_policy" yaml:"retry_policy"`
	// MaxRetries caps retries of one request where the driver allows it.
	MaxRetries int `json:"max_retries" yaml:"max_retries"`
	// ConnectionsPerHost is the pool size per node in the local DC.
	ConnectionsPerHost int `json:"connections_per_host" yaml:"connections_per_host"`
	// LoadBalancing: "dc-aware-token-aware" or "dc-aware-round-robin".
	LoadBalancing string `json:"load_balancing" yaml:"load_balancing"`
	// Compression: "none", "lz4" or "snappy".
	Compression string `json:"compression" yaml:"compression"`
	// HostnameVerification checks server certificates against the node
	// address. Turning it off is for tests only.
	HostnameVerification bool `json:"hostname_verification" yaml:"hostname_verification"`
	// MinTLSVersion is "1.2" or "1.3".
	MinTLSVersion string `json:"min_tls_version" yaml:"min_tls_version"`
}

// DefaultConnectionParams are used for every field a request leaves zero.
func DefaultConnectionParams() ConnectionParams {
	return ConnectionParams{
		ConnectTimeout:       Duration(5 * time.Second),
		RequestTimeout:       Duration(12 * time.Second),
		Consistency:          "LOCAL_QUORUM",
		RetryPolicy:          "default",
		MaxRetries:           3,
		ConnectionsPerHost:   1,
		LoadBalancing:        "dc-aware-token-aware",
		Compression:          "none",
		HostnameVerification: true,
		MinTLSVersion:        "1.2",
	}
}

var (
	consistencies = []string{"ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"}
	retryPolicies = []string{"default", "none"}
	lbPolicies    = []string{"dc-aware-token-aware", "dc-aware-round-robin"}
	compressions  = []string{"none", "lz4", "snappy"}
	tlsVersions   = []string{"1.2", "1.3"}
)

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s %q is not valid (valid: %s)", field, v, strings.Join(allowed, ", "))
}

// withDefaults fills zero fields from DefaultConnectionParams. Hostname
// verification cannot be defaulted from a zero bool, so callers that want
// it off must use Request.InsecureSkipHostnameVerification.
func (p ConnectionParams) withDefaults() ConnectionParams {
	d := DefaultConnectionParams()
	if p.ConnectTimeout == 0 {
		p.ConnectTimeout = d.ConnectTimeout
	}
	if p.RequestTimeout == 0 {
		p.RequestTimeout = d.RequestTimeout
	}
	if p.Consistency == "" {
		p.Consistency = d.Consistency
	}
	p.Consistency = strings.ToUpper(p.Consistency)
	if p.RetryPolicy == "" {
		p.RetryPolicy = d.RetryPolicy
	}
	if p.MaxRetries == 0 && p.RetryPolicy != "none" {
		p.MaxRetries = d.MaxRetries
	}
	if p.ConnectionsPerHost == 0 {
		p.ConnectionsPerHost = d.ConnectionsPerHost
	}
	if p.LoadBalancing == "" {
		p.LoadBalancing = d.LoadBalancing
	}
	if p.Compression == "" {
		p.Compression = d.Compression
	}
	if p.MinTLSVersion == "" {
		p.MinTLSVersion = d.MinTLSVersion
	}
	return p
}

// Validate checks every field against its allowed values and ranges.
func (p ConnectionParams) Validate() error {
	if p.ConnectTimeout <= 0 || p.RequestTimeout <= 0 {
		return fmt.Errorf("timeouts must be positive (connect %s, request %s)", p.ConnectTimeout.Std(), p.RequestTimeout.Std())
	}
	if p.ConnectTimeout.Std() > 10*time.Minute || p.RequestTimeout.Std() > 10*time.Minute {
		return fmt.Errorf("timeouts above 10m are not accepted")
	}
	if err := oneOf("consistency", p.Consistency, consistencies); err != nil {
		return err
	}
	if err := oneOf("retry policy", p.RetryPolicy, retryPolicies); err != nil {
		return err
	}
	if p.MaxRetries < 0 || p.MaxRetries > 10 {
		return fmt.Errorf("max retries %d out of range 0..10", p.MaxRetries)
	}
	if p.ConnectionsPerHost < 1 || p.ConnectionsPerHost > 64 {
		return fmt.Errorf("connections per host %d out of range 1..64", p.ConnectionsPerHost)
	}
	if err := oneOf("load balancing", p.LoadBalancing, lbPolicies); err != nil {
		return err
	}
	if err := oneOf("compression", p.Compression, compressions); err != nil {
		return err
	}
	return oneOf("minimum TLS version", p.MinTLSVersion, tlsVersions)
}
