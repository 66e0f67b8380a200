package scb

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"time"
)

// Usage says what an issued certificate may be used for.
type Usage int

// Certificate usages. They may be combined.
const (
	// UsageClient sets the clientAuth extended key usage.
	UsageClient Usage = 1 << iota
	// UsageServer sets the serverAuth extended key usage.
	UsageServer
)

// CertificateRequest is what a CA is asked to sign. The CA decides the
// serial number, issuer, key identifiers and basic constraints itself; it
// never issues a CA certificate from a CertificateRequest.
type CertificateRequest struct {
	// PublicKey is the subject's public key. Required.
	PublicKey crypto.PublicKey
	// Subject of the certificate. CommonName is required.
	Subject pkix.Name
	// DNSNames and IPAddresses become subject alternative names.
	DNSNames    []string
	IPAddresses []net.IP
	// Usage selects the extended key usages. Zero means UsageClient.
	Usage Usage
	// NotBefore and NotAfter bound the validity. A zero NotBefore means the
	// CA's current time (less a small allowance for clock skew).
	NotBefore, NotAfter time.Time
}

// A CA issues certificates. Implementations must be safe for concurrent use.
//
// Issue returns the new leaf certificate first, followed by any
// intermediates up to but excluding the root. It returns an error wrapping
// ErrValidityExceedsCA if NotAfter is later than the issuer's own NotAfter,
// and ctx.Err() if the context is done first.
//
// Roots returns the self-signed trust anchors that verify what Issue
// returns; there is always at least one.
type CA interface {
	Issue(ctx context.Context, req *CertificateRequest) ([]*x509.Certificate, error)
	Roots(ctx context.Context) ([]*x509.Certificate, error)
}

// Errors returned by CAs.
var (
	// ErrValidityExceedsCA means a certificate would outlive its issuer.
	ErrValidityExceedsCA = errors.New("requested validity extends beyond the issuing CA's expiry")
)
