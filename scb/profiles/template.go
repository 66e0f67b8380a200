package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scbkit/scbkit/scb"
)

// Error is a template validation error with its position.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// ErrCycle means templates extend each other in a loop.
var ErrCycle = errors.New("templates extend each other in a cycle")

// Template is a user template: a YAML file whose every field is optional.
// A template extends a built-in profile (extends: production) or another
// template (extends: ./base.yaml, relative to this file); the chain ends
// at a built-in profile or at a template with no extends.
type Template struct {
	Name                 string                  `yaml:"name"`
	Description          string                  `yaml:"description"`
	Extends              string                  `yaml:"extends"`
	Environments         map[string]EnvEndpoints `yaml:"environments"`
	ContactPoints        []string                `yaml:"contact_points"`
	Datacenter           *string                 `yaml:"datacenter"`
	Gateway              *string                 `yaml:"gateway"`
	Validity             *string                 `yaml:"validity"`
	KeyType              *string                 `yaml:"key_type"`
	EncryptKey           *bool                   `yaml:"encrypt_key"`
	HostnameVerification *bool                   `yaml:"hostname_verification"`
	MinTLSVersion        *string                 `yaml:"min_tls_version"`
	Drivers              []string                `yaml:"drivers"`
	Components           []string                `yaml:"components"`
	PKCS12Cipher         *string                 `yaml:"pkcs12_cipher"`
	Connection           *ConnectionTemplate     `yaml:"connection"`
	ReadmeNotes          *string                 `yaml:"readme_notes"`

	// File is where the template was read from.
	File string `yaml:"-"`
	// Parent is the template this one extends, or nil.
	Parent *Template `yaml:"-"`
	// Base is the built-in profile at the root of the chain, or "".
	Base string `yaml:"-"`

	root *yaml.Node
}

// EnvEndpoints are the endpoints of one environment.
type EnvEndpoints struct {
	ContactPoints []string `yaml:"contact_points"`
	Datacenter    *string  `yaml:"datacenter"`
	Gateway       *string  `yaml:"gateway"`
}

// ConnectionTemplate overrides connection parameters.
type ConnectionTemplate struct {
	ConnectTimeout     *string `yaml:"connect_timeout"`
	RequestTimeout     *string `yaml:"request_timeout"`
	Consistency        *string `yaml:"consistency"`
	RetryPolicy        *string `yaml:"retry_policy"`
	MaxRetries         *int    `yaml:"max_retries"`
	ConnectionsPerHost *int    `yaml:"connections_per_host"`
	LoadBalancing      *string `yaml:"load_balancing"`
	Compression        *string `yaml:"compression"`
}

// MaxTemplateSize bounds template files.
const MaxTemplateSize = 256 << 10

// maxDepth bounds extends chains.
const maxDepth = 16

// LoadTemplate reads and validates the template at path and every template
// it extends. Errors are *Error values carrying the file, line and field.
func LoadTemplate(path string) (*Template, error) {
	return loadTemplate(path, map[string]bool{}, 0)
}

func loadTemplate(path string, seen map[string]bool, depth int) (*Template, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if seen[abs] {
		return nil, &Error{File: path, Msg: ErrCycle.Error()}
	}
	if depth >= maxDepth {
		return nil, &Error{File: path, Msg: fmt.Sprintf("extends chain deeper than %d", maxDepth)}
	}
	seen[abs] = true
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if fi.Size() > MaxTemplateSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("template larger than %d bytes", MaxTemplateSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	t, err := ParseTemplate(path, data)
	if err != nil {
		return nil, err
	}
	if t.Extends == "" {
		return t, nil
	}
	if _, err := Builtin(t.Extends); err == nil {
		t.Base = t.Extends
		return t, nil
	}
	if !strings.ContainsAny(t.Extends, "/\\") && !strings.HasSuffix(t.Extends, ".yaml") && !strings.HasSuffix(t.Extends, ".yml") {
		return nil, &Error{File: path, Line: t.line("extends"), Field: "extends",
			Msg: fmt.Sprintf("unknown profile %q (allowed: %s, or a template path such as ./base.yaml)", t.Extends, strings.Join(scb.Environments, ", "))}
	}
	parentPath := t.Extends
	if !filepath.IsAbs(parentPath) {
		parentPath = filepath.Join(filepath.Dir(path), parentPath)
	}
	parent, err := loadTemplate(parentPath, seen, depth+1)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) && pe.File == parentPath && pe.Line == 0 && !strings.Contains(pe.Msg, "cycle") && !strings.Contains(pe.Msg, "deeper") {
			return nil, &Error{File: path, Line: t.line("extends"), Field: "extends", Msg: fmt.Sprintf("cannot load %s: %s", t.Extends, pe.Msg)}
		}
		return nil, err
	}
	t.Parent = parent
	t.Base = parent.Base
	return t, nil
}

// ParseTemplate decodes and validates one template without following
// extends. name is used in error messages.
func ParseTemplate(name string, data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	t := &Template{File: name, root: &root}
	if len(root.Content) == 0 {
		return t, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(t); err != nil {
		return nil, yamlError(name, err)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// yamlError turns yaml.v3 errors ("yaml: line 3: field foo not found in
// type ...") into *Error.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	field := ""
	if strings.HasPrefix(msg, "field ") && strings.Contains(msg, " not found in type") {
		field = strings.Fields(msg)[1]
		msg = "unknown field (allowed: " + allowedFields + ")"
	}
	return &Error{File: file, Line: line, Field: field, Msg: msg}
}

const allowedFields = "name, description, extends, environments, contact_points, datacenter, gateway, validity, key_type, encrypt_key, hostname_verification, min_tls_version, drivers, components, pkcs12_cipher, connection, readme_notes"

// line finds the line of a dotted key path in the template.
func (t *Template) line(path ...string) int {
	n := t.root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// elemLine finds the line of element i of the sequence at key.
func (t *Template) elemLine(key string, i int) int {
	n := t.root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for j := 0; n.Kind == yaml.MappingNode && j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			if v := n.Content[j+1]; v.Kind == yaml.SequenceNode && i < len(v.Content) {
				return v.Content[i].Line
			}
			return n.Content[j].Line
		}
	}
	return 0
}

func (t *Template) errf(field string, path []string, format string, a ...any) error {
	return &Error{File: t.File, Line: t.line(path...), Field: field, Msg: fmt.Sprintf(format, a...)}
}

// ParseValidity accepts days ("90d") or Go durations ("2160h").
func ParseValidity(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, fmt.Errorf("invalid validity %q: use days like 90d or a duration like 2160h", s)
		}
		if n <= 0 {
			return 0, fmt.Errorf("validity must be positive, got %s", s)
		}
		return time.Duration(n) * day, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid validity %q: use days like 90d or a duration like 2160h", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("validity must be positive, got %s", s)
	}
	return v, nil
}

func (t *Template) validate() error {
	for env, e := range t.Environments {
		if _, err := Builtin(env); err != nil {
			return t.errf("environments."+env, []string{"environments", env}, "unknown environment (allowed: %s)", strings.Join(scb.Environments, ", "))
		}
		for _, cp := range e.ContactPoints {
			if _, _, err := scb.SplitHostPort(cp, scb.DefaultCQLPort); err != nil {
				return t.errf("environments."+env+".contact_points", []string{"environments", env, "contact_points"}, "%v", err)
			}
		}
		if e.Gateway != nil {
			if _, err := ParseGateway(*e.Gateway); err != nil {
				return t.errf("environments."+env+".gateway", []string{"environments", env, "gateway"}, "%v", err)
			}
		}
	}
	for _, cp := range t.ContactPoints {
		if _, _, err := scb.SplitHostPort(cp, scb.DefaultCQLPort); err != nil {
			return t.errf("contact_points", []string{"contact_points"}, "%v", err)
		}
	}
	if t.Gateway != nil {
		if _, err := ParseGateway(*t.Gateway); err != nil {
			return t.errf("gateway", []string{"gateway"}, "%v", err)
		}
	}
	if t.Validity != nil {
		if _, err := ParseValidity(*t.Validity); err != nil {
			return t.errf("validity", []string{"validity"}, "%v", err)
		}
	}
	if t.KeyType != nil {
		if _, err := scb.ParseCertificateKeyType(*t.KeyType); err != nil {
			return t.errf("key_type", []string{"key_type"}, "%v", err)
		}
	}
	if t.MinTLSVersion != nil && *t.MinTLSVersion != "1.2" && *t.MinTLSVersion != "1.3" {
		return t.errf("min_tls_version", []string{"min_tls_version"}, "%q is not valid (allowed: 1.2, 1.3)", *t.MinTLSVersion)
	}
	for i, d := range t.Drivers {
		if !contains(scb.Drivers, d) {
			return &Error{File: t.File, Line: t.elemLine("drivers", i), Field: "drivers", Msg: fmt.Sprintf("unknown driver %q (allowed: %s)", d, strings.Join(scb.Drivers, ", "))}
		}
	}
	for i, c := range t.Components {
		if !contains(scb.Components, c) {
			return &Error{File: t.File, Line: t.elemLine("components", i), Field: "components", Msg: fmt.Sprintf("unknown component %q (allowed: %s)", c, strings.Join(scb.Components, ", "))}
		}
	}
	if t.PKCS12Cipher != nil && *t.PKCS12Cipher != "aes256" && *t.PKCS12Cipher != "legacy-3des" {
		return t.errf("pkcs12_cipher", []string{"pkcs12_cipher"}, "%q is not valid (allowed: aes256, legacy-3des)", *t.PKCS12Cipher)
	}
	if t.Connection != nil {
		if err := t.Connection.validate(t); err != nil {
			return err
		}
	}
	return nil
}

func (c *ConnectionTemplate) validate(t *Template) error {
	check := func(field string, apply func(p *scb.ConnectionParams) error) error {
		p := scb.DefaultConnectionParams()
		if err := apply(&p); err != nil {
			return t.errf("connection."+field, []string{"connection", field}, "%v", err)
		}
		if err := p.Validate(); err != nil {
			return t.errf("connection."+field, []string{"connection", field}, "%v", err)
		}
		return nil
	}
	return c.apply(check)
}

// apply calls set once per field present, with a function that writes the
// field into a ConnectionParams.
func (c *ConnectionTemplate) apply(set func(field string, f func(p *scb.ConnectionParams) error) error) error {
	dur := func(s string) (scb.Duration, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (e.g. 5s, 500ms)", s)
		}
		return scb.Duration(d), nil
	}
	steps := []struct {
		field string
		ok    bool
		f     func(p *scb.ConnectionParams) error
	}{
		{"connect_timeout", c.ConnectTimeout != nil, func(p *scb.ConnectionParams) (err error) { p.ConnectTimeout, err = dur(*c.ConnectTimeout); return }},
		{"request_timeout", c.RequestTimeout != nil, func(p *scb.ConnectionParams) (err error) { p.RequestTimeout, err = dur(*c.RequestTimeout); return }},
		{"consistency", c.Consistency != nil, func(p *scb.ConnectionParams) error { p.Consistency = strings.ToUpper(*c.Consistency); return nil }},
		{"retry_policy", c.RetryPolicy != nil, func(p *scb.ConnectionParams) error { p.RetryPolicy = *c.RetryPolicy; return nil }},
		{"max_retries", c.MaxRetries != nil, func(p *scb.ConnectionParams) error { p.MaxRetries = *c.MaxRetries; return nil }},
		{"connections_per_host", c.ConnectionsPerHost != nil, func(p *scb.ConnectionParams) error { p.ConnectionsPerHost = *c.ConnectionsPerHost; return nil }},
		{"load_balancing", c.LoadBalancing != nil, func(p *scb.ConnectionParams) error { p.LoadBalancing = *c.LoadBalancing; return nil }},
		{"compression", c.Compression != nil, func(p *scb.ConnectionParams) error { p.Compression = *c.Compression; return nil }},
	}
	for _, s := range steps {
		if !s.ok {
			continue
		}
		if err := set(s.field, s.f); err != nil {
			return err
		}
	}
	return nil
}

// ParseGateway parses HOST:CQL_PORT[,METADATA_PORT].
func ParseGateway(s string) (scb.GatewayInfo, error) {
	hp, meta, hasMeta := strings.Cut(s, ",")
	h, p, err := scb.SplitHostPort(hp, scb.DefaultGatewayPort)
	if err != nil {
		return scb.GatewayInfo{}, err
	}
	g := scb.GatewayInfo{Host: h, CQLPort: p, MetadataPort: scb.DefaultMetadataPort}
	if hasMeta {
		mp, err := strconv.Atoi(strings.TrimSpace(meta))
		if err != nil || mp < 1 || mp > 65535 {
			return scb.GatewayInfo{}, fmt.Errorf("invalid metadata port %q (want HOST:CQL_PORT,METADATA_PORT)", meta)
		}
		g.MetadataPort = mp
	}
	return g, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
