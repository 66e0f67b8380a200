package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/profiles"
)

type caFlags struct {
	dir         string
	environment string
	passFile    string
}

func (f *caFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "dir", "", "CA directory (default $SCB_HOME/ca/<environment>, $SCB_HOME defaulting to ~/.scb)")
	c.Flags().StringVar(&f.environment, "environment", scb.DefaultEnvironment, "environment whose CA to use: development, staging, production or testing")
	c.Flags().StringVar(&f.passFile, "ca-passphrase-file", "", "file holding the CA key passphrase (\"-\" for stdin; default $SCB_CA_PASSPHRASE)")
}

func (f *caFlags) resolve(e *env) (string, error) {
	if f.environment == "" {
		f.environment = scb.DefaultEnvironment
	}
	if !slices.Contains(scb.Environments, f.environment) {
		return "", usageErr("use one of development, staging, production, testing", "unknown environment %q", f.environment)
	}
	if f.dir != "" {
		return f.dir, nil
	}
	return e.caDir(f.environment)
}

// openCA opens the CA in dir. With autoCreate, a missing CA is created:
// encrypted when a passphrase is available, otherwise (development and
// testing only) unencrypted with a warning.
func (e *env) openCA(dir string, f *caFlags, autoCreate bool) (*ca.Local, error) {
	pass, err := e.readSecret(f.passFile, "SCB_CA_PASSPHRASE")
	if err != nil {
		return nil, err
	}
	if ca.Exists(dir) {
		l, err := ca.Open(dir, ca.OpenOptions{Passphrase: pass})
		switch {
		case errors.Is(err, scb.ErrPassphrase):
			return nil, failErr(fmt.Errorf("cannot open the CA in %s: %w", dir, err), "give the CA passphrase with --ca-passphrase-file FILE or SCB_CA_PASSPHRASE")
		case err != nil:
			return nil, failErr(fmt.Errorf("cannot open the CA in %s: %w", dir, err), "restore the CA directory from backup, or create a new CA with 'scb ca init --dir DIR' (bundles from the old CA will stop being trusted)")
		}
		return l, nil
	}
	if !autoCreate {
		return nil, failErr(fmt.Errorf("no CA in %s", dir), fmt.Sprintf("create one with 'scb ca init --environment %s'", f.environment))
	}
	opts := ca.InitOptions{Passphrase: pass, Config: ca.Config{Name: caName(f.environment)}}
	if len(pass) == 0 {
		if f.environment != "development" && f.environment != "testing" {
			return nil, failErr(fmt.Errorf("no CA for the %s environment in %s", f.environment, dir),
				fmt.Sprintf("create one with a passphrase: SCB_CA_PASSPHRASE=... scb ca init --environment %s", f.environment))
		}
		opts.InsecureUnencryptedKeys = true
	}
	l, err := ca.Init(dir, opts)
	if err != nil {
		return nil, failErr(fmt.Errorf("create CA in %s: %w", dir, err), "check that the directory is writable, or set SCB_HOME")
	}
	if len(pass) == 0 {
		e.infof("created a %s CA in %s (keys NOT encrypted: set SCB_CA_PASSPHRASE before first use to encrypt them)", f.environment, dir)
	} else {
		e.infof("created a %s CA in %s", f.environment, dir)
	}
	return l, nil
}

// caName is the CA name prefix for an environment, from its profile.
func caName(environment string) string {
	if p, err := profiles.Builtin(environment); err == nil {
		return p.CAName
	}
	return "scbkit " + environment
}

func newCACmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "ca",
		Short: "Create and use the certificate authority",
		Long: `The CA signs client certificates for bundles and server certificates for
Cassandra nodes and gateways. Each environment has its own CA under
$SCB_HOME/ca/<environment> (root + intermediate; directory 0700, files 0600;
keys encrypted with the passphrase from --ca-passphrase-file or
SCB_CA_PASSPHRASE).`,
	}
	c.AddCommand(newCAInitCmd(e), newCAIssueServerCmd(e), newCAPathCmd(e))
	return c
}

func newCAInitCmd(e *env) *cobra.Command {
	var f caFlags
	var keyType string
	var validity time.Duration
	var insecure bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Create a new CA",
		Example: `  SCB_CA_PASSPHRASE=$(cat /secure/pass) scb ca init --environment production
  scb ca init --dir ./dev-ca --insecure-unencrypted-keys     # development only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			kt, err := scb.ParseCertificateKeyType(keyType)
			if err != nil {
				return usageErr("valid key types: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096", "%v", err)
			}
			if validity < 0 {
				return usageErr("give a positive duration such as 87600h", "validity must be positive")
			}
			pass, err := e.readSecret(f.passFile, "SCB_CA_PASSPHRASE")
			if err != nil {
				return err
			}
			if len(pass) == 0 && !insecure {
				return usageErr("set SCB_CA_PASSPHRASE or --ca-passphrase-file, or pass --insecure-unencrypted-keys for a development CA", "a passphrase is required to encrypt the CA keys")
			}
			if ca.Exists(dir) {
				return failErr(fmt.Errorf("a CA already exists in %s", dir), "use it as it is, or choose another --dir")
			}
			if insecure {
				e.warnf("writing CA keys UNENCRYPTED to %s: anyone who can read them can issue certificates your clusters trust", dir)
			}
			l, err := ca.Init(dir, ca.InitOptions{
				Config:                  ca.Config{Name: caName(f.environment), KeyType: kt, Validity: validity},
				Passphrase:              pass,
				InsecureUnencryptedKeys: insecure,
			})
			if err != nil {
				return failErr(fmt.Errorf("create CA: %w", err), "check that the directory is writable")
			}
			e.infof("created CA %q (expires %s, SHA-256 %s)", l.Root().Subject.CommonName, l.Root().NotAfter.UTC().Format("2006-01-02"), scb.Fingerprint(l.Root()))
			fmt.Fprintln(cmd.OutOrStdout(), dir)
			return nil
		},
	}
	f.register(c)
	c.Flags().StringVar(&keyType, "key-type", string(scb.DefaultKeyType), "CA key type: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096")
	c.Flags().DurationVar(&validity, "validity", 0, "root validity (default 87600h, ten years)")
	c.Flags().BoolVar(&insecure, "insecure-unencrypted-keys", false, "write the CA keys without encryption (development only)")
	return c
}

func newCAPathCmd(e *env) *cobra.Command {
	var f caFlags
	c := &cobra.Command{
		Use:   "path",
		Short: "Print the CA directory for an environment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), dir)
			return nil
		},
	}
	f.register(c)
	return c
}

func newCAIssueServerCmd(e *env) *cobra.Command {
	var f caFlags
	var hosts []string
	var out, keyType, keyPassFile string
	var validity time.Duration
	var force bool
	c := &cobra.Command{
		Use:   "issue-server",
		Short: "Issue a server certificate for a Cassandra node or gateway",
		Long: `Issue a TLS server certificate (EKU serverAuth) for the given host names and
IP addresses, and write into --out:

  server-cert.pem   certificate followed by the intermediate
  server-key.pem    PKCS#8 private key (0600)
  ca-cert.pem       the CA root: use it as the node's truststore, so the node
                    accepts client certificates from this CA's bundles

These are the files Cassandra's PEMBasedSslContextFactory reads, e.g.:

  client_encryption_options:
    enabled: true
    optional: false
    require_client_auth: true
    ssl_context_factory:
      class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
    keystore: /etc/cassandra/tls/server-key-and-cert.pem   # key + cert concatenated
    truststore: /etc/cassandra/tls/ca-cert.pem`,
		Example: `  scb ca issue-server --host node1.db.internal --host 10.0.0.5 --out ./node1-tls
  scb ca issue-server --environment production --host gw.db.example.com --out ./gateway-tls`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(hosts) == 0 {
				return usageErr("name each DNS name or IP address with --host", "at least one --host is required")
			}
			if out == "" {
				return usageErr("choose an output directory with --out DIR", "--out is required")
			}
			kt, err := scb.ParseCertificateKeyType(keyType)
			if err != nil {
				return usageErr("valid key types: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096", "%v", err)
			}
			if validity < 0 {
				return usageErr("give a positive duration such as 8760h", "validity must be positive")
			}
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			if !force {
				for _, n := range []string{ca.ServerCertFile, ca.ServerKeyFile, ca.ServerCAFile} {
					if atomicfile.Exists(filepath.Join(out, n)) {
						return failErr(fmt.Errorf("%s already exists", filepath.Join(out, n)), "pass --force to replace it")
					}
				}
			}
			keyPass, err := e.readSecret(keyPassFile, "SCB_KEY_PASSPHRASE")
			if err != nil {
				return err
			}
			issuer, err := e.openCA(dir, &f, false)
			if err != nil {
				return err
			}
			sc, err := ca.IssueServer(context.Background(), issuer, ca.ServerRequest{Hosts: hosts, KeyType: kt, Validity: validity})
			if errors.Is(err, scb.ErrValidityExceedsCA) {
				return usageErr("choose a shorter --validity", "%v", err)
			}
			if err != nil {
				return usageErr("use DNS names like node1.example.com or IP addresses", "%v", err)
			}
			if err := sc.WriteFiles(out, keyPass, force); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return failErr(err, "pass --force to replace existing files")
				}
				return failErr(fmt.Errorf("write server certificate: %w", err), "check that the output directory is writable")
			}
			e.infof("issued server certificate for %v (expires %s)", hosts, sc.Chain[0].NotAfter.UTC().Format("2006-01-02"))
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	f.register(c)
	c.Flags().StringArrayVar(&hosts, "host", nil, "DNS name or IP address for the certificate (repeatable)")
	c.Flags().StringVar(&out, "out", "", "output directory (created 0700)")
	c.Flags().StringVar(&keyType, "key-type", string(scb.DefaultKeyType), "key type: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096")
	c.Flags().DurationVar(&validity, "validity", 0, "certificate validity (default 8760h, one year)")
	c.Flags().StringVar(&keyPassFile, "key-passphrase-file", "", "encrypt server-key.pem with the passphrase in this file (default $SCB_KEY_PASSPHRASE; unencrypted when unset)")
	c.Flags().BoolVar(&force, "force", false, "replace existing files in --out")
	return c
}
