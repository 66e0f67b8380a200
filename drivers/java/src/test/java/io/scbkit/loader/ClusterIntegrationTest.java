package io.scbkit.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.ssl.ProgrammaticSslEngineFactory;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.UUID;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Direct mutual TLS with the stock DataStax Java driver against the real Cassandra 5.0 test
 * cluster (client certificate required, PasswordAuthenticator): a bundle made by the scb CLI from
 * the cluster's CA, loaded with SCBLoader, round-trips data.
 */
class ClusterIntegrationTest {
  @TempDir static Path tmp;
  static TestCluster cluster;
  static Path bundle;

  @BeforeAll
  static void generate() throws Exception {
    cluster = TestCluster.fromEnv();
    Path ca = ScbCli.caDirFrom(tmp, cluster.caCert, cluster.caKey);
    bundle = tmp.resolve("java-it.zip");
    ScbCli.scb(tmp, "generate", "--dir", ca.toString(), "--environment", "testing",
        "--cluster", cluster.clusterName, "--client", "java-it",
        "--contact-point", cluster.endpoint(), "--datacenter", cluster.dc,
        "--validity", "24h", "--out", bundle.toString());
  }

  /** Generous timeouts: schema changes on a shared two-core test machine can take seconds. */
  static DriverConfigLoader patientConfig() {
    return DriverConfigLoader.programmaticBuilder()
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30))
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(15))
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_TIMEOUT, Duration.ofSeconds(15))
        .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(30))
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(30))
        .build();
  }

  static CqlSession direct(SCBConfig config) {
    return CqlSession.builder()
        .withConfigLoader(patientConfig())
        .withSslEngineFactory(new ProgrammaticSslEngineFactory(config.getSslContext(), null, config.isHostnameVerification()))
        .addContactPoints(config.getContactPoints())
        .withLocalDatacenter(config.getLocalDatacenter())
        .withAuthCredentials(config.getUsername(), config.getPassword())
        .build();
  }

  @Test
  void directMutualTlsRoundTripsData() throws Exception {
    SCBConfig config = SCBLoader.loadFromBundle(bundle, cluster.username, cluster.password);
    assertTrue(config.verificationReport(null, VerifyOptions.DEFAULT).isValid());
    assertEquals(cluster.dc, config.getLocalDatacenter());
    try (CqlSession s = direct(config)) {
      Row v = s.execute("SELECT release_version FROM system.local").one();
      assertNotNull(v);
      assertTrue(v.getString(0).startsWith("5."), v.getString(0));
      s.execute("CREATE KEYSPACE IF NOT EXISTS scbkit_java_it WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      String table = "scbkit_java_it.rt_" + UUID.randomUUID().toString().replace("-", "");
      s.execute("CREATE TABLE " + table + " (id uuid PRIMARY KEY, v text)");
      try {
        UUID id = UUID.randomUUID();
        s.execute(s.prepare("INSERT INTO " + table + " (id, v) VALUES (?, ?)").bind(id, "hello from the java loader"));
        Row r = s.execute(s.prepare("SELECT v FROM " + table + " WHERE id = ?").bind(id)).one();
        assertNotNull(r);
        assertEquals("hello from the java loader", r.getString("v"));
      } finally {
        s.execute("DROP TABLE IF EXISTS " + table);
      }
    }
  }

  @Test
  void handshakePresentsTheBundleIdentityAndTrustsTheBundleCa() throws Exception {
    SCBConfig config = SCBLoader.loadFromBundle(bundle, cluster.username, cluster.password);
    try (SSLSocket sock = (SSLSocket) config.getSslContext().getSocketFactory().createSocket(cluster.address, cluster.nativePort)) {
      SSLParameters p = sock.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      sock.setSSLParameters(p);
      sock.setSoTimeout((int) Duration.ofSeconds(20).toMillis());
      sock.startHandshake();
      Certificate[] peer = sock.getSession().getPeerCertificates();
      X509Certificate last = (X509Certificate) peer[peer.length - 1];
      assertEquals(config.getCaCertificates().get(0).getSubjectX500Principal(), last.getIssuerX500Principal());
      assertEquals(config.getClientCertificateChain().get(0), sock.getSession().getLocalCertificates()[0]);
    }
  }

  @Test
  void aBundleFromAnotherCaIsRefusedByTheClient() throws Exception {
    // A development CA made on first use by the CLI: the node's certificate is not from it, so the
    // client (which trusts the bundle CA only) must refuse the server before anything else.
    Path foreign = tmp.resolve("foreign.zip");
    ScbCli.scb(tmp, "generate", "--environment", "development", "--cluster", cluster.clusterName, "--client", "foreign",
        "--contact-point", cluster.endpoint(), "--datacenter", cluster.dc, "--out", foreign.toString());
    SCBConfig config = SCBLoader.loadFromBundle(foreign, cluster.username, cluster.password);
    try (SSLSocket sock = (SSLSocket) config.getSslContext().getSocketFactory().createSocket(cluster.address, cluster.nativePort)) {
      sock.setSoTimeout(20_000);
      SSLHandshakeException e = assertThrows(SSLHandshakeException.class, sock::startHandshake);
      assertTrue(String.valueOf(e.getMessage()).contains("PKIX") || String.valueOf(e.getCause()).contains("PKIX"), String.valueOf(e));
    }
    assertThrows(AllNodesFailedException.class, () -> direct(config).close());
  }

  @Test
  void wrongPasswordIsRefusedByTheCluster() throws Exception {
    SCBConfig config = SCBLoader.loadFromBundle(bundle, cluster.username, "not-the-password");
    AllNodesFailedException e = assertThrows(AllNodesFailedException.class, () -> direct(config).close());
    assertFalse(e.getMessage().contains("not-the-password"), e.getMessage());
  }
}
