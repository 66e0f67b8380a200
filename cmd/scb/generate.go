package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
)

// parseValidity accepts Go durations ("720h") and days ("90d").
func parseValidity(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, fmt.Errorf("invalid validity %q: use days like 90d or a duration like 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid validity %q: use days like 90d or a duration like 720h", s)
	}
	return v, nil
}

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
}

func newGenerateCmd(e *env) *cobra.Command {
	var f caFlags
	var (
		cluster, client, datacenter, validity, keyType, format, compression, out, gateway string
		keyPassFile                                                                       string
		contactPoints, drivers                                                            []string
		force, asJSON, insecureNoHostname                                                 bool
	)
	c := &cobra.Command{
		Use:   "generate",
		Short: "Generate a secure connection bundle",
		Long: `Generate a bundle for one client of one cluster: a new client key and
certificate from the environment's CA, the CA certificate, neutral and
per-driver configuration, the DataStax drivers' secure-connect-bundle files,
a README and a manifest of SHA-256 digests.

Everything is checked before any key is made; the output appears only when
complete (written to a temporary file, then renamed), with mode 0600.
With no CA yet for the environment, a development or testing CA is created
on first use and the path is reported on stderr.`,
		Example: `  scb generate --cluster dev --client my-app
  scb generate --cluster orders --client billing --environment production \
      --contact-point 10.0.0.5:9042 --contact-point 10.0.0.6 --datacenter dc1 \
      --validity 90d --out billing.zip
  scb generate --cluster orders --client etl --format tar.gz --compression best
  scb generate --cluster orders --client ci --out - > bundle.zip     # to stdout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Validate every input before touching the CA or the disk.
			if err := scb.CheckName("cluster name", cluster); err != nil {
				return usageErr("use --cluster NAME with letters, digits, '.', '_' or '-'", "%v", err)
			}
			if err := scb.CheckName("client ID", client); err != nil {
				return usageErr("use --client ID with letters, digits, '.', '_' or '-'", "%v", err)
			}
			kt, err := scb.ParseCertificateKeyType(keyType)
			if err != nil {
				return usageErr("valid key types: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096", "%v", err)
			}
			fmtv, err := scb.ParseFormat(format)
			if err != nil {
				return usageErr("valid formats: zip, tar.gz, dir", "%v", err)
			}
			comp, err := scb.ParseCompression(compression)
			if err != nil {
				return usageErr("valid levels: fastest, default, best", "%v", err)
			}
			val, err := parseValidity(validity)
			if err != nil {
				return usageErr("for example --validity 90d", "%v", err)
			}
			if validity != "" && val <= 0 {
				return usageErr("for example --validity 90d", "validity must be positive, got %s", validity)
			}
			for _, cp := range contactPoints {
				if _, _, err := scb.SplitHostPort(cp, scb.DefaultCQLPort); err != nil {
					return usageErr("give each contact point as HOST:PORT, e.g. --contact-point 10.0.0.5:9042", "%v", err)
				}
			}
			var gw scb.GatewayInfo
			if gateway != "" {
				if gw, err = parseGateway(gateway); err != nil {
					return usageErr("use --gateway HOST:PORT[,METADATA_PORT], e.g. gw.example.com:29042,29080", "%v", err)
				}
			}
			var drv []string
			for _, d := range drivers {
				for _, x := range strings.Split(d, ",") {
					if x = strings.TrimSpace(x); x != "" {
						if !slices.Contains(scb.Drivers, x) {
							return usageErr("valid drivers: "+strings.Join(scb.Drivers, ", "), "unknown driver %q", x)
						}
						drv = append(drv, x)
					}
				}
			}
			if out == "" {
				out = defaultOutput(cluster, client, fmtv)
			}
			toStdout := out == "-"
			if toStdout && fmtv == scb.FormatDir {
				return usageErr("write a directory with --out DIR, or choose --format zip or tar.gz for stdout", "a directory bundle cannot be written to stdout")
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
			keyPass, err := e.readSecret(keyPassFile, "SCB_KEY_PASSPHRASE")
			if err != nil {
				return err
			}
			if insecureNoHostname {
				e.warnf("--insecure-skip-hostname-verification: the rendered configurations will NOT check server host names (tests only)")
			}
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			issuer, err := e.openCA(dir, &f, true)
			if err != nil {
				return err
			}
			req := scb.Request{
				ClusterName: cluster, ClientID: client, Environment: f.environment,
				ContactPoints: contactPoints, LocalDatacenter: datacenter, Gateway: gw,
				Validity: val, KeyType: kt, KeyPassphrase: keyPass, OmitStockDriverFiles: len(keyPass) > 0,
				Drivers: drv, InsecureSkipHostnameVerification: insecureNoHostname,
				CA: issuer, Renderers: renderers(), GeneratorVersion: version,
			}
			if len(keyPass) > 0 {
				e.infof("client key will be encrypted; stock-driver files (config.json, key, cert.pfx, JKS) are left out because the drivers need a plain key")
			}
			b, err := scb.Build(cmd.Context(), req)
			if errors.Is(err, scb.ErrValidityExceedsCA) {
				return usageErr("choose a shorter --validity", "%v", err)
			}
			if err != nil {
				return failErr(err, "check the flags above; nothing was written")
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
				ClientID: m.ClientID, Environment: m.Environment, ExpiresAt: m.ExpiresAt, Files: b.Len(), CADir: dir}
			if asJSON && !toStdout {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			e.infof("wrote %s (%d files, %s, client certificate expires %s)", out, b.Len(), f.environment, m.ExpiresAt.Format("2006-01-02"))
			if !toStdout {
				fmt.Fprintln(cmd.OutOrStdout(), out)
			}
			return nil
		},
	}
	f.register(c)
	fl := c.Flags()
	fl.StringVar(&cluster, "cluster", "", "cluster name (required)")
	fl.StringVar(&client, "client", "", "client ID: the application or team the bundle is for (required)")
	fl.StringArrayVar(&contactPoints, "contact-point", nil, "node address HOST:PORT (repeatable; default 127.0.0.1:9042)")
	fl.StringVar(&datacenter, "datacenter", "", "local datacenter of the client (default datacenter1)")
	fl.StringVar(&gateway, "gateway", "", "scbkit gateway HOST:CQL_PORT[,METADATA_PORT] for stock-driver bundle mode (default: first contact point host, 29042, 29080)")
	fl.StringVar(&validity, "validity", "", "client certificate validity, e.g. 90d or 2160h (default 365d)")
	fl.StringVar(&keyType, "key-type", string(scb.DefaultKeyType), "client key type: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096")
	fl.StringVar(&keyPassFile, "key-passphrase-file", "", "encrypt certificates/client-key.pem with the passphrase in this file (default $SCB_KEY_PASSPHRASE; unset = unencrypted)")
	fl.StringSliceVar(&drivers, "drivers", nil, "driver families to include, comma-separated (default all: java,python,nodejs,go,dotnet,cpp)")
	fl.StringVar(&format, "format", "zip", "output format: zip, tar.gz or dir")
	fl.StringVar(&compression, "compression", "default", "compression: fastest, default or best")
	fl.StringVarP(&out, "out", "o", "", "output path, or - for stdout (default <cluster>-<client>-scb.<ext>)")
	fl.BoolVar(&force, "force", false, "replace an existing output")
	fl.BoolVar(&asJSON, "json", false, "print a JSON summary on stdout")
	fl.BoolVar(&insecureNoHostname, "insecure-skip-hostname-verification", false, "render configs that skip server host-name checks (tests only)")
	_ = c.MarkFlagRequired("cluster")
	_ = c.MarkFlagRequired("client")
	return c
}

func parseGateway(s string) (scb.GatewayInfo, error) {
	main, meta, hasMeta := strings.Cut(s, ",")
	h, p, err := scb.SplitHostPort(main, scb.DefaultGatewayPort)
	if err != nil {
		return scb.GatewayInfo{}, err
	}
	g := scb.GatewayInfo{Host: h, CQLPort: p, MetadataPort: scb.DefaultMetadataPort}
	if hasMeta {
		mp, err := strconv.Atoi(strings.TrimSpace(meta))
		if err != nil || mp < 1 || mp > 65535 {
			return scb.GatewayInfo{}, fmt.Errorf("invalid metadata port %q", meta)
		}
		g.MetadataPort = mp
	}
	return g, nil
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
func renderers() []scb.Renderer { return nil }
