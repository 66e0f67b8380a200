// Command scb generates, inspects, signs and verifies secure connection
// bundles for Apache Cassandra. Run "scb --help" for the commands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitRejected = 3
)

// cliError carries an exit code and a hint telling the user what to do next.
type cliError struct {
	code int
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func usageErr(hint string, format string, a ...any) error {
	return &cliError{code: exitUsage, err: fmt.Errorf(format, a...), hint: hint}
}

func failErr(err error, hint string) error {
	return &cliError{code: exitFailure, err: err, hint: hint}
}

// env is the process environment, injectable for tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

func run(args []string, e *env) int {
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ce *cliError
	if errors.As(err, &ce) {
		fmt.Fprintf(e.stderr, "scb: %v\n", ce.err)
		if ce.hint != "" {
			fmt.Fprintf(e.stderr, "hint: %s\n", ce.hint)
		}
		return ce.code
	}
	// Errors from flag parsing and unknown commands are usage errors.
	fmt.Fprintf(e.stderr, "scb: %v\nhint: run 'scb --help' or 'scb <command> --help'\n", err)
	return exitUsage
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "scb",
		Short: "Secure connection bundles for Apache Cassandra",
		Long: `scb makes secure connection bundles for self-managed Apache Cassandra: one
file with the CA certificate, a client certificate and key, and ready
configuration for the Java, Python, Node.js, Go, .NET and C++ drivers, so that
applications connect over mutual TLS without openssl or keytool.

The first 'scb generate' creates a development CA in $SCB_HOME (default
~/.scb) and says so. Secrets are never taken as flag values: passphrases come
from files (--*-passphrase-file, "-" for stdin) or the environment
(SCB_CA_PASSPHRASE, SCB_KEY_PASSPHRASE).

Exit codes: 0 success, 1 failure, 2 usage error, 3 bundle rejected.`,
		Example: `  # A bundle for a local development cluster, with a CA made on first use
  scb generate --cluster dev --client my-app

  # A production bundle for two contact points in datacenter dc1
  export SCB_CA_PASSPHRASE=...   # or --ca-passphrase-file
  scb ca init --environment production
  scb generate --cluster orders --client billing --environment production \
      --contact-point 10.0.0.5:9042 --contact-point 10.0.0.6:9042 --datacenter dc1

  # Server certificates for the Cassandra nodes, from the same CA
  scb ca issue-server --host node1.example.com --host 10.0.0.5 --out ./node1-tls

  # What is in a bundle, and is it intact?
  scb inspect orders-billing-scb.zip`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Sprintf("run 'scb %s --help'", c.Name()), "%v", err)
	})
	root.AddCommand(newCACmd(e), newGenerateCmd(e), newInspectCmd(e), newProfilesCmd(e), newKeysCmd(e), newSignCmd(e), newVerifyCmd(e), newGatewayCmd(e))
	return root
}

// home returns the scbkit state directory: $SCB_HOME, else ~/.scb.
func (e *env) home() (string, error) {
	if h := e.getenv("SCB_HOME"); h != "" {
		return h, nil
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", failErr(fmt.Errorf("cannot find a home directory: %w", err), "set SCB_HOME to a directory scb may use")
	}
	return filepath.Join(u, ".scb"), nil
}

// caDir is the CA directory for an environment under the home.
func (e *env) caDir(environment string) (string, error) {
	h, err := e.home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "ca", environment), nil
}

// readSecret reads a secret from a file ("-" for stdin) or, when file is
// empty, from the environment variable name. It returns nil when neither is
// set. Trailing newlines are trimmed.
func (e *env) readSecret(file, name string) ([]byte, error) {
	var data []byte
	switch {
	case file == "-":
		b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
		if err != nil {
			return nil, failErr(fmt.Errorf("read passphrase from stdin: %w", err), "")
		}
		data = b
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, failErr(fmt.Errorf("read passphrase file: %w", err), "check the path given to the passphrase-file flag")
		}
		data = b
	default:
		data = []byte(e.getenv(name))
	}
	data = []byte(strings.TrimRight(string(data), "\r\n"))
	if len(data) == 0 {
		return nil, nil
	}
	return data, nil
}

func (e *env) warnf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "scb: warning: "+format+"\n", a...)
}

func (e *env) infof(format string, a ...any) {
	fmt.Fprintf(e.stderr, "scb: "+format+"\n", a...)
}
