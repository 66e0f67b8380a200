package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

// formatOf guesses a bundle path's format from what it is.
func formatOf(path string) (scb.Format, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return scb.FormatDir, nil
	}
	if strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz") {
		return scb.FormatTarGz, nil
	}
	return scb.FormatZip, nil
}

func newSignCmd(e *env) *cobra.Command {
	var keyFile, passFile, environment string
	var detached bool
	c := &cobra.Command{
		Use:   "sign BUNDLE",
		Short: "Sign a bundle (embedded manifest signature, or a detached BUNDLE.sig)",
		Long: `Sign the bundle's manifest.json and store the DSSE envelope in
signatures/manifest.dsse.json, replacing the bundle atomically. A bundle can
carry several signatures (one per key): signing with another key adds one.

With --detached, the archive file itself is signed instead, into BUNDLE.sig
next to it, so a download can be checked before it is opened.

The key is --key FILE, or the environment's key in $SCB_HOME/signing/.
Passphrase: --signing-passphrase-file or SCB_SIGNING_PASSPHRASE.`,
		Example: `  scb sign orders-billing-scb.zip --key ./signing-key.pem
  scb sign orders-billing-scb.zip --environment production --detached`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			f, err := formatOf(path)
			if errors.Is(err, fs.ErrNotExist) {
				return failErr(fmt.Errorf("%s does not exist", path), "give the path of a bundle")
			}
			if err != nil {
				return failErr(err, "")
			}
			if detached && f == scb.FormatDir {
				return usageErr("sign the directory's content without --detached, or sign a zip/tar.gz", "a directory has no archive bytes to sign")
			}
			var signer signing.Signer
			var id string
			if keyFile != "" {
				pass, err := e.readSecret(passFile, "SCB_SIGNING_PASSPHRASE")
				if err != nil {
					return err
				}
				key, err := signing.ReadPrivateKeyFile(keyFile, pass)
				if errors.Is(err, scb.ErrPassphrase) {
					return failErr(fmt.Errorf("cannot open %s: %w", keyFile, err), "give the passphrase with --signing-passphrase-file or SCB_SIGNING_PASSPHRASE")
				}
				if err != nil {
					return failErr(fmt.Errorf("cannot read the signing key %s: %w", keyFile, err), "give a key made by 'scb keys generate'")
				}
				if signer, err = signing.NewSigner(key); err != nil {
					return failErr(err, "")
				}
				id, _ = signing.KeyID(key.Public())
			} else {
				if signer, id, err = e.environmentSigner(environment, passFile, false); err != nil {
					return err
				}
				if signer == nil {
					return failErr(fmt.Errorf("no signing key for the %s environment", environment), "pass --key FILE, or create one with 'scb keys generate --environment "+environment+"'")
				}
			}
			if detached {
				sig, err := signing.SignArchiveFile(cmd.Context(), path, signer)
				if err != nil {
					return failErr(fmt.Errorf("sign %s: %w", path, err), "")
				}
				e.infof("signed %s with key %s", path, id)
				fmt.Fprintln(cmd.OutOrStdout(), sig)
				return nil
			}
			b, err := scb.ReadFile(path, scb.Limits{})
			if err != nil {
				return &cliError{code: exitRejected, err: fmt.Errorf("cannot read %s as a bundle: %w", path, err), hint: "the file is damaged or is not a bundle"}
			}
			if err := signing.SignBundle(cmd.Context(), b, signer); err != nil {
				return &cliError{code: exitRejected, err: fmt.Errorf("refusing to sign %s: %w", path, err), hint: "only an intact bundle can be signed; check it with 'scb inspect'"}
			}
			if err := b.WriteFile(path, scb.WriteOptions{Format: f}, true); err != nil {
				return failErr(fmt.Errorf("write %s: %w", path, err), "")
			}
			e.infof("signed %s with key %s", path, id)
			fmt.Fprintln(cmd.OutOrStdout(), path)
			return nil
		},
	}
	c.Flags().StringVar(&keyFile, "key", "", "private signing key (PEM); default the environment's key")
	c.Flags().StringVar(&passFile, "signing-passphrase-file", "", "file holding the key passphrase (\"-\" for stdin; default $SCB_SIGNING_PASSPHRASE)")
	c.Flags().StringVar(&environment, "environment", scb.DefaultEnvironment, "environment whose signing key to use when --key is not given")
	c.Flags().BoolVar(&detached, "detached", false, "write a detached signature BUNDLE.sig over the archive file")
	return c
}
