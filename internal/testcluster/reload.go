package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrExternal is returned for operations that need a node this package
// started (its files and JMX port), when the cluster is external.
var ErrExternal = errors.New("operation needs a locally started node; the cluster is external")

// Log lines of Cassandra's SSLFactory after a certificate reload.
const (
	reloadOK     = "SSL certificates have been updated"
	reloadFailed = "Failed to hot reload the SSL Certificates"
)

// ReloadTLS replaces node n's native-port TLS files and makes Cassandra load
// them now: each non-empty part of t is written to a temporary file and
// renamed over the old one (the keystore gets key + chain, the truststore
// TrustPEM), then `nodetool reloadssl` runs over local JMX and ReloadTLS
// waits for Cassandra to log that the certificates have been updated.
// Existing connections keep the old certificate; new ones see the new one.
// An empty ServerTLS just forces a reload of the current files.
func (c *Cluster) ReloadTLS(ctx context.Context, n *Node, t ServerTLS) error {
	if c.External || n.files.Dir == "" {
		return ErrExternal
	}
	if (len(t.CertChainPEM) == 0) != (len(t.KeyPEM) == 0) {
		return errors.New("reload tls: CertChainPEM and KeyPEM go together")
	}
	if len(t.KeyPEM) > 0 && !bytes.Contains(t.KeyPEM, []byte("BEGIN PRIVATE KEY")) {
		return errors.New("reload tls: KeyPEM must be an unencrypted PKCS#8 \"PRIVATE KEY\" block")
	}
	watch := followLog(n.files.Log)
	if len(t.KeyPEM) > 0 {
		if err := writeFileAtomic(n.files.Keystore, keystorePEM(t.CertChainPEM, t.KeyPEM), 0o600); err != nil {
			return fmt.Errorf("reload tls: %w", err)
		}
	}
	if len(t.TrustPEM) > 0 {
		if err := writeFileAtomic(n.files.Truststore, t.TrustPEM, 0o600); err != nil {
			return fmt.Errorf("reload tls: %w", err)
		}
	}
	// Cassandra only re-checks TLS contexts it has cached, and its cache is
	// emptied by every reload and filled by the next accepted connection:
	// connect once so that there is a context to reload.
	if conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", n.HostPort()); err == nil {
		time.Sleep(100 * time.Millisecond)
		conn.Close()
	}
	if out, err := c.Nodetool(ctx, n, "reloadssl"); err != nil {
		return fmt.Errorf("reload tls on %s: %w: %s", n.HostPort(), err, strings.TrimSpace(out))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		for _, l := range watch.lines() {
			if strings.Contains(l, reloadFailed) {
				return fmt.Errorf("reload tls on %s: cassandra rejected the new files: %s", n.HostPort(), strings.TrimSpace(l))
			}
			if strings.Contains(l, reloadOK) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reload tls on %s: no %q in the log: %w", n.HostPort(), reloadOK, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Nodetool runs `nodetool <args>` against node n over its local JMX port,
// with the same Java and jars as the node, and returns its combined output.
// Each call starts a JVM (about a second).
func (c *Cluster) Nodetool(ctx context.Context, n *Node, args ...string) (string, error) {
	if c.External || n.JMXPort == 0 || n.files.Dir == "" {
		return "", ErrExternal
	}
	java := c.java
	if java == "" {
		java = DefaultJava
	}
	home := filepath.Join(n.files.Dir, "tmp")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("nodetool: %w", err)
	}
	cmd := exec.CommandContext(ctx, java, nodetoolArgs(c.libDir, n.files, n.JMXPort, args...)...)
	cmd.Env = javaEnv()
	cmd.Dir = home
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("nodetool %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}
