// Package render turns a bundle's driver-neutral client configuration
// (scb.ClientConfig) into each driver family's own configuration files and
// example programs: Java (DataStax Java driver 4.x), Python
// (cassandra-driver), Node.js (cassandra-driver), Go (gocql), .NET (DataStax
// C# driver) and C++ (DataStax C/C++ driver).
//
// Pass All to scb.Request.Renderers; Build runs the ones named in
// Request.Drivers:
//
//	b, err := scb.Build(ctx, scb.Request{..., Renderers: render.All()})
//
// # How rendering stays safe
//
// No renderer uses a general-purpose text template. Each output is written
// by a structured encoder (encoding/json, encoding/xml, yaml.v3) or by a
// tiny emitter for HOCON and INI that quotes or rejects every value, and
// whose keys are constants of this package, never user data. Nothing here
// reads the environment, files or the clock.
//
// Every file is then parsed back and checked against the ClientConfig it
// came from before Render returns (the re-imposed invariants of smallstep's
// x509util): TLS is on, certificates are verified against the bundle's CA,
// hostname verification is exactly ClientConfig.TLS.HostnameVerification,
// the certificate and key paths are the bundle's own files, and contact
// points, datacenter, timeouts and consistency equal the input. Only keys
// on each format's allow-list may appear. A failed check is a *CheckError,
// so a renderer can never turn certificate or hostname verification off by
// accident, nor can a mistake in this package.
//
// # Paths and secrets
//
// Paths inside the rendered files are relative to the bundle root (the
// directory the bundle was extracted to); the example programs resolve them
// against the bundle directory they are given. Renderers never see private
// keys or passwords: the Java keystore passwords stay in config.json and
// are supplied at run time (see docs/drivers.md), and the Cassandra
// password always comes from the application (SCB_PASSWORD in the
// examples).
package render

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/scbkit/scbkit/scb"
)

// All returns one renderer per driver family, in the order of scb.Drivers.
func All() []scb.Renderer {
	return []scb.Renderer{Java{}, Python{}, NodeJS{}, Go{}, DotNet{}, Cpp{}}
}

// ErrCheck is wrapped by every *CheckError.
var ErrCheck = errors.New("rendered configuration failed its check")

// CheckError reports a rendered file whose parsed-back content does not say
// what the ClientConfig says. It never holds secrets: renderers see none.
type CheckError struct {
	Driver string // driver family
	Path   string // bundle path of the file
	Field  string // key or setting in that file
	Got    string
	Want   string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("render %s: %s: %s is %q, want %q", e.Driver, e.Path, e.Field, e.Got, e.Want)
}

// Unwrap returns ErrCheck.
func (e *CheckError) Unwrap() error { return ErrCheck }

// checker collects the first mismatch for one file.
type checker struct {
	driver, path string
	err          error
}

func (c *checker) eq(field, got, want string) {
	if c.err == nil && got != want {
		c.err = &CheckError{Driver: c.driver, Path: c.path, Field: field, Got: got, Want: want}
	}
}

func (c *checker) fail(field, got, want string) {
	if c.err == nil {
		c.err = &CheckError{Driver: c.driver, Path: c.path, Field: field, Got: got, Want: want}
	}
}

// endpoint is one contact point.
type endpoint struct {
	Host string
	Port int
}

func (e endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// input is the validated view of a ClientConfig that every renderer and
// every check starts from.
type input struct {
	cfg       *scb.ClientConfig
	endpoints []endpoint
	// hostnames is the single source of truth for hostname verification.
	hostnames bool
}

func newInput(driver string, cfg *scb.ClientConfig) (*input, error) {
	if cfg == nil {
		return nil, fmt.Errorf("render %s: no client configuration", driver)
	}
	in := &input{cfg: cfg, hostnames: cfg.TLS.HostnameVerification}
	if cfg.TLS.HostnameVerification != cfg.Connection.HostnameVerification {
		// Two sources disagree: refuse rather than guess which one is meant.
		return nil, fmt.Errorf("render %s: tls.hostname_verification (%t) and connection.hostname_verification (%t) disagree", driver, cfg.TLS.HostnameVerification, cfg.Connection.HostnameVerification)
	}
	if len(cfg.ContactPoints) == 0 {
		return nil, fmt.Errorf("render %s: no contact points", driver)
	}
	for _, cp := range cfg.ContactPoints {
		h, p, err := scb.SplitHostPort(cp, 0)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", driver, err)
		}
		in.endpoints = append(in.endpoints, endpoint{h, p})
	}
	if cfg.LocalDatacenter == "" {
		return nil, fmt.Errorf("render %s: no local datacenter", driver)
	}
	for _, p := range []string{cfg.TLS.CACert, cfg.TLS.ClientCert, cfg.TLS.ClientKey} {
		if err := scb.CheckPath(p); err != nil {
			return nil, fmt.Errorf("render %s: tls path: %w", driver, err)
		}
	}
	if err := cfg.Connection.Validate(); err != nil {
		return nil, fmt.Errorf("render %s: %w", driver, err)
	}
	if cfg.TLS.MinVersion != "1.2" && cfg.TLS.MinVersion != "1.3" {
		return nil, fmt.Errorf("render %s: minimum TLS version %q is not 1.2 or 1.3", driver, cfg.TLS.MinVersion)
	}
	return in, nil
}

func (in *input) contactPoints() []string {
	out := make([]string, len(in.endpoints))
	for i, e := range in.endpoints {
		out[i] = e.String()
	}
	return out
}

// firstPort is for drivers that take one port for the whole cluster: it
// returns the first contact point's port, the hosts of the contact points
// on that port, and the contact points left out (said in a comment of the
// rendered file; contact points only seed discovery, and the nodes of one
// cluster normally share their native port).
func (in *input) firstPort() (port int, hosts, omitted []string) {
	port = in.endpoints[0].Port
	for _, e := range in.endpoints {
		if e.Port == port {
			hosts = append(hosts, e.Host)
		} else {
			omitted = append(omitted, e.String())
		}
	}
	return port, hosts, omitted
}

func ms(d scb.Duration) int64 { return time.Duration(d).Milliseconds() }

func seconds(d scb.Duration) float64 { return time.Duration(d).Seconds() }

func tokenAware(p scb.ConnectionParams) bool { return p.LoadBalancing == "dc-aware-token-aware" }

func retries(p scb.ConnectionParams) bool { return p.RetryPolicy != "none" }

func bstr(b bool) string { return strconv.FormatBool(b) }

func file(driver, name string, data []byte) scb.File {
	return scb.File{Path: scb.DriverConfigDir(driver) + name, Data: data}
}
