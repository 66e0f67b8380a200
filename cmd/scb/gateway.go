package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/gateway"
	"github.com/scbkit/scbkit/scb/loader"
)

// gatewayFile is the YAML configuration of "scb gateway". Secrets are
// never values in it: the password comes from a file or an environment
// variable, key passphrases from SCB_KEY_PASSPHRASE or a file.
type gatewayFile struct {
	// PublicHost is the DNS name in the bundles' config.json "host".
	PublicHost string `yaml:"public_host"`
	// AdvertiseCQLPort overrides the port in sni_proxy_address (behind a
	// load balancer that maps ports). 0: the CQL listener's port.
	AdvertiseCQLPort int    `yaml:"advertise_cql_port"`
	Mode             string `yaml:"mode"`
	Listen           struct {
		Metadata string `yaml:"metadata"`
		CQL      string `yaml:"cql"`
		Admin    string `yaml:"admin"`
	} `yaml:"listen"`
	TLS struct {
		CertFile          string `yaml:"cert_file"`
		KeyFile           string `yaml:"key_file"`
		KeyPassphraseFile string `yaml:"key_passphrase_file"`
		ClientCAFile      string `yaml:"client_ca_file"`
		MinVersion        string `yaml:"min_version"`
	} `yaml:"tls"`
	Cluster struct {
		Bundle            string   `yaml:"bundle"`
		ContactPoints     []string `yaml:"contact_points"`
		CAFile            string   `yaml:"ca_file"`
		CertFile          string   `yaml:"cert_file"`
		KeyFile           string   `yaml:"key_file"`
		KeyPassphraseFile string   `yaml:"key_passphrase_file"`
		ServerName        string   `yaml:"server_name"`
		Username          string   `yaml:"username"`
		PasswordFile      string   `yaml:"password_file"`
		PasswordEnv       string   `yaml:"password_env"`
		Password          *string  `yaml:"password"`
		LocalDC           string   `yaml:"local_dc"`
		Region            string   `yaml:"region"`
	} `yaml:"cluster"`
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	ProbeTimeout    time.Duration `yaml:"probe_timeout"`
	DialTimeout     time.Duration `yaml:"dial_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	Log             struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
}

const gatewayExample = `# scb gateway configuration
public_host: cassandra.example.com       # config.json "host" of the bundles; the cert must name it
listen:
  metadata: ":29080"                     # HTTPS metadata service (client certificate required)
  cql: ":29042"                          # SNI proxy
  admin: "127.0.0.1:29090"               # /healthz /readyz /nodes /metrics (plain HTTP; keep it private)
mode: terminate                          # or passthrough
tls:
  cert_file: gateway-tls/server-cert.pem # scb ca issue-server --host cassandra.example.com --out gateway-tls
  key_file: gateway-tls/server-key.pem
  client_ca_file: gateway-tls/ca-cert.pem  # the CA that issues the bundles
cluster:
  bundle: gateway-scb.zip                # an scb bundle for the gateway itself (scb generate --client gateway)
  # or: contact_points: [10.0.0.5:9042], ca_file, cert_file, key_file
  username: gateway                      # a role that can read system tables
  password_file: /run/secrets/gateway-password   # or password_env: GATEWAY_PASSWORD
  local_dc: dc1
refresh_interval: 10s
shutdown_timeout: 30s
`

func newGatewayCmd(e *env) *cobra.Command {
	var configPath, logLevel string
	var check bool
	c := &cobra.Command{
		Use:   "gateway --config FILE",
		Short: "Run the metadata service and SNI proxy for the stock drivers' bundle mode",
		Long: `Run the scbkit gateway: the metadata service and SNI proxy that the DataStax
drivers use in secure-connect-bundle mode (withCloudSecureConnectBundle,
cloud={'secure_connect_bundle': ...}, cloud: {secureConnectBundle}), so they
connect to a self-managed Cassandra cluster with an unmodified bundle from
'scb generate --gateway HOST:CQL_PORT,METADATA_PORT'.

The gateway follows the cluster's topology with a monitoring role, answers
GET /metadata with the live nodes of its datacenter, and forwards each TLS
connection to the node whose host_id it names as TLS server name. Client
certificates must come from the bundle CA. SIGINT or SIGTERM stops accepting,
drains open connections for shutdown_timeout, then exits.

Configuration (YAML; passwords only through password_file or password_env):

` + gatewayExample,
		Example: `  scb gateway --config gateway.yaml
  scb gateway --config gateway.yaml --check     # validate and load everything, then exit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return usageErr("pass --config FILE; 'scb gateway --help' shows an example", "--config is required")
			}
			rc, err := loadGatewayConfig(e, configPath)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if logLevel == "" {
				logLevel = rc.file.Log.Level
			}
			if logLevel != "" {
				if err := level.UnmarshalText([]byte(logLevel)); err != nil {
					return usageErr("use debug, info, warn or error", "invalid log level %q", logLevel)
				}
			}
			var h slog.Handler = slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})
			if rc.file.Log.Format == "json" {
				h = slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level})
			}
			logger := slog.New(h)
			if check {
				fmt.Fprintf(cmd.OutOrStdout(), "configuration OK: public host %s, mode %s, metadata %s, cql %s, cluster %v\n",
					rc.cfg.PublicHost, rc.cfg.Mode, rc.file.Listen.Metadata, rc.file.Listen.CQL, rc.cluster.ContactPoints)
				return nil
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runGateway(ctx, rc, logger)
		},
	}
	c.Flags().StringVar(&configPath, "config", "", "YAML configuration file (required)")
	c.Flags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (overrides log.level)")
	c.Flags().BoolVar(&check, "check", false, "check the configuration and files, then exit without connecting")
	return c
}

// gatewayRun is a checked configuration, ready to start.
type gatewayRun struct {
	file    *gatewayFile
	cfg     gateway.Config
	cluster gateway.CassandraConfig
}

func loadGatewayConfig(e *env, path string) (*gatewayRun, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, failErr(fmt.Errorf("read gateway configuration: %w", err), "check the --config path")
	}
	var f gatewayFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, usageErr("see 'scb gateway --help' for the fields", "%s: %v", path, err)
	}
	bad := func(format string, a ...any) error {
		return usageErr("see 'scb gateway --help' for an example configuration", "%s: "+format, append([]any{path}, a...)...)
	}
	if f.Cluster.Password != nil {
		return nil, usageErr("put the password in a file (cluster.password_file) or an environment variable (cluster.password_env)",
			"%s: cluster.password is not allowed: secrets never go in the configuration file", path)
	}
	if f.PublicHost == "" {
		return nil, bad("public_host is required")
	}
	if net.ParseIP(f.PublicHost) != nil {
		e.warnf("public_host %s is an IP address: the Node.js driver ignores IP SANs and the Java driver reverse-resolves IPs; use a DNS name", f.PublicHost)
	}
	mode, err := gateway.ParseMode(f.Mode)
	if err != nil {
		return nil, bad("%v", err)
	}
	if f.Listen.Metadata == "" {
		f.Listen.Metadata = ":" + strconv.Itoa(scb.DefaultMetadataPort)
	}
	if f.Listen.CQL == "" {
		f.Listen.CQL = ":" + strconv.Itoa(scb.DefaultGatewayPort)
	}
	if f.Listen.Admin == "" {
		f.Listen.Admin = "127.0.0.1:29090"
	}
	for name, a := range map[string]string{"listen.metadata": f.Listen.Metadata, "listen.cql": f.Listen.CQL, "listen.admin": f.Listen.Admin} {
		if a == "off" && name == "listen.admin" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, bad("%s %q: want host:port", name, a)
		}
	}
	if f.TLS.CertFile == "" || f.TLS.KeyFile == "" || f.TLS.ClientCAFile == "" {
		return nil, bad("tls.cert_file, tls.key_file and tls.client_ca_file are required")
	}
	minVer := uint16(tls.VersionTLS12)
	switch f.TLS.MinVersion {
	case "", "1.2":
	case "1.3":
		minVer = tls.VersionTLS13
		e.warnf("tls.min_version 1.3 locks out the C# driver, which offers at most TLS 1.2 in bundle mode")
	default:
		return nil, bad("tls.min_version %q: want 1.2 or 1.3", f.TLS.MinVersion)
	}
	serverCert, err := loadKeyPair(e, f.TLS.CertFile, f.TLS.KeyFile, f.TLS.KeyPassphraseFile)
	if err != nil {
		return nil, err
	}
	if err := serverCert.Leaf.VerifyHostname(f.PublicHost); err != nil {
		return nil, failErr(fmt.Errorf("%s is not valid for public_host %s: %w", f.TLS.CertFile, f.PublicHost, err),
			"issue one with: scb ca issue-server --host "+f.PublicHost+" --out DIR")
	}
	if serverCert.Leaf.Subject.CommonName != f.PublicHost {
		e.warnf("%s has CN %q, not %q: drivers that check the CN (Node's quick path, older C# and Python reactors) may refuse it", f.TLS.CertFile, serverCert.Leaf.Subject.CommonName, f.PublicHost)
	}
	clientCAs, err := loadPool(f.TLS.ClientCAFile)
	if err != nil {
		return nil, err
	}

	// The gateway's own connection to the cluster.
	var upstream *tls.Config
	cc := gateway.CassandraConfig{Username: f.Cluster.Username}
	switch {
	case f.Cluster.Bundle != "":
		pass, err := e.readSecret(f.Cluster.KeyPassphraseFile, "SCB_KEY_PASSPHRASE")
		if err != nil {
			return nil, err
		}
		lb, err := loader.Open(f.Cluster.Bundle, loader.Options{KeyPassphrase: pass})
		if err != nil {
			return nil, failErr(fmt.Errorf("cluster.bundle: %w", err), "generate one for the gateway: scb generate --client gateway ...")
		}
		upstream = lb.TLSConfig()
		eps := lb.Endpoints()
		for _, ep := range eps.ContactPoints {
			cc.ContactPoints = append(cc.ContactPoints, net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port)))
		}
		if f.Cluster.LocalDC == "" {
			f.Cluster.LocalDC = eps.LocalDatacenter
		}
	case f.Cluster.CAFile != "" && f.Cluster.CertFile != "" && f.Cluster.KeyFile != "":
		roots, err := loadPool(f.Cluster.CAFile)
		if err != nil {
			return nil, err
		}
		pair, err := loadKeyPair(e, f.Cluster.CertFile, f.Cluster.KeyFile, f.Cluster.KeyPassphraseFile)
		if err != nil {
			return nil, err
		}
		upstream = &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	default:
		return nil, bad("cluster.bundle, or cluster.ca_file + cert_file + key_file, is required")
	}
	if f.Cluster.ServerName != "" {
		upstream = upstream.Clone()
		upstream.ServerName = f.Cluster.ServerName
	}
	if len(f.Cluster.ContactPoints) > 0 {
		cc.ContactPoints = f.Cluster.ContactPoints
	}
	if len(cc.ContactPoints) == 0 {
		return nil, bad("cluster.contact_points is required")
	}
	for _, cp := range cc.ContactPoints {
		if _, _, err := net.SplitHostPort(cp); err != nil {
			return nil, bad("contact point %q: want host:port", cp)
		}
	}
	cc.TLS = upstream
	if f.Cluster.Username != "" {
		var pw []byte
		switch {
		case f.Cluster.PasswordFile != "":
			pw, err = e.readSecret(f.Cluster.PasswordFile, "")
			if err != nil {
				return nil, err
			}
		case f.Cluster.PasswordEnv != "":
			pw = []byte(e.getenv(f.Cluster.PasswordEnv))
		}
		if len(pw) == 0 {
			return nil, usageErr("set cluster.password_file or cluster.password_env (and export the variable)",
				"%s: no password for cluster user %q", path, f.Cluster.Username)
		}
		cc.Password = string(pw)
	}
	cfg := gateway.Config{
		PublicHost: f.PublicHost, PublicCQLPort: f.AdvertiseCQLPort, Certificate: &serverCert,
		ClientCAs: clientCAs, MinTLSVersion: minVer, Mode: mode, UpstreamTLS: upstream,
		LocalDC: f.Cluster.LocalDC, Region: f.Cluster.Region,
		RefreshInterval: f.RefreshInterval, ProbeTimeout: f.ProbeTimeout, DialTimeout: f.DialTimeout,
		ShutdownTimeout: f.ShutdownTimeout,
	}
	return &gatewayRun{file: &f, cfg: cfg, cluster: cc}, nil
}

func runGateway(ctx context.Context, rc *gatewayRun, logger *slog.Logger) error {
	var lc net.ListenConfig
	listen := func(what, addr string) (net.Listener, error) {
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, failErr(fmt.Errorf("listen %s on %s: %w", what, addr, err), "choose a free address in listen."+what)
		}
		return l, nil
	}
	var ls gateway.Listeners
	var err error
	if ls.Metadata, err = listen("metadata", rc.file.Listen.Metadata); err != nil {
		return err
	}
	defer ls.Metadata.Close()
	if ls.CQL, err = listen("cql", rc.file.Listen.CQL); err != nil {
		return err
	}
	defer ls.CQL.Close()
	if rc.file.Listen.Admin != "off" {
		if ls.Admin, err = listen("admin", rc.file.Listen.Admin); err != nil {
			return err
		}
		defer ls.Admin.Close()
	}
	rc.cluster.Logger = logger
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	src, err := gateway.NewCassandraSource(cctx, rc.cluster)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return failErr(err, "check cluster.contact_points, the gateway's client certificate and the monitoring credentials")
	}
	defer src.Close()
	rc.cfg.Source = src
	rc.cfg.Logger = logger
	g, err := gateway.New(rc.cfg)
	if err != nil {
		return failErr(err, "")
	}
	if err := g.Serve(ctx, ls); err != nil {
		return failErr(err, "")
	}
	return nil
}

func loadKeyPair(e *env, certFile, keyFile, passFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, failErr(fmt.Errorf("read certificate: %w", err), "check the cert_file path")
	}
	chain, err := scb.ParseCertificatesPEM(certPEM)
	if err != nil || len(chain) == 0 {
		return tls.Certificate{}, failErr(fmt.Errorf("%s: no PEM certificate", certFile), "give the certificate chain PEM (leaf first)")
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, failErr(fmt.Errorf("read key: %w", err), "check the key_file path")
	}
	var pass []byte
	if scb.IsEncryptedKeyPEM(keyPEM) {
		if pass, err = e.readSecret(passFile, "SCB_KEY_PASSPHRASE"); err != nil {
			return tls.Certificate{}, err
		}
		if pass == nil {
			return tls.Certificate{}, usageErr("set SCB_KEY_PASSPHRASE or key_passphrase_file", "%s is encrypted and no passphrase was given", keyFile)
		}
	}
	key, err := scb.ParsePrivateKeyPEM(keyPEM, pass)
	if err != nil {
		// The error never echoes key material.
		return tls.Certificate{}, failErr(fmt.Errorf("%s: %w", keyFile, err), "give the PKCS#8 key that belongs to "+certFile)
	}
	c := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(chain[0].PublicKey) {
		return tls.Certificate{}, failErr(fmt.Errorf("%s does not belong to %s", keyFile, certFile), "give matching certificate and key files")
	}
	return c, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, failErr(fmt.Errorf("read CA file: %w", err), "check the CA file path")
	}
	certs, err := scb.ParseCertificatesPEM(data)
	if err != nil || len(certs) == 0 {
		return nil, failErr(fmt.Errorf("%s: no PEM certificate", file), "give a PEM file of CA certificates")
	}
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p, nil
}
