package profiles_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/profiles"
)

func build(t *testing.T, s *profiles.Settings, pass []byte) *scb.Bundle {
	t.Helper()
	authority, err := ca.New(ca.Config{})
	require.NoError(t, err)
	req := s.Request()
	req.CA = authority
	req.KeyPassphrase = pass
	b, err := scb.Build(context.Background(), req)
	require.NoError(t, err)
	return b
}

func ptr[T any](v T) *T { return &v }

func TestBuiltinProfilesShapeBundles(t *testing.T) {
	base := profiles.Overrides{ClusterName: ptr("c"), ClientID: ptr("app")}
	for _, tc := range []struct {
		env        string
		validity   time.Duration
		encrypted  bool
		stockFiles bool
		marker     string
	}{
		{"development", 365 * 24 * time.Hour, false, true, ""},
		{"testing", 30 * 24 * time.Hour, false, true, "NOT FOR PRODUCTION"},
		{"staging", 90 * 24 * time.Hour, true, false, ""},
		{"production", 90 * 24 * time.Hour, true, false, ""},
	} {
		t.Run(tc.env, func(t *testing.T) {
			s, err := profiles.Resolve(profiles.Input{Environment: tc.env, Overrides: base})
			require.NoError(t, err)
			require.Equal(t, tc.validity, s.Validity)
			require.Equal(t, tc.encrypted, s.EncryptKey)
			require.Equal(t, "profile:"+tc.env, s.Sources["validity"])
			var pass []byte
			if tc.encrypted {
				pass = []byte("pw")
			}
			b := build(t, s, pass)
			m, err := b.Metadata()
			require.NoError(t, err)
			require.Equal(t, tc.env, m.Environment)
			require.Equal(t, tc.encrypted, m.Client.KeyEncrypted)
			require.WithinDuration(t, time.Now().Add(tc.validity), m.ExpiresAt, time.Minute)
			_, hasStock := b.Get(scb.CloudConfigPath)
			require.Equal(t, tc.stockFiles, hasStock)
			_, ok := b.Get(scb.ConnectionProfilePath(tc.env))
			require.True(t, ok)
			readme, _ := b.Get(scb.ReadmePath)
			if tc.env == "testing" {
				require.Contains(t, string(readme), "TESTING BUNDLE")
				require.Contains(t, m.Client.Subject, tc.marker)
			} else {
				require.NotContains(t, string(readme), "TESTING BUNDLE")
			}
			require.NotContains(t, strings.ToLower(string(readme)), "verification off")
			if tc.env == "production" {
				require.Contains(t, string(readme), "third of the validity")
			}
		})
	}
}

func TestTemplateInheritanceAndSources(t *testing.T) {
	tmpl, err := profiles.LoadTemplate("testdata/team.yaml")
	require.NoError(t, err)
	require.Equal(t, "production", tmpl.Base)
	s, err := profiles.Resolve(profiles.Input{Template: tmpl, Overrides: profiles.Overrides{
		ClusterName: ptr("orders"), ClientID: ptr("billing"), Datacenter: ptr("eu-central"),
	}})
	require.NoError(t, err)
	require.Equal(t, "production", s.Environment)
	require.Equal(t, []string{"db1.example.com:9042", "db2.example.com:9042"}, s.ContactPoints)
	require.Equal(t, "template:testdata/base.yaml", s.Sources["contact_points"])
	require.Equal(t, "eu-central", s.Datacenter)
	require.Equal(t, profiles.SourceFlag, s.Sources["datacenter"])
	require.Equal(t, scb.KeyECDSAP384, s.KeyType)
	require.Equal(t, 30*24*time.Hour, s.Validity)
	require.Equal(t, "template:testdata/team.yaml", s.Sources["validity"])
	require.Equal(t, []string{"java", "go"}, s.Drivers)
	require.Equal(t, 3*time.Second, s.Connection.ConnectTimeout.Std())
	require.Equal(t, "none", s.Connection.RetryPolicy)
	require.Equal(t, "Base notes.\n\nTeam notes.", s.ReadmeNotes)
	require.Equal(t, "profile:production", s.Sources["encrypt_key"])
}

func TestResolveRefusesContradictions(t *testing.T) {
	o := profiles.Overrides{ClusterName: ptr("c"), ClientID: ptr("x")}
	_, err := profiles.Resolve(profiles.Input{Environment: "production", Overrides: withValidity(o, 365*24*time.Hour)})
	require.ErrorContains(t, err, "exceeds the production maximum of 180d")

	no := false
	o2 := o
	o2.EncryptKey = &no
	_, err = profiles.Resolve(profiles.Input{Environment: "production", Overrides: o2})
	require.ErrorContains(t, err, "need an encrypted client key")
	o2.InsecureUnencryptedKey = true
	s, err := profiles.Resolve(profiles.Input{Environment: "production", Overrides: o2})
	require.NoError(t, err)
	require.Len(t, s.Warnings, 1)
	require.Contains(t, s.Warnings[0], "NOT encrypted")

	o3 := o
	o3.InsecureSkipHostnameVerification = true
	s, err = profiles.Resolve(profiles.Input{Environment: "development", Overrides: o3})
	require.NoError(t, err)
	require.False(t, s.HostnameVerification)
	require.True(t, s.Request().InsecureSkipHostnameVerification)

	tmpl, err := profiles.ParseTemplate("t.yaml", []byte("extends: production\nhostname_verification: false\n"))
	require.NoError(t, err)
	tmpl.Base = "production"
	_, err = profiles.Resolve(profiles.Input{Template: tmpl, Overrides: o})
	require.ErrorContains(t, err, "hostname verification cannot be turned off in production")
}

func withValidity(o profiles.Overrides, d time.Duration) profiles.Overrides {
	o.Validity = &d
	return o
}

func TestTemplateErrorsCarryPosition(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"key_type: dsa\n", "t.yaml:1: key_type: unknown key type"},
		{"validity: 10\n", "t.yaml:1: validity: invalid validity"},
		{"min_tls_version: \"1.1\"\n", "t.yaml:1: min_tls_version: \"1.1\" is not valid (allowed: 1.2, 1.3)"},
		{"components:\n  - configs\n", "t.yaml:2: components: unknown component \"configs\" (allowed: driver-configs, examples, stock-driver, jks, pkcs12)"},
		{"connection:\n  max_retries: 99\n", "t.yaml:2: connection.max_retries: max retries 99 out of range 0..10"},
		{"environments:\n  qa:\n    datacenter: x\n", "t.yaml:2: environments.qa: unknown environment"},
		{"gateway: \"gw:99999\"\n", "t.yaml:1: gateway: malformed endpoint"},
		{"a: [\n", "t.yaml:"},
		{"drivers: 5\n", "t.yaml:1:"},
	} {
		_, err := profiles.ParseTemplate("t.yaml", []byte(tc.src))
		require.Error(t, err, tc.src)
		require.Contains(t, err.Error(), tc.want, tc.src)
		var pe *profiles.Error
		require.ErrorAs(t, err, &pe)
	}
}

// TestPreviewMatchesGeneration checks that Plan predicts the exact file set
// and metadata of the bundle Build then produces.
func TestPreviewMatchesGeneration(t *testing.T) {
	tmpl, err := profiles.LoadTemplate("testdata/team.yaml")
	require.NoError(t, err)
	s, err := profiles.Resolve(profiles.Input{Template: tmpl, Overrides: profiles.Overrides{ClusterName: ptr("orders"), ClientID: ptr("billing")}})
	require.NoError(t, err)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	req := s.Request()
	req.KeyPassphrase = []byte("pw")
	req.Now = func() time.Time { return now }
	plan, err := scb.Plan(req)
	require.NoError(t, err)

	authority, err := ca.New(ca.Config{Now: req.Now})
	require.NoError(t, err)
	req.CA = authority
	b, err := scb.Build(context.Background(), req)
	require.NoError(t, err)
	var planned []string
	for _, f := range plan.Files {
		planned = append(planned, f.Path)
		if !f.Approximate {
			got, _ := b.Get(f.Path)
			require.Equal(t, f.Size, len(got), "exact size of %s", f.Path)
		}
	}
	require.Equal(t, b.Paths(), planned)
	m, err := b.Metadata()
	require.NoError(t, err)
	require.Equal(t, m.ExpiresAt, plan.Metadata.ExpiresAt)
	require.Equal(t, m.Parameters, plan.Metadata.Parameters)
	require.Equal(t, m.Clusters, plan.Metadata.Clusters)
	require.Equal(t, m.Client.Subject, plan.Metadata.Client.Subject)
	require.Equal(t, m.SupportedDrivers, plan.Metadata.SupportedDrivers)
}

// TestEncryptedKeyInterop opens the encrypted client key with OpenSSL,
// Python's cryptography and Node.js crypto, with the right passphrase and
// a wrong one.
func TestEncryptedKeyInterop(t *testing.T) {
	s, err := profiles.Resolve(profiles.Input{Environment: "production", Overrides: profiles.Overrides{ClusterName: ptr("c"), ClientID: ptr("x")}})
	require.NoError(t, err)
	b := build(t, s, []byte("right horse"))
	key, _ := b.Get(scb.ClientKeyPath)
	require.Contains(t, string(key), "ENCRYPTED PRIVATE KEY")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "client-key.pem")
	require.NoError(t, os.WriteFile(keyFile, key, 0o600))

	tools := []struct {
		name string
		cmd  func(pass string) *exec.Cmd
	}{
		{"openssl", func(pass string) *exec.Cmd {
			return exec.Command("openssl", "pkey", "-in", keyFile, "-passin", "pass:"+pass, "-noout")
		}},
		{"python3", func(pass string) *exec.Cmd {
			return exec.Command("python3", "-c", `import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
load_pem_private_key(open(sys.argv[1],'rb').read(), password=sys.argv[2].encode())`, keyFile, pass)
		}},
		{"node", func(pass string) *exec.Cmd {
			return exec.Command("node", "-e", `const c=require('crypto'),fs=require('fs');
c.createPrivateKey({key: fs.readFileSync(process.argv[1]), passphrase: process.argv[2]});`, keyFile, pass)
		}},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			if _, err := exec.LookPath(tool.name); err != nil {
				t.Fatalf("%s is required for this test: %v", tool.name, err)
			}
			out, err := tool.cmd("right horse").CombinedOutput()
			require.NoError(t, err, "%s refused the right passphrase: %s", tool.name, out)
			out, err = tool.cmd("wrong horse").CombinedOutput()
			require.Error(t, err, "%s accepted a wrong passphrase: %s", tool.name, out)
		})
	}
}

func TestBuiltinsAreDocumented(t *testing.T) {
	var names []string
	for _, p := range profiles.Builtins() {
		names = append(names, p.Name)
		require.NotEmpty(t, p.Description)
		require.LessOrEqual(t, p.Validity, p.MaxValidity)
		require.NotEmpty(t, p.CAName)
	}
	slices.Sort(names)
	want := slices.Clone(scb.Environments)
	slices.Sort(want)
	require.Equal(t, want, names)
}
