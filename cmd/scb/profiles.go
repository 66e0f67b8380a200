package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scbkit/scbkit/scb/profiles"
)

type profileView struct {
	Name                        string   `json:"name"`
	Description                 string   `json:"description"`
	ContactPoints               []string `json:"default_contact_points,omitempty"`
	Validity                    string   `json:"validity"`
	MaxValidity                 string   `json:"max_validity"`
	EncryptKey                  bool     `json:"encrypt_key"`
	AllowUnencryptedKey         bool     `json:"allow_unencrypted_key"`
	AllowNoHostnameVerification bool     `json:"allow_no_hostname_verification"`
	MinTLSVersion               string   `json:"min_tls_version"`
	KeyType                     string   `json:"key_type"`
	CAName                      string   `json:"ca_name"`
}

func viewOf(p profiles.Profile) profileView {
	return profileView{Name: p.Name, Description: p.Description, ContactPoints: p.ContactPoints,
		Validity: fmtDays(p.Validity.Hours()), MaxValidity: fmtDays(p.MaxValidity.Hours()), EncryptKey: p.EncryptKey,
		AllowUnencryptedKey: p.AllowUnencryptedKey, AllowNoHostnameVerification: p.AllowNoHostnameVerification,
		MinTLSVersion: p.MinTLSVersion, KeyType: string(p.KeyType), CAName: p.CAName}
}

func fmtDays(hours float64) string { return fmt.Sprintf("%dd", int(hours/24)) }

func newProfilesCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List environment profiles and check templates",
		Long: `Each environment (development, staging, production, testing) has a built-in
profile: defaults and limits for validity, key encryption, hostname
verification and TLS, and a CA of its own. Templates are YAML files that
extend a profile or another template:

  # team.yaml
  extends: production          # or ./base.yaml
  environments:
    production:
      contact_points: [10.0.0.5:9042, 10.0.0.6:9042]
      datacenter: dc1
  validity: 60d
  key_type: ecdsa-p384
  drivers: [java, python]
  connection:
    request_timeout: 5s
    consistency: LOCAL_QUORUM
  readme_notes: |
    Ask #db-platform for help.

Fields: ` + "name, description, extends, environments, contact_points, datacenter, gateway, validity, key_type, encrypt_key, hostname_verification, min_tls_version, drivers, components, pkcs12_cipher, connection, readme_notes.",
		Example: `  scb profiles list
  scb profiles show production
  scb profiles validate team.yaml
  scb generate --template team.yaml --cluster orders --client billing --dry-run`,
	}
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON on stdout")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the built-in profiles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var views []profileView
			for _, p := range profiles.Builtins() {
				views = append(views, viewOf(p))
			}
			if asJSON {
				return writeJSON(cmd, views)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVALIDITY\tMAX\tKEY ENCRYPTED\tDESCRIPTION")
			for _, v := range views {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", v.Name, v.Validity, v.MaxValidity, v.EncryptKey, v.Description)
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one profile's policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := profiles.Builtin(args[0])
			if err != nil {
				return usageErr("run 'scb profiles list'", "%v", err)
			}
			v := viewOf(p)
			if asJSON {
				return writeJSON(cmd, v)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s\n  %s\n\n", v.Name, v.Description)
			tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "  default contact points\t%v\n  validity\t%s (maximum %s)\n  client key encrypted\t%v (unencrypted allowed: %v)\n  hostname verification\ton (may be turned off: %v)\n  minimum TLS\t%s\n  key type\t%s\n  CA\t%s, in $SCB_HOME/ca/%s\n",
				v.ContactPoints, v.Validity, v.MaxValidity, v.EncryptKey, v.AllowUnencryptedKey, v.AllowNoHostnameVerification, v.MinTLSVersion, v.KeyType, v.CAName, v.Name)
			return tw.Flush()
		},
	}
	validate := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a template and the templates it extends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := profiles.LoadTemplate(args[0])
			if err != nil {
				return &cliError{code: exitFailure, err: err, hint: "fix the field at the line shown; 'scb profiles --help' lists the fields"}
			}
			s, err := profiles.Resolve(profiles.Input{Template: t})
			if err != nil {
				return &cliError{code: exitFailure, err: fmt.Errorf("%s: %w", args[0], err), hint: "the template contradicts its profile's policy"}
			}
			if asJSON {
				return writeJSON(cmd, map[string]any{"file": args[0], "valid": true, "environment": s.Environment, "settings": s})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (environment %s)\n", args[0], s.Environment)
			for _, w := range s.Warnings {
				e.warnf("%s", w)
			}
			return nil
		},
	}
	c.AddCommand(list, show, validate)
	return c
}

func writeJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
