package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/profiles"
	"github.com/scbkit/scbkit/scb/render"
	"github.com/scbkit/scbkit/scb/signing"
)

func defaultOutput(cluster, client string, f scb.Format) string {
	name := cluster + "-" + client + "-scb"
	switch f {
	case scb.FormatTarGz:
		return name + ".tar.gz"
	case scb.FormatDir:
		return name
	}
	return name + ".zip"
}

type generateResult struct {
	Output      string    `json:"output"`
	Format      string    `json:"format"`
	BundleID    string    `json:"bundle_id"`
	ClusterName string    `json:"cluster_name"`
	ClientID    string    `json:"client_id"`
	Environment string    `json:"environment"`
	ExpiresAt   time.Time `json:"expires_at"`
	Files       int       `json:"files"`
	CADir       string    `json:"ca_dir"`
	SignedBy    string    `json:"signed_by,omitempty"`
	Warnings    []string  `json:"warnings,omitempty"`
}

type dryRunResult struct {
	Output   string             `json:"output"`
	Format   string             `json:"format"`
	CADir    string             `json:"ca_dir"`
	CAExists bool               `json:"ca_exists"`
	Signing  string             `json:"signing"`
	Settings *profiles.Settings `json:"settings"`
	Preview  *scb.Preview       `json:"preview"`
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

func newGenerateCmd(e *env) *cobra.Command {
	var f caFlags
	var (
		cluster, client, datacenter, validity, keyType, format, compression, out, gateway string
		keyPassFile, template, pkcs12Cipher, minTLS, signPassFile                         string
		contactPoints, drivers, components                                                []string
		force, asJSON, dryRun, insecureNoHostname, insecurePlainKey, noSign               bool
	)
	c := &cobra.Command{
		Use:   "generate",
		Short: "Generate a secure connection bundle",
		Long: `Generate a bundle for one client of one cluster: a new client key and
certificate from the environment's CA, the CA certificate, neutral and
per-driver configuration, the DataStax drivers' secure-connect-bundle files,
a README and a manifest of SHA-256 digests.

Settings come, in order, from built-in defaults, the environment's profile
(see 'scb profiles list'), an optional --template and its parents, and
flags. --dry-run shows the result and where each setting came from, without
creating keys or files.

The bundle is signed with the environment's signing key (see 'scb keys');
the first run in development or testing creates one, like the CA.

Everything is checked before any key is made; the output appears only when
complete (written to a temporary file, then renamed), with mode 0600.
With no CA yet for a development or testing environment, one is created on
first use and the path is reported on stderr.

Staging and production encrypt the client key: give the passphrase with
--key-passphrase-file or SCB_KEY_PASSPHRASE and deliver it out of band.
An encrypted key cannot be used by the stock drivers' bundle mode, so those
files are left out unless you pass --insecure-unencrypted-key.`,
		Example: `  scb generate --cluster dev --client my-app
  scb generate --cluster orders --client billing --environment production \
      --contact-point 10.0.0.5:9042 --contact-point 10.0.0.6 --datacenter dc1 \
      --validity 90d --key-passphrase-file ./billing.pass --out billing.zip
  scb generate --cluster orders --client etl --template team.yaml --dry-run
  scb generate --cluster orders --client ci --drivers java,python --format tar.gz
  scb generate --cluster orders --client ci --out - > bundle.zip     # to stdout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			// Validate every input before touching the CA or the disk.
			if err := scb.CheckName("cluster name", cluster); err != nil {
				return usageErr("use --cluster NAME with letters, digits, '.', '_' or '-'", "%v", err)
			}
			if err := scb.CheckName("client ID", client); err != nil {
				return usageErr("use --client ID with letters, digits, '.', '_' or '-'", "%v", err)
			}
			if f.environment != "" && !slices.Contains(scb.Environments, f.environment) {
				return usageErr("use one of development, staging, production, testing", "unknown environment %q", f.environment)
			}
			ov := profiles.Overrides{ClusterName: &cluster, ClientID: &client,
				InsecureSkipHostnameVerification: insecureNoHostname, InsecureUnencryptedKey: insecurePlainKey}
			if fl.Changed("key-type") {
				kt, err := scb.ParseCertificateKeyType(keyType)
				if err != nil {
					return usageErr("valid key types: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096", "%v", err)
				}
				ov.KeyType = &kt
			}
			fmtv, err := scb.ParseFormat(format)
			if err != nil {
				return usageErr("valid formats: zip, tar.gz, dir", "%v", err)
			}
			comp, err := scb.ParseCompression(compression)
			if err != nil {
				return usageErr("valid levels: fastest, default, best", "%v", err)
			}
			if fl.Changed("validity") {
				v, err := profiles.ParseValidity(validity)
				if err != nil {
					return usageErr("for example --validity 90d", "%v", err)
				}
				ov.Validity = &v
			}
			for _, cp := range contactPoints {
				if _, _, err := scb.SplitHostPort(cp, scb.DefaultCQLPort); err != nil {
					return usageErr("give each contact point as HOST:PORT, e.g. --contact-point 10.0.0.5:9042", "%v", err)
				}
			}
			if len(contactPoints) > 0 {
				ov.ContactPoints = contactPoints
			}
			if fl.Changed("datacenter") {
				ov.Datacenter = &datacenter
			}
			if gateway != "" {
				if _, err := profiles.ParseGateway(gateway); err != nil {
					return usageErr("use --gateway HOST:CQL_PORT[,METADATA_PORT], e.g. gw.example.com:29042,29080", "%v", err)
				}
				ov.Gateway = &gateway
			}
			if fl.Changed("drivers") {
				ov.Drivers = splitList(drivers)
				for _, d := range ov.Drivers {
					if !slices.Contains(scb.Drivers, d) {
						return usageErr("valid drivers: "+strings.Join(scb.Drivers, ", "), "unknown driver %q", d)
					}
				}
			}
			if fl.Changed("components") {
				ov.Components = splitList(components)
				for _, c := range ov.Components {
					if !slices.Contains(scb.Components, c) {
						return usageErr("valid components: "+strings.Join(scb.Components, ", "), "unknown component %q", c)
					}
				}
			}
			if fl.Changed("pkcs12-cipher") {
				if pkcs12Cipher != "aes256" && pkcs12Cipher != "legacy-3des" {
					return usageErr("valid ciphers: aes256, legacy-3des", "unknown PKCS#12 cipher %q", pkcs12Cipher)
				}
				ov.PKCS12Cipher = &pkcs12Cipher
			}
			if fl.Changed("min-tls") {
				if minTLS != "1.2" && minTLS != "1.3" {
					return usageErr("valid versions: 1.2, 1.3", "unknown TLS version %q", minTLS)
				}
				ov.MinTLSVersion = &minTLS
			}
			keyPass, err := e.readSecret(keyPassFile, "SCB_KEY_PASSPHRASE")
			if err != nil {
				return err
			}
			if len(keyPass) > 0 {
				yes := true
				ov.EncryptKey = &yes
			} else if insecurePlainKey {
				no := false
				ov.EncryptKey = &no
			}
			var tmpl *profiles.Template
			if template != "" {
				if tmpl, err = profiles.LoadTemplate(template); err != nil {
					return usageErr("fix the template; 'scb profiles validate FILE' checks it on its own", "invalid template: %v", err)
				}
			}
			settings, err := profiles.Resolve(profiles.Input{Environment: f.environment, Template: tmpl, Overrides: ov})
			if err != nil {
				return usageErr("see 'scb profiles show "+envOr(f.environment, tmpl)+"' for the policy", "%v", err)
			}
			if settings.EncryptKey && len(keyPass) == 0 {
				return usageErr("give it with --key-passphrase-file FILE or SCB_KEY_PASSPHRASE (deliver it to the client separately), or pass --insecure-unencrypted-key",
					"%s bundles encrypt the client key, and no key passphrase was given", settings.Environment)
			}
			f.environment = settings.Environment
			req := settings.Request()
			req.KeyPassphrase = keyPass
			req.Renderers = renderers()
			req.GeneratorVersion = version

			if out == "" {
				out = defaultOutput(cluster, client, fmtv)
			}
			toStdout := out == "-"
			if toStdout && fmtv == scb.FormatDir {
				return usageErr("write a directory with --out DIR, or choose --format zip or tar.gz for stdout", "a directory bundle cannot be written to stdout")
			}
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			if dryRun {
				return e.dryRun(cmd.OutOrStdout(), req, settings, out, fmtv, dir, asJSON, !noSign)
			}
			if !toStdout {
				if atomicfile.Exists(out) && !force {
					return failErr(fmt.Errorf("%s already exists", out), "pass --force to replace it, or choose another --out")
				}
				parent := filepath.Dir(out)
				if st, err := os.Stat(parent); err != nil || !st.IsDir() {
					return failErr(fmt.Errorf("output directory %s does not exist", parent), "create it first or choose another --out")
				}
				if err := checkWritable(parent); err != nil {
					return failErr(fmt.Errorf("output directory %s is not writable", parent), "choose another --out")
				}
			}
			// Everything the request can be checked for without a CA.
			if _, err := scb.Plan(req); err != nil {
				return usageErr("check the flags and template; nothing was written", "%v", err)
			}
			for _, w := range settings.Warnings {
				e.warnf("%s", w)
			}
			issuer, err := e.openCA(dir, &f, true)
			if err != nil {
				return err
			}
			req.CA = issuer
			var signer signing.Signer
			var signerID string
			if !noSign {
				if signer, signerID, err = e.environmentSigner(settings.Environment, signPassFile, true); err != nil {
					return err
				}
			}
			b, err := scb.Build(cmd.Context(), req)
			if errors.Is(err, scb.ErrValidityExceedsCA) {
				return usageErr("choose a shorter --validity", "%v", err)
			}
			if err != nil {
				return failErr(err, "check the flags above; nothing was written")
			}
			switch {
			case signer != nil:
				if err := signing.SignBundle(cmd.Context(), b, signer); err != nil {
					return failErr(fmt.Errorf("sign bundle: %w", err), "pass --no-sign to skip signing")
				}
			case !noSign:
				e.infof("not signed: no signing key for %s (create one with 'scb keys generate --environment %s')", settings.Environment, settings.Environment)
			}
			wo := scb.WriteOptions{Format: fmtv, Compression: comp}
			if toStdout {
				w := bufio.NewWriter(cmd.OutOrStdout())
				if err := b.Encode(w, wo); err != nil {
					return failErr(fmt.Errorf("write bundle: %w", err), "")
				}
				if err := w.Flush(); err != nil {
					return failErr(fmt.Errorf("write bundle: %w", err), "")
				}
			} else if err := b.WriteFile(out, wo, force); err != nil {
				if errors.Is(err, scb.ErrExists) {
					return failErr(err, "pass --force to replace it")
				}
				return failErr(fmt.Errorf("write bundle: %w", err), "check the output path; nothing was written")
			}
			m, _ := b.Metadata()
			res := generateResult{Output: out, Format: string(fmtv), BundleID: m.BundleID, ClusterName: m.ClusterName,
				ClientID: m.ClientID, Environment: m.Environment, ExpiresAt: m.ExpiresAt, Files: b.Len(), CADir: dir,
				SignedBy: signerID, Warnings: settings.Warnings}
			if asJSON && !toStdout {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			signed := "unsigned"
			if signerID != "" {
				signed = "signed by " + signerID[:16]
			}
			e.infof("wrote %s (%d files, %s, %s, client certificate expires %s)", out, b.Len(), m.Environment, signed, m.ExpiresAt.Format("2006-01-02"))
			if len(keyPass) > 0 {
				e.infof("the client key is encrypted: deliver the passphrase to the client separately, never inside the bundle")
			}
			if !toStdout {
				fmt.Fprintln(cmd.OutOrStdout(), out)
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().Lookup("environment").DefValue = ""
	f.environment = ""
	fl := c.Flags()
	fl.StringVar(&cluster, "cluster", "", "cluster name (required)")
	fl.StringVar(&client, "client", "", "client ID: the application or team the bundle is for (required)")
	fl.StringVar(&template, "template", "", "YAML template extending a profile (see 'scb profiles')")
	fl.StringArrayVar(&contactPoints, "contact-point", nil, "node address HOST:PORT (repeatable; default from the profile, 127.0.0.1:9042)")
	fl.StringVar(&datacenter, "datacenter", "", "local datacenter of the client (default datacenter1)")
	fl.StringVar(&gateway, "gateway", "", "scbkit gateway HOST:CQL_PORT[,METADATA_PORT] for stock-driver bundle mode (default: first contact point host, 29042, 29080)")
	fl.StringVar(&validity, "validity", "", "client certificate validity, e.g. 90d or 2160h (default from the profile)")
	fl.StringVar(&keyType, "key-type", string(scb.DefaultKeyType), "client key type: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096")
	fl.StringVar(&keyPassFile, "key-passphrase-file", "", "encrypt certificates/client-key.pem with the passphrase in this file (default $SCB_KEY_PASSPHRASE)")
	fl.StringSliceVar(&drivers, "drivers", nil, "driver families to include, comma-separated (default all: java,python,nodejs,go,dotnet,cpp)")
	fl.StringSliceVar(&components, "components", nil, "optional parts to include: driver-configs,examples,stock-driver,jks,pkcs12 (default all)")
	fl.StringVar(&pkcs12Cipher, "pkcs12-cipher", "aes256", "cert.pfx encryption: aes256, or legacy-3des for old Windows/.NET Framework")
	fl.StringVar(&minTLS, "min-tls", "1.2", "minimum TLS version rendered into configurations: 1.2 or 1.3")
	fl.StringVar(&format, "format", "zip", "output format: zip, tar.gz or dir")
	fl.StringVar(&compression, "compression", "default", "compression: fastest, default or best")
	fl.StringVarP(&out, "out", "o", "", "output path, or - for stdout (default <cluster>-<client>-scb.<ext>)")
	fl.BoolVar(&force, "force", false, "replace an existing output")
	fl.BoolVar(&asJSON, "json", false, "print a JSON summary (or the --dry-run preview) on stdout")
	fl.BoolVar(&noSign, "no-sign", false, "do not sign the bundle even if a signing key exists")
	fl.StringVar(&signPassFile, "signing-passphrase-file", "", "passphrase of the environment's signing key (default $SCB_SIGNING_PASSPHRASE)")
	fl.BoolVar(&dryRun, "dry-run", false, "show what would be generated, and why, without creating keys or files")
	fl.BoolVar(&insecureNoHostname, "insecure-skip-hostname-verification", false, "render configs that skip server host-name checks (tests only; warned about)")
	fl.BoolVar(&insecurePlainKey, "insecure-unencrypted-key", false, "leave the client key unencrypted where the profile requires encryption (warned about)")
	_ = c.MarkFlagRequired("cluster")
	_ = c.MarkFlagRequired("client")
	return c
}

func envOr(env string, t *profiles.Template) string {
	if env != "" {
		return env
	}
	if t != nil && t.Base != "" {
		return t.Base
	}
	return scb.DefaultEnvironment
}

func (e *env) dryRun(w io.Writer, req scb.Request, s *profiles.Settings, out string, f scb.Format, caDir string, asJSON, sign bool) error {
	p, err := scb.Plan(req)
	if err != nil {
		return usageErr("check the flags and template", "%v", err)
	}
	signature, err := e.plannedSignature(s.Environment, sign)
	if err != nil {
		return err
	}
	if signature != "unsigned" {
		// The envelope holds the manifest in base64 plus one signature.
		est := 300
		for _, pf := range p.Files {
			if pf.Path == scb.ManifestPath {
				est += pf.Size * 4 / 3
			}
		}
		p.Files = append(p.Files, scb.PreviewFile{Path: scb.SignaturePath, Size: est, Approximate: true})
	}
	exists := ca.Exists(caDir)
	if exists {
		if _, inter, err := ca.Certificates(caDir); err == nil && p.Metadata.ExpiresAt.After(inter.NotAfter) {
			return usageErr("choose a shorter --validity", "%v: certificate would expire %s, CA expires %s", scb.ErrValidityExceedsCA,
				p.Metadata.ExpiresAt.Format(time.RFC3339), inter.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(dryRunResult{Output: out, Format: string(f), CADir: caDir, CAExists: exists, Signing: signature, Settings: s, Preview: p})
	}
	fmt.Fprintf(w, "Dry run: nothing was created.\n\nWould write %s (%s) with the %s CA in %s", out, f, s.Environment, caDir)
	if !exists {
		fmt.Fprint(w, " (to be created)")
	}
	fmt.Fprintln(w, "\n\nSettings:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row := func(name string, v any) { fmt.Fprintf(tw, "  %s\t%v\t%s\n", name, v, s.Sources[name]) }
	row("environment", s.Environment)
	row("contact_points", strings.Join(s.ContactPoints, ", "))
	row("datacenter", s.Datacenter)
	if s.Gateway != nil {
		row("gateway", fmt.Sprintf("%s:%d (metadata :%d)", s.Gateway.Host, s.Gateway.CQLPort, s.Gateway.MetadataPort))
	}
	row("validity", s.ValidityText)
	row("key_type", s.KeyType)
	row("encrypt_key", s.EncryptKey)
	row("hostname_verification", s.HostnameVerification)
	row("min_tls_version", s.MinTLSVersion)
	row("drivers", strings.Join(s.Drivers, ","))
	row("components", strings.Join(s.Components, ","))
	row("pkcs12_cipher", s.PKCS12Cipher)
	c := s.Connection
	row("connection", fmt.Sprintf("connect %s, request %s, %s, retry %s/%d, %d conn/host, %s, compression %s",
		c.ConnectTimeout.Std(), c.RequestTimeout.Std(), c.Consistency, c.RetryPolicy, c.MaxRetries, c.ConnectionsPerHost, c.LoadBalancing, c.Compression))
	tw.Flush()
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	fmt.Fprintf(w, "Signature: %s\n", signature)
	fmt.Fprintf(w, "\nMetadata: cluster %s, client %s, expires %s\n", p.Metadata.ClusterName, p.Metadata.ClientID, p.Metadata.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintln(w, "\nFiles (~ = estimated size):")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	total := 0
	files := slices.Clone(p.Files)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, pf := range files {
		mark := " "
		if pf.Approximate {
			mark = "~"
		}
		total += pf.Size
		fmt.Fprintf(tw, "  %s%d\t  %s\n", mark, pf.Size, pf.Path)
	}
	tw.Flush()
	fmt.Fprintf(w, "  %d files, ~%d bytes before compression\n", len(files), total)
	return nil
}

// plannedSignature says how a generation would be signed, without
// creating or opening any key: "unsigned", "key <id>" for an existing key,
// or "a new key" when the first run in development or testing would make one.
func (e *env) plannedSignature(environment string, sign bool) (string, error) {
	if !sign {
		return "unsigned", nil
	}
	dir, err := e.signingDir(environment)
	if err != nil {
		return "", err
	}
	if !atomicfile.Exists(filepath.Join(dir, signingKeyFile)) {
		if environment == "development" || environment == "testing" {
			return "a new " + environment + " signing key (created on first use)", nil
		}
		return "unsigned", nil
	}
	if pub, err := os.ReadFile(filepath.Join(dir, signingPubFile)); err == nil {
		if set, err := signing.ParseKeySet(pub); err == nil && set.Len() == 1 {
			return "key " + set.KeyIDs()[0][:16], nil
		}
	}
	return "the " + environment + " signing key in " + dir, nil
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".scb-write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// renderers returns the driver renderers compiled into this binary.
func renderers() []scb.Renderer { return render.All() }
