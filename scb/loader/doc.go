// Package loader opens secure connection bundles and turns them into what
// a Cassandra client needs: a ready *tls.Config, the contact points and
// local datacenter, the connection parameters and an optional username.
//
// # Opening a bundle
//
// Open reads a zip, tar.gz or bundle directory; Decode reads from an
// io.ReaderAt; Load takes an in-memory *scb.Bundle. All three run the same
// checks, in order, and never extract anything to disk:
//
//  1. completeness: metadata.json, manifest.json, the certificates, the
//     key and config/cassandra.yaml are present and non-empty;
//  2. every file matches manifest.json (scb.CheckManifest);
//  3. Options.Verify, the hook for signature verification;
//  4. metadata, configuration, connection parameters and endpoints parse;
//  5. the client key opens (Options.KeyPassphrase for an encrypted key) and
//     matches the certificate;
//  6. the client certificate is within its validity period (ErrExpired,
//     ErrNotYetValid) and chains to certificates/ca-cert.pem.
//
// A rejected bundle gives an *Error naming the Stage; errors.Is finds the
// sentinel (scb.ErrDigestMismatch, scb.ErrPassphrase, ErrExpired, ...).
// Loading does not re-check the stock-driver files (config.json, cert.pfx,
// the JKS stores); their digests are checked, and scb.Validate checks the
// rest when you need it.
//
// # TLS
//
// The *tls.Config trusts certificates/ca-cert.pem only, never the system
// roots; presents the bundle's client certificate and intermediates;
// requires TLS 1.2 or the bundle's minimum; and checks the node's
// certificate against the host the connection is made to (or the bundle's
// server_name) unless the bundle was made with hostname verification off.
//
// # Drivers
//
// The gocql adapters live in their own packages so that this one depends
// on no driver: gocqlv2 for github.com/apache/cassandra-gocql-driver/v2
// and gocqlv1 for github.com/gocql/gocql. Both accept a Source: a *Bundle,
// or a *Watcher that reloads the bundle when its file is replaced. Failed
// connections are reported as *ConnectError, classified as TLS, client or
// server certificate, authentication, unreachable or timeout.
//
// # Rotation
//
// Watch polls the bundle path. When the file is atomically replaced (for
// example by scb.Bundle.WriteFile), the new bundle is loaded and checked;
// new connections then present the new client certificate and verify
// nodes against the new CA, while open connections keep serving. A bundle
// that fails to load is reported and the old one stays in use. Callbacks
// and an optional *slog.Logger announce reloads, failures and an
// approaching expiry.
//
// The library never reads environment variables, prompts or logs
// globally: credentials and loggers are passed in.
package loader
