package testcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ProbeTLS opens a TLS connection to a node's CQL endpoint, sends a CQL
// OPTIONS request and waits for the SUPPORTED response, then closes the
// connection. It returns the TLS connection state (the server's
// certificates, the negotiated version). Because it waits for a response,
// it also sees client-certificate rejections, which TLS 1.3 reports only
// after the client's side of the handshake has finished; a rejection comes
// back as a *net.OpError whose text is "remote error: tls: <alert>".
// If cfg.ServerName is empty the host part of hostPort is used.
func ProbeTLS(ctx context.Context, hostPort string, cfg *tls.Config) (tls.ConnectionState, error) {
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(hostPort)
		if err != nil {
			return tls.ConnectionState{}, fmt.Errorf("probe tls: %w", err)
		}
		cfg.ServerName = host
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", hostPort)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	tc := conn.(*tls.Conn)
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Protocol v4 frame header: version, flags, stream 1, opcode OPTIONS
	// (0x05), body length 0.
	if _, err := conn.Write([]byte{0x04, 0x00, 0x00, 0x01, 0x05, 0, 0, 0, 0}); err != nil {
		// With TLS 1.3 the server judges the client certificate after the
		// client's handshake has returned: it sends its alert and closes,
		// and this write can then meet the reset. The alert is still
		// queued for reading; report it rather than the reset.
		var b [1]byte
		if _, rerr := conn.Read(b[:]); rerr != nil && isTLSAlert(rerr) {
			return tc.ConnectionState(), rerr
		}
		return tc.ConnectionState(), err
	}
	var hdr [9]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return tc.ConnectionState(), err
	}
	if hdr[0] != 0x84 || hdr[4] != 0x06 {
		return tc.ConnectionState(), fmt.Errorf("probe tls: unexpected cql response (version %#x, opcode %#x)", hdr[0], hdr[4])
	}
	return tc.ConnectionState(), nil
}

// isTLSAlert reports whether err carries a TLS alert from the peer.
func isTLSAlert(err error) bool {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return true
	}
	return strings.Contains(err.Error(), "remote error: tls:")
}
