package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"

	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/scb"
)

type inspectCert struct {
	Path              string    `json:"path"`
	Subject           string    `json:"subject"`
	Issuer            string    `json:"issuer"`
	FingerprintSHA256 string    `json:"fingerprint_sha256"`
	NotBefore         time.Time `json:"not_before"`
	NotAfter          time.Time `json:"not_after"`
	DaysToExpiry      int       `json:"days_to_expiry"`
}

type inspectFile struct {
	Path   string `json:"path"`
	Size   int    `json:"size"`
	Secret bool   `json:"secret"`
}

type inspectReport struct {
	Bundle       string        `json:"bundle"`
	Intact       bool          `json:"intact"`
	Problems     []string      `json:"problems,omitempty"`
	Metadata     *scb.Metadata `json:"metadata,omitempty"`
	Certificates []inspectCert `json:"certificates"`
	Files        []inspectFile `json:"files"`
}

func newInspectCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "inspect BUNDLE",
		Short: "Show what a bundle holds and whether it is intact",
		Long: `Show a bundle's files with their sizes, its metadata, the subject,
fingerprint and days to expiry of each certificate, and whether every file
matches manifest.json. Key material is never printed.

Exit code 3 means the bundle is damaged or was modified (files differ from
the manifest, or it is not a readable bundle). This checks integrity only;
use 'scb verify' to check signatures against keys you trust.`,
		Example: `  scb inspect orders-billing-scb.zip
  scb inspect --json ./bundle-dir | jq .metadata.expires_at`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			b, err := scb.ReadFile(path, scb.Limits{})
			if errors.Is(err, fs.ErrNotExist) {
				return failErr(fmt.Errorf("%s does not exist", path), "give the path of a bundle (.zip, .tar.gz or directory)")
			}
			if err != nil {
				return &cliError{code: exitRejected, err: fmt.Errorf("cannot read %s as a bundle: %w", path, err), hint: "the file is damaged or is not a bundle; generate or download it again"}
			}
			rep := inspect(path, b, time.Now())
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return failErr(err, "")
				}
			} else {
				printInspect(cmd.OutOrStdout(), rep)
			}
			if !rep.Intact {
				return &cliError{code: exitRejected, err: fmt.Errorf("%s is not intact (%d problems)", path, len(rep.Problems)), hint: "do not use this bundle; generate or download it again"}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON on stdout")
	return c
}

func inspect(path string, b *scb.Bundle, now time.Time) *inspectReport {
	rep := &inspectReport{Bundle: path, Intact: true, Certificates: []inspectCert{}}
	for _, f := range b.Files() {
		rep.Files = append(rep.Files, inspectFile{Path: f.Path, Size: len(f.Data), Secret: scb.IsSecretPath(f.Path)})
	}
	if _, err := scb.CheckManifest(b); err != nil {
		rep.Intact = false
		for _, e := range unjoin(err) {
			rep.Problems = append(rep.Problems, e.Error())
		}
	}
	if m, err := b.Metadata(); err == nil {
		rep.Metadata = m
	} else {
		rep.Intact = false
		rep.Problems = append(rep.Problems, err.Error())
	}
	for _, p := range []string{scb.CACertPath, scb.ClientCertPath} {
		d, ok := b.Get(p)
		if !ok {
			continue
		}
		certs, err := scb.ParseCertificatesPEM(d)
		if err != nil {
			rep.Intact = false
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		for _, c := range certs {
			rep.Certificates = append(rep.Certificates, certInfo(p, c, now))
		}
	}
	return rep
}

func certInfo(p string, c *x509.Certificate, now time.Time) inspectCert {
	return inspectCert{
		Path: p, Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		FingerprintSHA256: scb.Fingerprint(c),
		NotBefore:         c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		DaysToExpiry: int(math.Floor(c.NotAfter.Sub(now).Hours() / 24)),
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func printInspect(w io.Writer, r *inspectReport) {
	fmt.Fprintf(w, "Bundle: %s\n", r.Bundle)
	if m := r.Metadata; m != nil {
		fmt.Fprintf(w, "  cluster:      %s\n  client:       %s\n  environment:  %s\n  bundle id:    %s\n  generated:    %s\n  expires:      %s\n  drivers:      %v\n",
			m.ClusterName, m.ClientID, m.Environment, m.BundleID, m.GeneratedAt.Format(time.RFC3339), m.ExpiresAt.Format(time.RFC3339), m.SupportedDrivers)
		for _, c := range m.Clusters {
			fmt.Fprintf(w, "  endpoints:    %v (datacenters %v, %s)\n", c.Endpoints, c.Datacenters, c.Role)
		}
		fmt.Fprintf(w, "  gateway:      %s (metadata :%d, CQL :%d)\n", m.Gateway.Host, m.Gateway.MetadataPort, m.Gateway.CQLPort)
	}
	fmt.Fprintln(w, "\nCertificates:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range r.Certificates {
		fmt.Fprintf(tw, "  %s\t%s\tdays left: %d\n", c.Path, c.Subject, c.DaysToExpiry)
		fmt.Fprintf(tw, "  \tSHA-256 %s\t\n", c.FingerprintSHA256)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nFiles:")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	for _, f := range r.Files {
		mark := ""
		if f.Secret {
			mark = "  (secret)"
		}
		fmt.Fprintf(tw, "  %d\t  %s%s\n", f.Size, f.Path, mark)
	}
	tw.Flush()
	if r.Intact {
		fmt.Fprintln(w, "\nIntegrity: every file matches manifest.json")
	} else {
		fmt.Fprintln(w, "\nIntegrity: FAILED")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}
