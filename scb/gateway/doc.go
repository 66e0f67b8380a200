// Package gateway lets the stock DataStax drivers' secure-connect-bundle
// mode work with a self-managed Apache Cassandra cluster. It is the
// metadata service plus SNI proxy that config.json in every scbkit bundle
// points at:
//
//   - the metadata service answers GET /metadata over HTTPS (client
//     certificate required) with the proxy address, the local datacenter
//     and the host_ids of its live nodes;
//   - the SNI proxy accepts the drivers' TLS connections on the CQL port
//     and forwards each one to exactly the node whose host_id it names as
//     TLS server name (SNI); without SNI, or with any other name, it picks
//     a live local node, so cqlsh and single-endpoint tools work too.
//
// A Gateway learns the cluster from a Source (NewCassandraSource follows a
// live cluster over mutual TLS with a monitoring role) and probes every
// node itself; a node that fails its probe or a dial, or that the cluster
// reports DOWN, leaves the metadata and the routing table until it
// answers again. Gateways keep no state of their own, so several instances
// behind one DNS name all route every host_id.
//
// In the default Terminate mode the gateway ends the client's TLS session
// (verifying its certificate against the bundle CA) and opens its own to
// the node; Passthrough splices the TLS stream to the node instead. See
// docs/gateway.md for the trade-off.
//
// Minimal embedding:
//
//	src, err := gateway.NewCassandraSource(ctx, gateway.CassandraConfig{
//		ContactPoints: []string{"10.0.0.5:9042"}, TLS: nodeTLS,
//		Username: "gateway", Password: pw,
//	})
//	g, err := gateway.New(gateway.Config{
//		PublicHost: "cassandra.example.com", Certificate: &cert,
//		ClientCAs: bundleCA, UpstreamTLS: nodeTLS, Source: src, LocalDC: "dc1",
//	})
//	err = g.Serve(ctx, gateway.Listeners{Metadata: ml, CQL: cl, Admin: al})
//
// The client side, for Go programs, is ClusterConfig: it reads a bundle's
// config.json, fetches the metadata and returns a gocql configuration
// whose SNIDialer reaches each node through the proxy.
package gateway
