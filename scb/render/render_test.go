package render

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and the repository's examples/ from the current renderers")

// fixedConfig is the deterministic input of the golden files.
func fixedConfig() *scb.ClientConfig {
	p := scb.DefaultConnectionParams()
	return &scb.ClientConfig{
		Format: "scb-client/1", ClusterName: "orders", Environment: "production", ClientID: "billing",
		ContactPoints:   []string{"10.0.0.5:9042", "10.0.0.6:9042", "[2001:db8::7]:9042"},
		LocalDatacenter: "dc-east",
		TLS: scb.TLSConfig{CACert: scb.CACertPath, ClientCert: scb.ClientCertPath, ClientKey: scb.ClientKeyPath,
			HostnameVerification: true, MinVersion: "1.2"},
		Auth:       scb.AuthConfig{Provider: "password", Username: "billing_app"},
		Connection: p,
		Gateway:    scb.GatewayInfo{Host: "10.0.0.5", CQLPort: 29042, MetadataPort: 29080},
	}
}

func renderAll(t *testing.T, cfg *scb.ClientConfig) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, r := range All() {
		files, err := r.Render(cfg)
		require.NoError(t, err, r.Name())
		for _, f := range files {
			require.True(t, strings.HasPrefix(f.Path, scb.DriverConfigDir(r.Name())) || strings.HasPrefix(f.Path, "examples/"+r.Name()+"/"), f.Path)
			out[f.Path] = f.Data
		}
	}
	return out
}

func TestAllCoversEveryDriver(t *testing.T) {
	var names []string
	for _, r := range All() {
		names = append(names, r.Name())
	}
	require.Equal(t, scb.Drivers, names)
}

// TestGolden compares every rendered configuration file and example README
// with testdata/golden (go test ./scb/render -update rewrites them).
func TestGolden(t *testing.T) {
	files := renderAll(t, fixedConfig())
	for p, data := range files {
		if strings.HasPrefix(p, "examples/") && path.Base(p) != "README.md" {
			continue // static programs: the repository examples/, see TestExamplesComeFromTheRepository
		}
		golden := filepath.Join("testdata", "golden", filepath.FromSlash(p))
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, data, 0o644))
			continue
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "missing golden file: run go test ./scb/render -update")
		require.Equal(t, string(want), string(data), p)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, b := renderAll(t, fixedConfig()), renderAll(t, fixedConfig())
	require.Equal(t, a, b)
}

// TestExamplesComeFromTheRepository: the programs bundles carry are the
// repository's examples/<driver>/ files themselves (one copy, run in CI).
func TestExamplesComeFromTheRepository(t *testing.T) {
	files := renderAll(t, fixedConfig())
	for _, d := range []string{"java", "python", "nodejs", "dotnet", "cpp"} {
		n := 0
		for p, data := range files {
			if !strings.HasPrefix(p, "examples/"+d+"/") || path.Base(p) == "README.md" {
				continue
			}
			repo, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(p)))
			require.NoError(t, err, p)
			require.Equal(t, string(repo), string(data), p)
			n++
		}
		require.Positive(t, n, "no %s example files rendered", d)
	}
}

// TestExamplesAreSmall: examples ride in every bundle.
func TestExamplesAreSmall(t *testing.T) {
	files := renderAll(t, fixedConfig())
	per := map[string]*bytes.Buffer{}
	for p, data := range files {
		if !strings.HasPrefix(p, "examples/") {
			continue
		}
		require.LessOrEqual(t, len(data), 10*1024, p)
		d := strings.Split(p, "/")[1]
		if per[d] == nil {
			per[d] = &bytes.Buffer{}
		}
		zw := zip.NewWriter(per[d])
		w, err := zw.Create(p)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
	}
	require.Len(t, per, len(scb.Drivers))
	for d, b := range per {
		require.LessOrEqual(t, b.Len(), 8*1024, "deflated examples of %s", d)
	}
}

// TestHostnameVerificationFollowsInput renders with verification off (the
// tests-only override) and checks that every format says exactly that,
// while certificate verification stays on.
func TestHostnameVerificationFollowsInput(t *testing.T) {
	cfg := fixedConfig()
	cfg.ContactPoints = []string{"10.0.0.5:9042"}
	for _, on := range []bool{true, false} {
		cfg.TLS.HostnameVerification, cfg.Connection.HostnameVerification = on, on
		files := renderAll(t, cfg)
		b := bstr(on)
		conf := string(files["config/driver-configs/java/application.conf"])
		require.Contains(t, conf, "hostname-validation = "+b+"\n")
		require.Contains(t, conf, "truststore-path = ${scb.bundle-dir}\"/trustStore.jks\"")
		require.Contains(t, string(files["config/driver-configs/python/cassandra.conf"]), "check_hostname = "+b+"\n")
		require.Contains(t, string(files["config/driver-configs/python/cassandra.conf"]), "verify_mode = CERT_REQUIRED\n")
		require.Contains(t, string(files["config/driver-configs/nodejs/cassandra-config.json"]), `"hostnameVerification": `+b)
		require.Contains(t, string(files["config/driver-configs/nodejs/cassandra-config.json"]), `"rejectUnauthorized": true`)
		require.Contains(t, string(files["config/driver-configs/go/connection-params.json"]), `"hostname_verification": `+b)
		require.Contains(t, string(files["config/driver-configs/dotnet/cassandra.config"]), `key="Cassandra:Ssl:HostnameVerification" value="`+b+`"`)
		flags := "CASS_SSL_VERIFY_PEER_CERT | CASS_SSL_VERIFY_PEER_IDENTITY\n"
		if !on {
			flags = "CASS_SSL_VERIFY_PEER_CERT\n"
		}
		require.Contains(t, string(files["config/driver-configs/cpp/connection.ini"]), "verify_flags = "+flags)
	}
}

func TestDisagreeingHostnameSettingsAreRejected(t *testing.T) {
	cfg := fixedConfig()
	cfg.Connection.HostnameVerification = false
	for _, r := range All() {
		_, err := r.Render(cfg)
		require.ErrorContains(t, err, "disagree", r.Name())
	}
}

// TestChecksCatchTampering edits rendered output the way a template bug
// would and expects the parse-back check to refuse it.
func TestChecksCatchTampering(t *testing.T) {
	cfg := fixedConfig()
	in, err := newInput("test", cfg)
	require.NoError(t, err)
	files := renderAll(t, cfg)
	get := func(p string) string { return string(files["config/driver-configs/"+p]) }
	cases := []struct {
		name  string
		check func() error
	}{
		{"java hostname off", func() error {
			return checkJavaConf(in, []byte(strings.Replace(get("java/application.conf"), "hostname-validation = true", "hostname-validation = false", 1)))
		}},
		{"java other truststore", func() error {
			return checkJavaConf(in, []byte(strings.Replace(get("java/application.conf"), `"/trustStore.jks"`, `"/other.jks"`, 1)))
		}},
		{"java unknown key", func() error {
			return checkJavaConf(in, []byte(strings.Replace(get("java/application.conf"), "    class = DefaultSslEngineFactory\n", "    class = DefaultSslEngineFactory\n    cipher-suites = [\"TLS_NULL\"]\n", 1)))
		}},
		{"java contact point", func() error {
			return checkJavaConf(in, []byte(strings.Replace(get("java/application.conf"), "10.0.0.6", "10.0.0.66", 1)))
		}},
		{"java timeout unit", func() error {
			return checkJavaConf(in, []byte(strings.Replace(get("java/application.conf"), "timeout = 12000 milliseconds", "timeout = 12000 seconds", 1)))
		}},
		{"spring ssl", func() error {
			return checkJavaYAML(in, []byte(strings.Replace(get("java/cassandra.yaml"), "    config:", "    ssl: true\n    config:", 1)))
		}},
		{"python hostname off", func() error {
			return checkPythonConf(in, []byte(strings.Replace(get("python/cassandra.conf"), "check_hostname = true", "check_hostname = false", 1)))
		}},
		{"python no verify", func() error {
			return checkPythonConf(in, []byte(strings.Replace(get("python/cassandra.conf"), "CERT_REQUIRED", "CERT_NONE", 1)))
		}},
		{"python yaml ca", func() error {
			return checkPythonYAML(in, []byte(strings.Replace(get("python/connection.yaml"), "certificates/ca-cert.pem", "/etc/ssl/ca.pem", 1)))
		}},
		{"node reject off", func() error {
			return checkNodeJSON(in, []byte(strings.Replace(get("nodejs/cassandra-config.json"), `"rejectUnauthorized": true`, `"rejectUnauthorized": false`, 1)))
		}},
		{"node extra key", func() error {
			return checkNodeJSON(in, []byte(strings.Replace(get("nodejs/cassandra-config.json"), `"rejectUnauthorized": true`, `"rejectUnauthorized": true, "checkServerIdentity": null`, 1)))
		}},
		{"go hostname off", func() error {
			return checkGo(in, files["config/driver-configs/go/config.yaml"], []byte(strings.Replace(get("go/connection-params.json"), `"hostname_verification": true`, `"hostname_verification": false`, 1)))
		}},
		{"go timeout", func() error {
			return checkGo(in, []byte(strings.Replace(get("go/config.yaml"), "timeout: 12s", "timeout: 12ms", 1)), files["config/driver-configs/go/connection-params.json"])
		}},
		{"dotnet xml hostname off", func() error {
			return checkDotNet(in, files["config/driver-configs/dotnet/appsettings.json"],
				[]byte(strings.Replace(get("dotnet/cassandra.config"), `HostnameVerification" value="true"`, `HostnameVerification" value="false"`, 1)))
		}},
		{"dotnet json ca", func() error {
			return checkDotNet(in, []byte(strings.Replace(get("dotnet/appsettings.json"), `"CaCertificate": "certificates/ca-cert.pem"`, `"CaCertificate": "ca.crt"`, 1)), files["config/driver-configs/dotnet/cassandra.config"])
		}},
		{"cpp identity off", func() error {
			return checkCpp(in, files["config/driver-configs/cpp/cassandra.conf"],
				[]byte(strings.Replace(get("cpp/connection.ini"), "verify_flags = CASS_SSL_VERIFY_PEER_CERT | CASS_SSL_VERIFY_PEER_IDENTITY\n", "verify_flags = CASS_SSL_VERIFY_PEER_CERT\n", 1)))
		}},
		{"cpp no verification", func() error {
			return checkCpp(in, []byte(strings.Replace(get("cpp/cassandra.conf"), "ssl_set_verify_flags = CASS_SSL_VERIFY_PEER_CERT | ", "ssl_set_verify_flags = ", 1)), files["config/driver-configs/cpp/connection.ini"])
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.check()
			require.Error(t, err)
			var ce *CheckError
			if errors.As(err, &ce) {
				require.ErrorIs(t, err, ErrCheck)
			}
		})
	}
}

// TestUntrustedValuesStayData feeds hostile values through the renderers:
// they are escaped (HOCON, JSON, YAML, XML) or refused (INI), never able to
// add a key.
func TestUntrustedValuesStayData(t *testing.T) {
	for _, dc := range []string{"dc\" }\nhostname-validation = false #", "dc%(x)s", "dc;x", "dc\u2028x", " dc"} {
		cfg := fixedConfig()
		cfg.LocalDatacenter = dc
		for _, r := range All() {
			files, err := r.Render(cfg)
			if err != nil {
				require.NotErrorIs(t, err, ErrCheck, "%s %q: %v", r.Name(), dc, err)
				continue
			}
			if r.Name() != "java" {
				continue // its own parse-back check passed
			}
			m, err := parseHOCON(string(files[0].Data))
			require.NoError(t, err)
			require.Equal(t, "true", m["datastax-java-driver.advanced.ssl-engine-factory.hostname-validation"].String())
			require.Equal(t, dc, m["datastax-java-driver.basic.load-balancing-policy.local-datacenter"].String())
		}
	}
	// The Java renderer must accept and round-trip them: HOCON quoting is exact.
	for _, s := range []string{`a"b\c`, "x\ny", "${scb.password}", "dc\u2028x", "\U0001F600"} {
		w := &hoconWriter{}
		w.set("k", hstr(s))
		require.NoError(t, w.err)
		m, err := parseHOCON(w.b.String())
		require.NoError(t, err)
		require.Equal(t, s, m["k"].String())
		require.False(t, m["k"].parts[0].subst)
	}
}

func TestMixedPortsKeepFirstPortWhereOnlyOneIsSupported(t *testing.T) {
	cfg := fixedConfig()
	cfg.ContactPoints = []string{"10.0.0.5:9142", "node2.example.com:9042", "10.0.0.7:9142"}
	files := renderAll(t, cfg)
	ini := string(files["config/driver-configs/cpp/connection.ini"])
	require.Contains(t, ini, "contact_points = 10.0.0.5,10.0.0.7\nport = 9142\n")
	require.Contains(t, ini, "left out: node2.example.com:9042")
	require.Contains(t, string(files["config/driver-configs/dotnet/appsettings.json"]), "left out: node2.example.com:9042")
	require.Contains(t, string(files["config/driver-configs/python/cassandra.conf"]), "contact_points = 10.0.0.5:9142, node2.example.com:9042, 10.0.0.7:9142\n")
}

func TestServerNameRejectedWhereUnsupported(t *testing.T) {
	cfg := fixedConfig()
	cfg.TLS.ServerName = "cassandra.internal"
	for _, r := range All() {
		files, err := r.Render(cfg)
		if r.Name() == "java" || r.Name() == "cpp" {
			require.ErrorContains(t, err, "server_name", r.Name())
			continue
		}
		require.NoError(t, err, r.Name())
		var found bool
		for _, f := range files {
			found = found || strings.HasPrefix(f.Path, "config/") && bytes.Contains(f.Data, []byte("cassandra.internal"))
		}
		require.True(t, found, r.Name())
	}
}

// TestBuildSelectsDrivers runs the renderers through scb.Build: only the
// requested drivers' configurations and examples are in the bundle.
func TestBuildSelectsDrivers(t *testing.T) {
	issuer, err := ca.New(ca.Config{})
	require.NoError(t, err)
	b, err := scb.Build(context.Background(), scb.Request{
		ClusterName: "orders", ClientID: "billing", CA: issuer, Renderers: All(),
		Drivers: []string{"java", "python"},
	})
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, p := range b.Paths() {
		for _, prefix := range []string{"config/driver-configs/", "examples/"} {
			if rest, ok := strings.CutPrefix(p, prefix); ok {
				seen[strings.Split(rest, "/")[0]] = true
			}
		}
	}
	require.Equal(t, map[string]bool{"java": true, "python": true}, seen)
	_, ok := b.Get("config/driver-configs/java/application.conf")
	require.True(t, ok)
	_, ok = b.Get("examples/python/example.py")
	require.True(t, ok)
	require.NoError(t, scb.Validate(b, scb.ValidateOptions{}))
}

func FuzzHOCONQuote(f *testing.F) {
	for _, s := range []string{"", "a", `"`, `\`, "${x}", "\x00", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		w := &hoconWriter{}
		w.set("k", hstr(s))
		m, err := parseHOCON(w.b.String())
		if err != nil {
			t.Fatalf("parse %q: %v", w.b.String(), err)
		}
		if got := m["k"].String(); got != s {
			t.Fatalf("round trip %q -> %q", s, got)
		}
	})
}

func FuzzINIValue(f *testing.F) {
	for _, s := range []string{"", "a b", "%", "x\ny", " lead"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := &iniWriter{}
		w.section("s")
		w.set("k", s)
		if w.err != nil {
			return
		}
		m, err := parseINI(w.b.String())
		if err != nil || m["s"]["k"] != s || len(m) != 1 || len(m["s"]) != 1 {
			t.Fatalf("ini round trip of %q: %v %v", s, m, err)
		}
	})
}
