package profiles

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scbkit/scbkit/scb"
)

// Overrides are settings given explicitly (command-line flags or API
// fields). A nil pointer or nil slice means "not given".
type Overrides struct {
	ClusterName, ClientID *string
	ContactPoints         []string
	Datacenter            *string
	Gateway               *string
	Validity              *time.Duration
	KeyType               *scb.KeyType
	EncryptKey            *bool
	Drivers               []string
	Components            []string
	PKCS12Cipher          *string
	MinTLSVersion         *string
	// InsecureSkipHostnameVerification turns hostname verification off. It
	// is also the explicit override that staging and production require
	// before a template may turn it off. Loud: reported in Warnings.
	InsecureSkipHostnameVerification bool
	// InsecureUnencryptedKey permits an unencrypted client key where the
	// profile requires encryption (staging, production). Loud: it is
	// reported in Settings.Warnings.
	InsecureUnencryptedKey bool
}

// Input is what Resolve merges.
type Input struct {
	// Environment chosen explicitly; "" means the template's base profile,
	// else development.
	Environment string
	// Template is the user template (with its Parent chain), or nil.
	Template *Template
	// Overrides come last.
	Overrides Overrides
}

// Sources of a setting, as reported by Settings.Sources.
const (
	SourceDefault = "default"
	SourceFlag    = "flag"
)

// Settings are the effective generation settings and where each came from.
type Settings struct {
	Environment          string               `json:"environment"`
	ClusterName          string               `json:"cluster_name"`
	ClientID             string               `json:"client_id"`
	ContactPoints        []string             `json:"contact_points"`
	Datacenter           string               `json:"datacenter"`
	Gateway              *scb.GatewayInfo     `json:"gateway,omitempty"`
	Validity             time.Duration        `json:"-"`
	ValidityText         string               `json:"validity"`
	KeyType              scb.KeyType          `json:"key_type"`
	EncryptKey           bool                 `json:"encrypt_key"`
	HostnameVerification bool                 `json:"hostname_verification"`
	MinTLSVersion        string               `json:"min_tls_version"`
	Drivers              []string             `json:"drivers"`
	Components           []string             `json:"components"`
	PKCS12Cipher         string               `json:"pkcs12_cipher"`
	Connection           scb.ConnectionParams `json:"connection"`
	ReadmeNotes          string               `json:"readme_notes,omitempty"`
	// Sources maps each setting's JSON name to "default", "profile:<env>",
	// "template:<file>" or "flag".
	Sources map[string]string `json:"sources"`
	// Warnings are loud notes about insecure choices the caller allowed.
	Warnings []string `json:"warnings,omitempty"`
	// Profile is the environment's built-in policy.
	Profile Profile `json:"-"`
}

// Resolve merges defaults, the environment's profile, the template chain
// and the overrides, and checks the result against the profile's policy.
func Resolve(in Input) (*Settings, error) {
	env := in.Environment
	if in.Template != nil && in.Template.Base != "" {
		if env != "" && env != in.Template.Base {
			return nil, fmt.Errorf("template %s extends the %s profile but the environment is %s: use --environment %s or a template for %s",
				in.Template.File, in.Template.Base, env, in.Template.Base, env)
		}
		env = in.Template.Base
	}
	if env == "" {
		env = scb.DefaultEnvironment
	}
	prof, err := Builtin(env)
	if err != nil {
		return nil, err
	}
	s := &Settings{Environment: env, Profile: prof, Sources: map[string]string{}}
	set := func(field, src string) { s.Sources[field] = src }

	// Defaults and profile.
	s.Connection = scb.DefaultConnectionParams()
	for _, f := range []string{"connection", "datacenter", "drivers", "components", "pkcs12_cipher", "hostname_verification"} {
		set(f, SourceDefault)
	}
	s.Datacenter = scb.DefaultDatacenter
	s.Drivers = slices.Clone(scb.Drivers)
	s.Components = slices.Clone(scb.Components)
	s.PKCS12Cipher = "aes256"
	s.HostnameVerification = true
	psrc := "profile:" + env
	s.ContactPoints = slices.Clone(prof.ContactPoints)
	if len(s.ContactPoints) == 0 {
		s.ContactPoints = []string{"127.0.0.1:9042"}
		set("contact_points", SourceDefault)
	} else {
		set("contact_points", psrc)
	}
	s.Validity, s.KeyType, s.EncryptKey, s.MinTLSVersion = prof.Validity, prof.KeyType, prof.EncryptKey, prof.MinTLSVersion
	for _, f := range []string{"validity", "key_type", "encrypt_key", "min_tls_version"} {
		set(f, psrc)
	}

	// Templates, root first.
	var chain []*Template
	for t := in.Template; t != nil; t = t.Parent {
		chain = append([]*Template{t}, chain...)
	}
	for _, t := range chain {
		if err := s.applyTemplate(t, env); err != nil {
			return nil, err
		}
	}

	// Overrides.
	o := in.Overrides
	if o.ClusterName != nil {
		s.ClusterName = *o.ClusterName
		set("cluster_name", SourceFlag)
	}
	if o.ClientID != nil {
		s.ClientID = *o.ClientID
		set("client_id", SourceFlag)
	}
	if o.ContactPoints != nil {
		s.ContactPoints = slices.Clone(o.ContactPoints)
		set("contact_points", SourceFlag)
	}
	if o.Datacenter != nil {
		s.Datacenter = *o.Datacenter
		set("datacenter", SourceFlag)
	}
	if o.Gateway != nil {
		g, err := ParseGateway(*o.Gateway)
		if err != nil {
			return nil, err
		}
		s.Gateway = &g
		set("gateway", SourceFlag)
	}
	if o.Validity != nil {
		s.Validity = *o.Validity
		set("validity", SourceFlag)
	}
	if o.KeyType != nil {
		s.KeyType = *o.KeyType
		set("key_type", SourceFlag)
	}
	if o.EncryptKey != nil {
		s.EncryptKey = *o.EncryptKey
		set("encrypt_key", SourceFlag)
	}
	if o.Drivers != nil {
		s.Drivers = slices.Clone(o.Drivers)
		set("drivers", SourceFlag)
	}
	if o.Components != nil {
		s.Components = slices.Clone(o.Components)
		set("components", SourceFlag)
	}
	if o.PKCS12Cipher != nil {
		s.PKCS12Cipher = *o.PKCS12Cipher
		set("pkcs12_cipher", SourceFlag)
	}
	if o.MinTLSVersion != nil {
		s.MinTLSVersion = *o.MinTLSVersion
		set("min_tls_version", SourceFlag)
	}
	if o.InsecureSkipHostnameVerification {
		s.HostnameVerification = false
		set("hostname_verification", SourceFlag)
	}
	s.Connection.MinTLSVersion = s.MinTLSVersion
	s.Connection.HostnameVerification = s.HostnameVerification
	s.ValidityText = s.Validity.String()
	if err := s.check(o); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Settings) applyTemplate(t *Template, env string) error {
	src := "template:" + t.File
	set := func(field string) { s.Sources[field] = src }
	if t.ContactPoints != nil {
		s.ContactPoints = slices.Clone(t.ContactPoints)
		set("contact_points")
	}
	if t.Datacenter != nil {
		s.Datacenter = *t.Datacenter
		set("datacenter")
	}
	if t.Gateway != nil {
		g, _ := ParseGateway(*t.Gateway)
		s.Gateway = &g
		set("gateway")
	}
	if e, ok := t.Environments[env]; ok {
		if e.ContactPoints != nil {
			s.ContactPoints = slices.Clone(e.ContactPoints)
			set("contact_points")
		}
		if e.Datacenter != nil {
			s.Datacenter = *e.Datacenter
			set("datacenter")
		}
		if e.Gateway != nil {
			g, _ := ParseGateway(*e.Gateway)
			s.Gateway = &g
			set("gateway")
		}
	}
	if t.Validity != nil {
		s.Validity, _ = ParseValidity(*t.Validity)
		set("validity")
	}
	if t.KeyType != nil {
		s.KeyType, _ = scb.ParseCertificateKeyType(*t.KeyType)
		set("key_type")
	}
	if t.EncryptKey != nil {
		s.EncryptKey = *t.EncryptKey
		set("encrypt_key")
	}
	if t.HostnameVerification != nil {
		s.HostnameVerification = *t.HostnameVerification
		set("hostname_verification")
	}
	if t.MinTLSVersion != nil {
		s.MinTLSVersion = *t.MinTLSVersion
		set("min_tls_version")
	}
	if t.Drivers != nil {
		s.Drivers = slices.Clone(t.Drivers)
		set("drivers")
	}
	if t.Components != nil {
		s.Components = slices.Clone(t.Components)
		set("components")
	}
	if t.PKCS12Cipher != nil {
		s.PKCS12Cipher = *t.PKCS12Cipher
		set("pkcs12_cipher")
	}
	if t.ReadmeNotes != nil {
		if s.ReadmeNotes != "" {
			s.ReadmeNotes += "\n\n"
		}
		s.ReadmeNotes += strings.TrimSpace(*t.ReadmeNotes)
		set("readme_notes")
	}
	if t.Connection != nil {
		_ = t.Connection.apply(func(_ string, f func(p *scb.ConnectionParams) error) error { return f(&s.Connection) })
		set("connection")
	}
	return nil
}

// check enforces the profile's policy and reports contradictions.
func (s *Settings) check(o Overrides) error {
	p := s.Profile
	if s.Validity <= 0 {
		return fmt.Errorf("validity must be positive, got %s", s.Validity)
	}
	if s.Validity > p.MaxValidity {
		return fmt.Errorf("validity %s (from %s) exceeds the %s maximum of %s", days(s.Validity), s.Sources["validity"], p.Name, days(p.MaxValidity))
	}
	if !s.HostnameVerification && !p.AllowNoHostnameVerification && !o.InsecureSkipHostnameVerification {
		return fmt.Errorf("hostname verification cannot be turned off in %s (hostname_verification is false from %s) without the insecure-skip-hostname-verification override", p.Name, s.Sources["hostname_verification"])
	}
	if !s.HostnameVerification {
		s.Warnings = append(s.Warnings, "hostname verification is OFF: clients will accept any server certificate from this CA, whatever its name (tests only)")
	}
	if !s.EncryptKey && !p.AllowUnencryptedKey {
		if !o.InsecureUnencryptedKey {
			return fmt.Errorf("%s bundles need an encrypted client key (encrypt_key is false from %s): give a key passphrase, or accept the risk explicitly with the insecure-unencrypted-key override", p.Name, s.Sources["encrypt_key"])
		}
		s.Warnings = append(s.Warnings, fmt.Sprintf("the client key of this %s bundle is NOT encrypted (insecure-unencrypted-key override)", p.Name))
	}
	if s.EncryptKey && slices.Contains(s.Components, scb.ComponentStockDriver) {
		if s.Sources["components"] != SourceDefault {
			return fmt.Errorf("the stock-driver component (from %s) needs an unencrypted client key, but encrypt_key is true (from %s): drop one of them", s.Sources["components"], s.Sources["encrypt_key"])
		}
		s.Components = slices.DeleteFunc(s.Components, func(c string) bool {
			return c == scb.ComponentStockDriver || c == scb.ComponentJKS || c == scb.ComponentPKCS12
		})
		s.Warnings = append(s.Warnings, "stock-driver files (config.json, key, cert.pfx, JKS, cqlshrc) are left out because the client key is encrypted; they need a plain key")
	}
	return nil
}

func days(d time.Duration) string {
	if d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// Request turns the settings into a bundle request. The caller adds the CA,
// the key passphrase (when EncryptKey), credentials and renderers.
func (s *Settings) Request() scb.Request {
	r := scb.Request{
		ClusterName: s.ClusterName, ClientID: s.ClientID, Environment: s.Environment,
		ContactPoints: s.ContactPoints, LocalDatacenter: s.Datacenter,
		Validity: s.Validity, KeyType: s.KeyType,
		Drivers: s.Drivers, Components: s.Components,
		LegacyPKCS12:                     s.PKCS12Cipher == "legacy-3des",
		Connection:                       s.Connection,
		InsecureSkipHostnameVerification: !s.HostnameVerification,
		ReadmeNotes:                      s.ReadmeNotes,
	}
	if s.Gateway != nil {
		r.Gateway = *s.Gateway
	}
	return r
}
