package gateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"

	"github.com/scbkit/scbkit/scb/gateway"
)

// Embedding a gateway: follow a cluster with a monitoring role and serve
// the metadata service, the SNI proxy and the admin endpoints until
// interrupted. (Not run: it needs a cluster.)
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var (
		cert     tls.Certificate // for cassandra.example.com, from the bundle CA
		bundleCA *x509.CertPool  // verifies the applications' bundle certificates
		nodeTLS  *tls.Config     // the gateway's client certificate + the nodes' CA
		password string          // of the monitoring role, from a secret store
	)
	src, err := gateway.NewCassandraSource(ctx, gateway.CassandraConfig{
		ContactPoints: []string{"10.0.0.5:9042"}, TLS: nodeTLS,
		Username: "scb_gateway", Password: password,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	g, err := gateway.New(gateway.Config{
		PublicHost: "cassandra.example.com", Certificate: &cert, ClientCAs: bundleCA,
		UpstreamTLS: nodeTLS, Source: src, LocalDC: "dc1",
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	ml, _ := net.Listen("tcp", ":29080")
	cl, _ := net.Listen("tcp", ":29042")
	al, _ := net.Listen("tcp", "127.0.0.1:29090")
	if err := g.Serve(ctx, gateway.Listeners{Metadata: ml, CQL: cl, Admin: al}); err != nil {
		log.Fatal(err)
	}
}
