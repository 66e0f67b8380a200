package loader

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// Stage names the step of loading at which a bundle was rejected.
type Stage string

// Loading stages, in the order they run.
const (
	// StageArchive: the file could not be read or is not a well-formed,
	// bounded zip, tar.gz or bundle directory (scb.ErrMalformedArchive,
	// scb.ErrTooLarge, scb.ErrUnsupportedEntry, scb.ErrUnsafePath, or an
	// fs error).
	StageArchive Stage = "archive"
	// StageManifest: a required file is missing or empty
	// (scb.ErrMissingFile, scb.ErrEmptyFile) or a file does not match
	// manifest.json (scb.ErrDigestMismatch, scb.ErrInvalid).
	StageManifest Stage = "manifest"
	// StageSignature: Options.Verify rejected the bundle; its error is
	// wrapped unchanged.
	StageSignature Stage = "signature"
	// StageContent: metadata, configuration, endpoints or certificates are
	// malformed or inconsistent (scb.ErrInvalid; a malformed contact point
	// or cluster endpoint also wraps ErrEndpoint).
	StageContent Stage = "content"
	// StageKey: the client key is not a PKCS#8 key (scb.ErrNoKey), is
	// encrypted and the passphrase is wrong or missing (scb.ErrPassphrase),
	// or does not match the certificate (scb.ErrInvalid).
	StageKey Stage = "key"
	// StageValidity: a certificate is outside its validity period
	// (ErrExpired, ErrNotYetValid, as a *ValidityError).
	StageValidity Stage = "validity"
)

// Error is the error Open, Decode and Load return for a bundle they reject.
// Callers branch with errors.Is on the wrapped sentinels (scb.ErrDigestMismatch,
// scb.ErrPassphrase, ErrExpired, ...) and use Stage for reporting. Error
// text never contains key material, passphrases or passwords.
type Error struct {
	// Source is the path given to Open, or "" for Decode and Load.
	Source string
	// Stage is the step that failed.
	Stage Stage
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("load bundle")
	if e.Source != "" {
		b.WriteString(" ")
		b.WriteString(e.Source)
	}
	b.WriteString(": ")
	b.WriteString(string(e.Stage))
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrEnvironment means the bundle belongs to an environment the caller
// does not accept (Options.Environments).
var ErrEnvironment = errors.New("bundle is for another environment")

// ErrEndpoint means a contact point or cluster endpoint is not HOST:PORT
// with a valid host and a port from 1 to 65535.
var ErrEndpoint = errors.New("malformed endpoint")

// Validity errors.
var (
	// ErrExpired means a certificate's NotAfter has passed.
	ErrExpired = errors.New("certificate has expired")
	// ErrNotYetValid means a certificate's NotBefore is in the future.
	ErrNotYetValid = errors.New("certificate is not yet valid")
)

// ValidityError says which certificate is outside its validity period and
// when. It wraps ErrExpired or ErrNotYetValid.
type ValidityError struct {
	// Subject of the certificate.
	Subject string
	// NotBefore and NotAfter bound the certificate's validity.
	NotBefore, NotAfter time.Time
	// Now is the time the check was made at.
	Now time.Time
	// Err is ErrExpired or ErrNotYetValid.
	Err error
}

func (e *ValidityError) Error() string {
	const f = time.RFC3339
	if errors.Is(e.Err, ErrNotYetValid) {
		return fmt.Sprintf("certificate %q is not valid before %s (now %s)", e.Subject, e.NotBefore.UTC().Format(f), e.Now.UTC().Format(f))
	}
	return fmt.Sprintf("certificate %q expired at %s (now %s)", e.Subject, e.NotAfter.UTC().Format(f), e.Now.UTC().Format(f))
}

func (e *ValidityError) Unwrap() error { return e.Err }

func checkValidity(c *x509.Certificate, now time.Time) error {
	switch {
	case now.After(c.NotAfter):
		return &ValidityError{Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter, Now: now, Err: ErrExpired}
	case now.Before(c.NotBefore):
		return &ValidityError{Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter, Now: now, Err: ErrNotYetValid}
	}
	return nil
}

// Connection failure classes. The driver adapters return a *ConnectError
// whose Kind is one of them; test with errors.Is.
var (
	// ErrTLS is the parent of every TLS failure class below.
	ErrTLS = errors.New("tls handshake failed")
	// ErrServerCertificate means the client refused the node's certificate:
	// it does not chain to the bundle's certificates/ca-cert.pem, has
	// expired, or does not match the host name. It wraps ErrTLS.
	ErrServerCertificate = fmt.Errorf("%w: server certificate not accepted", ErrTLS)
	// ErrClientCertificateRejected means the node refused the bundle's
	// client certificate (its truststore does not hold the bundle's CA, or
	// the certificate expired or was revoked). It wraps ErrTLS.
	ErrClientCertificateRejected = fmt.Errorf("%w: the node rejected the client certificate", ErrTLS)
	// ErrAuth means TLS succeeded but the node refused the username or
	// password, or required credentials that were not given.
	ErrAuth = errors.New("authentication failed")
	// ErrUnreachable means no contact point accepted a TCP connection.
	ErrUnreachable = errors.New("no contact point reachable")
	// ErrTimeout means connecting took longer than the connect timeout or
	// the context deadline.
	ErrTimeout = errors.New("timed out")
	// ErrConnect is the class of connection failures that fit none of the
	// above.
	ErrConnect = errors.New("connection failed")
)

// TLSError is a failed handshake with one node, from Dialer. Kind is
// ErrServerCertificate, ErrClientCertificateRejected or ErrTLS.
type TLSError struct {
	// Addr is the address dialled.
	Addr string
	// ServerName is the name the node's certificate was checked against
	// ("" when hostname verification is off).
	ServerName string
	// Kind classifies the failure.
	Kind error
	// Err is the cause from crypto/tls or crypto/x509.
	Err error
}

func (e *TLSError) Error() string {
	msg := e.Kind.Error()
	if e.ServerName != "" && errors.Is(e.Kind, ErrServerCertificate) {
		msg += fmt.Sprintf(" (checked as %q)", e.ServerName)
	}
	return fmt.Sprintf("%s: %s: %v", e.Addr, msg, e.Err)
}

func (e *TLSError) Unwrap() []error { return []error{e.Kind, e.Err} }

// tlsKind classifies a crypto/tls error.
func tlsKind(err error) error {
	var (
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		oe  *net.OpError
	)
	switch {
	case errors.As(err, &cve), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci):
		return ErrServerCertificate
	case errors.As(err, &oe) && oe.Op == "remote error":
		return ErrClientCertificateRejected
	case strings.Contains(err.Error(), "remote error: tls:"):
		return ErrClientCertificateRejected
	}
	return ErrTLS
}

// ConnectError is returned by the driver adapters (packages gocqlv2 and
// gocqlv1) when no session could be established. Kind is one of ErrTLS,
// ErrServerCertificate, ErrClientCertificateRejected, ErrAuth,
// ErrUnreachable, ErrTimeout or ErrConnect; Err is the most specific
// cause observed. It never holds credentials.
type ConnectError struct {
	// Hosts are the contact points that were tried.
	Hosts []string
	// Kind classifies the failure.
	Kind error
	// Err is the cause.
	Err error
}

func (e *ConnectError) Error() string {
	kind := e.Kind.Error()
	s := fmt.Sprintf("connect to %s: ", strings.Join(e.Hosts, ","))
	if e.Err == nil {
		return s + kind
	}
	cause := e.Err.Error()
	if len(e.Hosts) == 1 {
		cause = strings.TrimPrefix(cause, e.Hosts[0]+": ")
	}
	if strings.Contains(cause, kind) {
		return s + cause
	}
	return s + kind + ": " + cause
}

func (e *ConnectError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Hint is an actionable suggestion for the failure class, for CLIs and
// example programs.
func (e *ConnectError) Hint() string {
	switch {
	case errors.Is(e.Kind, ErrServerCertificate):
		return "the node's certificate is not signed by the CA in certificates/ca-cert.pem or does not name the contact point; regenerate the bundle for this cluster or fix the node's certificate"
	case errors.Is(e.Kind, ErrClientCertificateRejected):
		return "add the bundle's CA to the node's client truststore (client_encryption_options.truststore), or get a bundle issued by the CA the cluster trusts"
	case errors.Is(e.Kind, ErrTLS):
		return "check that the node's native port has TLS enabled and allows TLS 1.2 or later"
	case errors.Is(e.Kind, ErrAuth):
		return "check the username and password (PasswordAuthenticator); the bundle never stores the password"
	case errors.Is(e.Kind, ErrUnreachable):
		return "check that the contact points in config/cassandra.yaml are right and the nodes are up and listening on the native port"
	case errors.Is(e.Kind, ErrTimeout):
		return "the node did not answer in time; check network reachability, or raise connect_timeout"
	}
	return ""
}

// ClassifyConnect builds the *ConnectError for a failed session creation.
// err is what the driver returned; observed are the per-connection errors
// seen on the way (from Dialer.Observe and the driver's connect observer),
// which are more specific than drivers' flattened messages. Driver adapters
// mark authentication failures by wrapping them with ErrAuth.
func ClassifyConnect(hosts []string, err error, observed []error) *ConnectError {
	all := append(append([]error(nil), observed...), err)
	rank := func(e error) (int, error) {
		switch {
		case e == nil:
			return 0, nil
		case errors.Is(e, ErrAuth):
			return 7, ErrAuth
		case errors.Is(e, ErrClientCertificateRejected):
			return 6, ErrClientCertificateRejected
		case errors.Is(e, ErrServerCertificate):
			return 6, ErrServerCertificate
		case errors.Is(e, ErrTLS):
			return 5, ErrTLS
		}
		if k := tlsKind(e); k != ErrTLS {
			return 5, k
		}
		var ne net.Error
		switch {
		case errors.Is(e, context.DeadlineExceeded), errors.As(e, &ne) && ne.Timeout():
			return 4, ErrTimeout
		case errors.Is(e, syscall.ECONNREFUSED), errors.Is(e, syscall.EHOSTUNREACH), errors.Is(e, syscall.ENETUNREACH),
			strings.Contains(e.Error(), "connection refused"):
			return 3, ErrUnreachable
		case strings.Contains(e.Error(), "Provided username") || strings.Contains(e.Error(), "authentication required"):
			return 7, ErrAuth
		}
		return 1, ErrConnect
	}
	best, bestKind, bestErr := -1, ErrConnect, err
	for _, e := range all {
		r, k := rank(e)
		if r > best {
			best, bestKind, bestErr = r, k, e
		}
	}
	if bestKind == ErrConnect && err != nil && strings.Contains(err.Error(), "no connections were made") {
		bestKind = ErrUnreachable
	}
	return &ConnectError{Hosts: append([]string(nil), hosts...), Kind: bestKind, Err: bestErr}
}
