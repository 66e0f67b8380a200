package gateway

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
)

// MetadataPath is the only path the drivers request.
const MetadataPath = "/metadata"

// Metadata is the metadata service's response, as every DataStax driver
// parses it in secure-connect-bundle mode.
type Metadata struct {
	Version     int         `json:"version"`
	Region      string      `json:"region"`
	ContactInfo ContactInfo `json:"contact_info"`
}

// ContactInfo tells a driver how to reach the cluster through the proxy.
type ContactInfo struct {
	// Type is always "sni_proxy".
	Type string `json:"type"`
	// LocalDC is the datacenter the driver pins as local.
	LocalDC string `json:"local_dc"`
	// ContactPoints are the lower-case host_ids of the live nodes of
	// LocalDC; the drivers send them as SNI.
	ContactPoints []string `json:"contact_points"`
	// SNIProxyAddress is "host:port" of the SNI proxy.
	SNIProxyAddress string `json:"sni_proxy_address"`
}

// errorBody is the only error format a driver parses (C++ logs "message").
type errorBody struct {
	Message string `json:"message"`
}

// Metadata returns what GET /metadata would answer now, and false when no
// live node of the local datacenter is known.
func (g *Gateway) Metadata() (Metadata, bool) {
	t := g.mon.cur.Load()
	port := g.cfg.PublicCQLPort
	if port == 0 {
		port = int(g.cqlPort.Load())
	}
	region := g.cfg.Region
	if region == "" {
		region = t.localDC
	}
	m := Metadata{
		Version: 1,
		Region:  region,
		ContactInfo: ContactInfo{
			Type:            "sni_proxy",
			LocalDC:         t.localDC,
			ContactPoints:   append([]string{}, t.local...),
			SNIProxyAddress: net.JoinHostPort(g.cfg.PublicHost, strconv.Itoa(port)),
		},
	}
	return m, len(t.local) > 0
}

// MetadataHandler serves GET /metadata (any query string). It must be
// served over TLS with a verified client certificate (Serve does this with
// ClientCAs); a request without one is refused with 403 as a second line
// of defence. Responses carry Content-Length and are never chunked, so
// HTTP/1.0 clients (the C++ driver) work; errors are JSON
// {"message": "..."} with a 4xx/5xx status.
func (g *Gateway) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := g.serveMetadata(w, r)
		g.metrics.metadataRequests.inc(strconv.Itoa(code))
	})
}

func (g *Gateway) serveMetadata(w http.ResponseWriter, r *http.Request) int {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		g.log().Warn("metadata request without a verified client certificate", "remote", r.RemoteAddr)
		return writeJSON(w, http.StatusForbidden, errorBody{"a client certificate from the bundle CA is required"})
	}
	if r.URL.Path != MetadataPath {
		return writeJSON(w, http.StatusNotFound, errorBody{"not found: the metadata service answers GET " + MetadataPath})
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return writeJSON(w, http.StatusMethodNotAllowed, errorBody{"method not allowed: use GET"})
	}
	m, ok := g.Metadata()
	if !ok || g.closing.Load() {
		msg := "no live node in datacenter " + m.ContactInfo.LocalDC
		if g.closing.Load() {
			msg = "gateway shutting down"
		}
		w.Header().Set("Retry-After", "5")
		return writeJSON(w, http.StatusServiceUnavailable, errorBody{msg})
	}
	g.log().Debug("metadata served", "remote", r.RemoteAddr, "client", r.TLS.PeerCertificates[0].Subject.CommonName,
		"contact_points", len(m.ContactInfo.ContactPoints), "proto", r.Proto, "host", r.Host, "sni", r.TLS.ServerName,
		"tls", tls.VersionName(r.TLS.Version), "user_agent", r.UserAgent(), "query", r.URL.RawQuery)
	return writeJSON(w, http.StatusOK, m)
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	body, err := json.Marshal(v)
	if err != nil {
		code, body = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}

// AdminHandler serves the operational endpoints, on plain HTTP meant for a
// loopback or private address:
//
//	GET /healthz  200 while the process serves (503 once shutting down)
//	GET /readyz   200 when at least one local-datacenter node is routed,
//	              else 503 with {"message": ...}
//	GET /nodes    every known node with its status (JSON)
//	GET /metrics  Prometheus text format
func (g *Gateway) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if g.closing.Load() {
			writeJSON(w, http.StatusServiceUnavailable, errorBody{"shutting down"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		m, ok := g.Metadata()
		switch {
		case g.closing.Load():
			writeJSON(w, http.StatusServiceUnavailable, errorBody{"shutting down"})
		case !ok:
			writeJSON(w, http.StatusServiceUnavailable, errorBody{"no live node in datacenter " + m.ContactInfo.LocalDC})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "local_dc": m.ContactInfo.LocalDC, "contact_points": len(m.ContactInfo.ContactPoints)})
		}
	})
	mux.HandleFunc("GET /nodes", func(w http.ResponseWriter, r *http.Request) {
		type node struct {
			HostID    string `json:"host_id"`
			Addr      string `json:"addr"`
			DC        string `json:"dc"`
			Rack      string `json:"rack"`
			Live      bool   `json:"live"`
			LastError string `json:"last_error,omitempty"`
		}
		out := []node{}
		for _, n := range g.Nodes() {
			out = append(out, node{n.HostID, n.Addr.String(), n.DC, n.Rack, n.Live, n.LastError})
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		g.writeMetrics(w)
	})
	return mux
}
