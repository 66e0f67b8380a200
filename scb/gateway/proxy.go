package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ServeCQL runs the SNI proxy on l until ctx is done, then stops
// accepting, waits up to ShutdownTimeout for open connections to end,
// closes the rest and returns nil. It returns an error if Accept fails
// for another reason. It closes l. Call StartTopology first when not using
// Serve.
//
// Each connection is routed by its TLS server name (SNI): a host_id reaches
// exactly that node, or is refused if no live node has it; no server name,
// or any other name, reaches a live node of the local datacenter
// (round-robin), for cqlsh and other single-endpoint clients.
func (g *Gateway) ServeCQL(ctx context.Context, l net.Listener) error {
	var (
		mu    sync.Mutex
		conns = make(map[net.Conn]struct{})
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var acceptErr error
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			acceptErr = err
			break
		}
		g.metrics.accepted.Add(1)
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
			g.handle(ctx, c)
		}()
	}
	l.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	mu.Lock()
	open := len(conns)
	mu.Unlock()
	if open > 0 {
		g.log().Info("draining CQL connections", "open", open, "timeout", g.cfg.ShutdownTimeout)
	}
	select {
	case <-done:
	case <-time.After(g.cfg.ShutdownTimeout):
		mu.Lock()
		g.log().Warn("drain timeout: closing CQL connections", "open", len(conns))
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-done
	}
	return acceptErr
}

func (g *Gateway) handle(ctx context.Context, raw net.Conn) {
	g.metrics.active.Add(1)
	defer g.metrics.active.Add(-1)
	if g.cfg.Mode == Passthrough {
		g.handlePassthrough(ctx, raw)
		return
	}
	g.handleTerminate(ctx, raw)
}

func (g *Gateway) handleTerminate(ctx context.Context, raw net.Conn) {
	remote := raw.RemoteAddr().String()
	tc := tls.Server(raw, g.serverTLS)
	hctx, cancel := context.WithTimeout(ctx, g.cfg.HandshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		g.metrics.handshakeFailures.Add(1)
		g.log().Info("client tls handshake failed", "remote", remote, "err", err)
		raw.Close()
		return
	}
	st := tc.ConnectionState()
	client := ""
	if len(st.PeerCertificates) > 0 {
		client = st.PeerCertificates[0].Subject.CommonName
	}
	up, node, ok := g.connectNode(ctx, st.ServerName, remote, client)
	if !ok {
		tc.Close()
		return
	}
	g.pipe(tc, up, node, remote, client, st.ServerName)
}

func (g *Gateway) handlePassthrough(ctx context.Context, raw net.Conn) {
	remote := raw.RemoteAddr().String()
	_ = raw.SetReadDeadline(time.Now().Add(g.cfg.HandshakeTimeout))
	sni, hello, err := peekClientHello(raw)
	_ = raw.SetReadDeadline(time.Time{})
	if err != nil {
		g.metrics.handshakeFailures.Add(1)
		g.log().Info("no tls client hello", "remote", remote, "err", err)
		raw.Close()
		return
	}
	up, node, ok := g.connectNode(ctx, sni, remote, "")
	if !ok {
		// A fatal unrecognized_name alert, then close.
		_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = raw.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70})
		raw.Close()
		return
	}
	if _, err := up.Write(hello); err != nil {
		g.log().Info("write to node failed", "remote", remote, "host_id", node.HostID, "err", err)
		up.Close()
		raw.Close()
		return
	}
	g.pipe(raw, up, node, remote, "", sni)
}

// connectNode routes a server name and dials the node. On a failed dial of
// a non-specific route it tries one other live node.
func (g *Gateway) connectNode(ctx context.Context, sni, remote, client string) (net.Conn, Node, bool) {
	for attempt := 0; attempt < 2; attempt++ {
		node, byID, err := g.mon.route(sni)
		if err != nil {
			reason := "no_live_node"
			if byID {
				reason = "unknown_host_id"
			}
			g.metrics.routingFailures.inc(reason)
			g.log().Warn("connection refused: no route", "remote", remote, "client", client, "sni", sni, "err", err)
			return nil, Node{}, false
		}
		var up net.Conn
		if g.cfg.Mode == Passthrough {
			d := net.Dialer{Timeout: g.cfg.DialTimeout, KeepAlive: 30 * time.Second}
			up, err = d.DialContext(ctx, "tcp", node.Addr.String())
		} else {
			up, err = g.dialNode(ctx, node)
		}
		if err == nil {
			return up, node, true
		}
		g.metrics.routingFailures.inc("dial_failed")
		g.log().Warn("connection to node failed", "remote", remote, "client", client, "host_id", node.HostID, "addr", node.Addr.String(), "err", err)
		if ctx.Err() == nil {
			g.mon.markFailed(node.HostID, err)
		}
		if byID || ctx.Err() != nil {
			return nil, Node{}, false
		}
	}
	return nil, Node{}, false
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// pipe copies both ways until either side ends, then closes both.
func (g *Gateway) pipe(client, node net.Conn, n Node, remote, clientName, sni string) {
	began := time.Now()
	g.log().Debug("connection routed", "remote", remote, "client", clientName, "sni", sni, "host_id", n.HostID, "addr", n.Addr.String())
	g.metrics.routed.Add(1)
	var in, out atomic.Int64
	done := make(chan struct{}, 2)
	go func() { copyCount(node, client, &in, &g.metrics.bytesIn); done <- struct{}{} }()
	go func() { copyCount(client, node, &out, &g.metrics.bytesOut); done <- struct{}{} }()
	<-done
	client.Close()
	node.Close()
	<-done
	g.log().Debug("connection closed", "remote", remote, "host_id", n.HostID, "bytes_in", in.Load(), "bytes_out", out.Load(), "duration", time.Since(began).Round(time.Millisecond))
}

func copyCount(dst io.Writer, src io.Reader, local, total *atomic.Int64) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			local.Add(int64(n))
			total.Add(int64(n))
		}
		if err != nil {
			return
		}
	}
}

// errHelloRead stops the TLS server once the ClientHello has been parsed.
var errHelloRead = errors.New("client hello read")

// peekClientHello reads a TLS ClientHello from c and returns its server
// name and every byte read, which must be replayed to the node. It uses
// crypto/tls's own parser on a connection that records and never writes.
func peekClientHello(c net.Conn) (string, []byte, error) {
	rec := &recordingConn{Conn: c, r: c}
	var sni string
	got := false
	err := tls.Server(rec, &tls.Config{
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			sni, got = hi.ServerName, true
			return nil, errHelloRead
		},
	}).Handshake()
	if !got {
		if err == nil {
			err = errors.New("no client hello")
		}
		return "", nil, err
	}
	return sni, rec.buf.Bytes(), nil
}

// recordingConn is a read-only net.Conn that keeps what it reads.
type recordingConn struct {
	net.Conn
	r   io.Reader
	buf bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf.Write(p[:n])
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *recordingConn) Close() error                { return nil }
