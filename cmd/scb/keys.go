package main

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/internal/atomicfile"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

// Signing key files under $SCB_HOME/signing/<environment>/.
const (
	signingKeyFile  = "signing-key.pem"
	signingPubFile  = "signing-key.pub.pem"
	trustedKeysFile = "trusted-keys.jwks.json"
)

func (e *env) signingDir(environment string) (string, error) {
	h, err := e.home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "signing", environment), nil
}

// writeSigningKey writes key, its public PEM, and adds it to the
// directory's trusted key set (created if missing).
func writeSigningKey(dir string, key crypto.Signer, enc signing.PrivateKeyEncoding, tk signing.TrustedKey, overwrite bool) (string, error) {
	if err := atomicfile.MkdirPrivate(dir); err != nil {
		return "", err
	}
	if err := signing.WritePrivateKeyFile(filepath.Join(dir, signingKeyFile), key, enc, overwrite); err != nil {
		return "", err
	}
	pub, err := signing.EncodePublicKeyPEM(key.Public())
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, signingPubFile), pub, 0o644, true); err != nil {
		return "", err
	}
	set := &signing.KeySet{}
	if data, err := os.ReadFile(filepath.Join(dir, trustedKeysFile)); err == nil {
		if set, err = signing.ParseKeySet(data); err != nil {
			return "", fmt.Errorf("existing %s: %w", trustedKeysFile, err)
		}
	}
	tk.Public = key.Public()
	if err := set.Add(tk); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, trustedKeysFile), set.EncodeJWKS(), 0o644, true); err != nil {
		return "", err
	}
	return signing.KeyID(key.Public())
}

// environmentSigner returns the signer of an environment, creating a key on
// first use for development and testing (like the CA). It returns nil, nil
// when there is no key and none may be created.
func (e *env) environmentSigner(environment, passFile string, create bool) (signing.Signer, string, error) {
	dir, err := e.signingDir(environment)
	if err != nil {
		return nil, "", err
	}
	pass, err := e.readSecret(passFile, "SCB_SIGNING_PASSPHRASE")
	if err != nil {
		return nil, "", err
	}
	keyPath := filepath.Join(dir, signingKeyFile)
	if !atomicfile.Exists(keyPath) {
		if !create || (environment != "development" && environment != "testing") {
			return nil, "", nil
		}
		key, err := signing.GenerateKey(scb.KeyECDSAP256)
		if err != nil {
			return nil, "", failErr(err, "")
		}
		id, err := writeSigningKey(dir, key, signing.PrivateKeyEncoding{Passphrase: pass, InsecureUnencrypted: len(pass) == 0}, signing.TrustedKey{}, false)
		if err != nil {
			return nil, "", failErr(fmt.Errorf("create signing key: %w", err), "check that $SCB_HOME is writable")
		}
		note := ""
		if len(pass) == 0 {
			note = " (NOT encrypted: set SCB_SIGNING_PASSPHRASE before first use to encrypt it)"
		}
		e.infof("created a %s signing key %s in %s%s; verifiers trust %s", environment, id[:16], dir, note, filepath.Join(dir, trustedKeysFile))
		s, err := signing.NewSigner(key)
		return s, id, err
	}
	key, err := signing.ReadPrivateKeyFile(keyPath, pass)
	if errors.Is(err, scb.ErrPassphrase) {
		return nil, "", failErr(fmt.Errorf("cannot open the signing key %s: %w", keyPath, err), "give its passphrase with --signing-passphrase-file FILE or SCB_SIGNING_PASSPHRASE, or pass --no-sign")
	}
	if err != nil {
		return nil, "", failErr(fmt.Errorf("cannot read the signing key %s: %w", keyPath, err), "restore it, or create a new one with 'scb keys generate --force'")
	}
	s, err := signing.NewSigner(key)
	if err != nil {
		return nil, "", failErr(err, "")
	}
	id, _ := signing.KeyID(key.Public())
	return s, id, nil
}

func newKeysCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "keys",
		Short: "Create and export bundle-signing keys",
		Long: `Signing keys sign each bundle's manifest (signatures/manifest.dsse.json) so
that receivers can prove a bundle is complete, unmodified and issued by you.
Each environment's key lives in $SCB_HOME/signing/<environment>/ next to
trusted-keys.jwks.json, the key set to hand to verifiers ('scb verify --keys').

A development or testing key is created by the first 'scb generate'; create
staging and production keys explicitly, with a passphrase.`,
	}
	c.AddCommand(newKeysGenerateCmd(e), newKeysPublicCmd(e))
	return c
}

func newKeysGenerateCmd(e *env) *cobra.Command {
	var environment, keyType, out, passFile, notBefore, expires string
	var insecure, force bool
	c := &cobra.Command{
		Use:   "generate",
		Short: "Generate a signing key",
		Long: `Generate a signing key, encrypted with the passphrase from
--signing-passphrase-file or SCB_SIGNING_PASSPHRASE, with its public key (PEM)
and a JWKS-style trusted key set. The new key is added to the environment's
trusted-keys.jwks.json, so during a rotation verifiers trust the old and the
new key; --not-before and --expires bound a key's validity window there.

The key id printed on stdout is the SHA-256 of the public key (SPKI DER).`,
		Example: `  SCB_SIGNING_PASSPHRASE=... scb keys generate --environment production
  scb keys generate --out ./ci-signing-key.pem --key-type ed25519 --signing-passphrase-file pass.txt
  scb keys generate --environment production --force --not-before 2027-01-01T00:00:00Z   # rotation`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kt, err := scb.ParseKeyType(keyType)
			if err != nil {
				return usageErr("signing key types: ecdsa-p256, ecdsa-p384, ed25519, rsa-3072, rsa-4096", "%v", err)
			}
			if kt == scb.KeyRSA2048 {
				return usageErr("signing key types: ecdsa-p256, ecdsa-p384, ed25519, rsa-3072, rsa-4096", "rsa-2048 is too small for signing keys")
			}
			var tk signing.TrustedKey
			for _, x := range []struct {
				s   string
				dst *time.Time
			}{{notBefore, &tk.NotBefore}, {expires, &tk.Expires}} {
				if x.s == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, x.s)
				if err != nil {
					return usageErr("use RFC 3339 times such as 2027-01-01T00:00:00Z", "invalid time %q", x.s)
				}
				*x.dst = t
			}
			pass, err := e.readSecret(passFile, "SCB_SIGNING_PASSPHRASE")
			if err != nil {
				return err
			}
			if len(pass) == 0 && !insecure {
				return usageErr("set SCB_SIGNING_PASSPHRASE or --signing-passphrase-file, or pass --insecure-unencrypted-key for a throw-away key", "a passphrase is required to encrypt the signing key")
			}
			if insecure {
				e.warnf("writing the signing key UNENCRYPTED: anyone who can read it can sign bundles your verifiers trust")
			}
			dir := filepath.Dir(out)
			if out == "" {
				if dir, err = e.signingDir(environment); err != nil {
					return err
				}
			} else if filepath.Base(out) != signingKeyFile {
				// A custom file name: write exactly there, with .pub.pem and .jwks.json beside it.
				return e.writeStandaloneKey(cmd, out, kt, signing.PrivateKeyEncoding{Passphrase: pass, InsecureUnencrypted: insecure}, tk, force)
			}
			if atomicfile.Exists(filepath.Join(dir, signingKeyFile)) && !force {
				return failErr(fmt.Errorf("a signing key already exists in %s", dir), "pass --force to replace it (the old public key stays in trusted-keys.jwks.json until you remove it)")
			}
			key, err := signing.GenerateKey(kt)
			if err != nil {
				return failErr(err, "")
			}
			id, err := writeSigningKey(dir, key, signing.PrivateKeyEncoding{Passphrase: pass, InsecureUnencrypted: insecure}, tk, force)
			if err != nil {
				return failErr(fmt.Errorf("write signing key: %w", err), "check that the directory is writable")
			}
			e.infof("signing key written to %s; give %s to verifiers", filepath.Join(dir, signingKeyFile), filepath.Join(dir, trustedKeysFile))
			fmt.Fprintln(cmd.OutOrStdout(), id)
			return nil
		},
	}
	c.Flags().StringVar(&environment, "environment", scb.DefaultEnvironment, "environment whose signing key to create")
	c.Flags().StringVar(&keyType, "key-type", string(scb.KeyECDSAP256), "ecdsa-p256, ecdsa-p384, ed25519, rsa-3072 or rsa-4096")
	c.Flags().StringVar(&out, "out", "", "write the key to this file instead of $SCB_HOME/signing/<environment>/")
	c.Flags().StringVar(&passFile, "signing-passphrase-file", "", "file holding the key passphrase (\"-\" for stdin; default $SCB_SIGNING_PASSPHRASE)")
	c.Flags().StringVar(&notBefore, "not-before", "", "start of the key's validity window in the trusted key set (RFC 3339)")
	c.Flags().StringVar(&expires, "expires", "", "end of the key's validity window in the trusted key set (RFC 3339)")
	c.Flags().BoolVar(&insecure, "insecure-unencrypted-key", false, "write the key without encryption (tests only)")
	c.Flags().BoolVar(&force, "force", false, "replace an existing key")
	return c
}

func (e *env) writeStandaloneKey(cmd *cobra.Command, out string, kt scb.KeyType, enc signing.PrivateKeyEncoding, tk signing.TrustedKey, force bool) error {
	base := out
	if ext := filepath.Ext(out); ext == ".pem" {
		base = out[:len(out)-len(ext)]
	}
	pubPath, jwksPath := base+".pub.pem", base+".jwks.json"
	if !force {
		for _, p := range []string{out, pubPath, jwksPath} {
			if atomicfile.Exists(p) {
				return failErr(fmt.Errorf("%s already exists", p), "pass --force to replace it")
			}
		}
	}
	key, err := signing.GenerateKey(kt)
	if err != nil {
		return failErr(err, "")
	}
	if err := signing.WritePrivateKeyFile(out, key, enc, force); err != nil {
		return failErr(fmt.Errorf("write signing key: %w", err), "check that the directory exists and is writable")
	}
	pub, err := signing.EncodePublicKeyPEM(key.Public())
	if err != nil {
		return failErr(err, "")
	}
	tk.Public = key.Public()
	set, err := signing.NewKeySet(tk)
	if err != nil {
		return failErr(err, "")
	}
	if err := atomicfile.WriteFile(pubPath, pub, 0o644, force); err != nil {
		return failErr(err, "")
	}
	if err := atomicfile.WriteFile(jwksPath, set.EncodeJWKS(), 0o644, force); err != nil {
		return failErr(err, "")
	}
	id, _ := signing.KeyID(key.Public())
	e.infof("signing key written to %s (public key %s, key set %s)", out, pubPath, jwksPath)
	fmt.Fprintln(cmd.OutOrStdout(), id)
	return nil
}

func newKeysPublicCmd(e *env) *cobra.Command {
	var environment string
	var pemOut bool
	c := &cobra.Command{
		Use:   "public",
		Short: "Print an environment's trusted key set (JWKS) or public key (PEM)",
		Example: `  scb keys public --environment production > trusted-keys.jwks.json
  scb keys public --pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := e.signingDir(environment)
			if err != nil {
				return err
			}
			name := trustedKeysFile
			if pemOut {
				name = signingPubFile
			}
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return failErr(fmt.Errorf("no signing key for %s in %s", environment, dir), fmt.Sprintf("create one with 'scb keys generate --environment %s'", environment))
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	c.Flags().StringVar(&environment, "environment", scb.DefaultEnvironment, "environment whose keys to print")
	c.Flags().BoolVar(&pemOut, "pem", false, "print the current public key as PEM instead of the key set")
	return c
}
