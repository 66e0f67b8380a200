package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
	"github.com/scbkit/scbkit/scb/verify"
)

func newVerifyCmd(e *env) *cobra.Command {
	var keyFiles, keySets []string
	var sigFile, at, environment, keyPassFile string
	var requireSig, requireDetached, asJSON bool
	var threshold int
	c := &cobra.Command{
		Use:   "verify BUNDLE",
		Short: "Check a bundle: signature, digests, certificates, expiry, consistency",
		Long: `Check a bundle and report each check separately:

  detached_signature  BUNDLE.sig over the archive bytes (when present or named)
  archive             safe paths, no links, size limits
  completeness        every required file present
  signature           signatures/manifest.dsse.json by a key you trust
  manifest            every file matches manifest.json
  chain               client certificate chains to certificates/ca-cert.pem
  validity            not expired, not yet valid, expiring soon (warning)
  consistency         PEM files, PKCS#12, JKS and config.json agree

Trusted keys come from outside the bundle: --key (PEM public keys) and
--keys (JWKS key sets), or else the environment's trusted-keys.jwks.json in
$SCB_HOME/signing/<environment>/ when it exists. With trusted keys, an
unsigned bundle is rejected.

Exit codes: 0 valid, 3 bundle rejected, 1 could not run, 2 usage.`,
		Example: `  scb verify orders-billing-scb.zip --keys trusted-keys.jwks.json
  scb verify bundle.zip --key signer.pub.pem --require-detached --json
  scb verify bundle.zip --environment production`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if _, err := os.Stat(path); err != nil {
				return failErr(fmt.Errorf("%s does not exist", path), "give the path of a bundle (.zip, .tar.gz or directory)")
			}
			opts := verify.Options{RequireSignature: requireSig, RequireDetachedSignature: requireDetached, Threshold: threshold, DetachedSignature: sigFile}
			if threshold < 0 {
				return usageErr("give a positive --threshold", "invalid threshold %d", threshold)
			}
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return usageErr("use an RFC 3339 time such as 2027-01-01T00:00:00Z", "invalid --at %q", at)
				}
				opts.Now = t
			}
			keys := &signing.KeySet{}
			add := func(file string, data []byte) error {
				set, err := signing.ParseKeySet(data)
				if err != nil {
					return failErr(fmt.Errorf("trusted keys %s: %w", file, err), "give PEM public keys with --key or a JWKS key set with --keys")
				}
				for _, id := range set.KeyIDs() {
					k, _ := set.Lookup(id)
					if err := keys.Add(k); err != nil {
						return failErr(fmt.Errorf("trusted keys %s: %w", file, err), "")
					}
				}
				return nil
			}
			for _, f := range append(append([]string{}, keyFiles...), keySets...) {
				data, err := os.ReadFile(f)
				if err != nil {
					return failErr(fmt.Errorf("read trusted keys: %w", err), "check the path given to --key/--keys")
				}
				if err := add(f, data); err != nil {
					return err
				}
			}
			if keys.Len() == 0 && cmd.Flags().Changed("environment") || keys.Len() == 0 && len(keyFiles)+len(keySets) == 0 {
				dir, err := e.signingDir(environment)
				if err != nil {
					return err
				}
				f := filepath.Join(dir, trustedKeysFile)
				if data, err := os.ReadFile(f); err == nil {
					if err := add(f, data); err != nil {
						return err
					}
					e.infof("trusting the %s keys in %s", environment, f)
				} else if cmd.Flags().Changed("environment") {
					return failErr(fmt.Errorf("no trusted keys for %s in %s", environment, dir), "pass --keys FILE")
				}
			}
			if keys.Len() > 0 {
				opts.Keys = keys
			}
			if requireSig && opts.Keys == nil {
				return usageErr("name the keys you trust with --key or --keys", "--require-signature needs trusted keys")
			}
			pass, err := e.readSecret(keyPassFile, "SCB_KEY_PASSPHRASE")
			if err != nil {
				return err
			}
			opts.KeyPassphrase = pass
			r := verify.VerifyFile(path, opts)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return failErr(err, "")
				}
			} else {
				printReport(cmd.OutOrStdout(), path, r)
			}
			switch code := r.ExitCode(); code {
			case exitOK:
				return nil
			case exitRejected:
				return &cliError{code: exitRejected, err: fmt.Errorf("%s rejected: %s", path, r.Outcome()), hint: "do not use this bundle; ask its issuer for a new one"}
			default:
				return &cliError{code: code, err: fmt.Errorf("could not verify %s: %v", path, r.Err()), hint: "see the failed check above"}
			}
		},
	}
	c.Flags().StringArrayVar(&keyFiles, "key", nil, "trusted public key, PEM (repeatable)")
	c.Flags().StringArrayVar(&keySets, "keys", nil, "trusted key set, JWKS (repeatable)")
	c.Flags().StringVar(&environment, "environment", scb.DefaultEnvironment, "use this environment's trusted keys from $SCB_HOME when no --key/--keys is given")
	c.Flags().StringVar(&sigFile, "sig", "", "detached signature file (default BUNDLE.sig when it exists)")
	c.Flags().BoolVar(&requireSig, "require-signature", false, "fail when the bundle is not signed by a trusted key")
	c.Flags().BoolVar(&requireDetached, "require-detached", false, "fail when there is no detached signature")
	c.Flags().IntVar(&threshold, "threshold", 1, "how many distinct trusted keys must have signed")
	c.Flags().StringVar(&at, "at", "", "verify as of this time (RFC 3339) instead of now")
	c.Flags().StringVar(&keyPassFile, "key-passphrase-file", "", "passphrase of an encrypted client key, for the consistency check (default $SCB_KEY_PASSPHRASE)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON on stdout")
	return c
}

func printReport(w io.Writer, path string, r *verify.Report) {
	fmt.Fprintf(w, "Verification of %s at %s\n", path, r.Time.UTC().Format(time.RFC3339))
	for _, res := range r.Results {
		mark := map[verify.Status]string{verify.StatusPass: "ok  ", verify.StatusWarn: "warn", verify.StatusFail: "FAIL", verify.StatusSkip: "skip"}[res.Status]
		line := fmt.Sprintf("  %s  %-19s %s", mark, res.Check, res.Message)
		if len(res.KeyIDs) > 0 {
			short := make([]string, len(res.KeyIDs))
			for i, k := range res.KeyIDs {
				short[i] = k[:min(16, len(k))]
			}
			line += " (keys " + strings.Join(short, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "Result: %s\n", r.Outcome())
}
