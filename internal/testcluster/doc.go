// Package testcluster runs real Apache Cassandra 5.0 nodes for scbkit's
// integration tests, and lets tests in any package find the clusters shared
// by a test run.
//
// # Shared clusters
//
// `make test` (scripts/test.sh) fetches the Cassandra jars from Maven
// Central, starts the shared clusters once with the scb-testcluster command
// and exports SCB_TEST_STATE. A test asks for them with
//
//	c := testcluster.FromEnv(t)   // primary cluster; MultiDCFromEnv, AllFromEnv for the others
//	s := c.Session(t)             // gocql v2, fresh client certificate, superuser login
//
// FromEnv fails the test when CI is set and no cluster is configured, and
// skips it otherwise. SCB_TEST_CASSANDRA and friends point the tests at an
// external cluster instead (see the Env* constants and docs/testing.md).
//
// # Nodes
//
// Start runs each node as a separate Java 17 process (DefaultJava) in its
// own process group, on loopback addresses and free ports, with a generated
// cassandra.yaml: PasswordAuthenticator, CassandraAuthorizer and a TLS-only
// native port that requires a client certificate (PEMBasedSslContextFactory,
// TLS 1.2 and 1.3). A node is ready when a real TLS + password login
// succeeds. Cluster.ReloadTLS swaps a node's server certificate at run time
// through `nodetool reloadssl`.
//
// # Certificates
//
// Start takes PEM inputs (ServerTLS, and a client tls.Config for its
// readiness probe). The test CA used to make them lives in certs.go, the only
// file that generates certificates, so that it can be replaced by scb/ca.
package testcluster
