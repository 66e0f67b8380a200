package io.scbkit.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stock-driver bundle mode: {@code CqlSession.builder().withCloudSecureConnectBundle(...)} with a
 * bundle loaded by SCBLoader, through a real {@code scb gateway} (metadata service + SNI proxy)
 * in front of the real test cluster, on loopback ports.
 *
 * <p>A scb binary without a working {@code gateway} command fails the test.
 */
class GatewayIntegrationTest {
  @TempDir static Path tmp;
  static TestCluster cluster;
  static Process gateway;
  static Path bundle;
  static Path gatewayLog;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static boolean gatewayCommandAvailable() throws Exception {
    try {
      ScbCli.scb(tmp, "gateway", "--help");
      return true;
    } catch (IOException e) {
      if (e.getMessage().contains("unknown command")) {
        return false;
      }
      throw e;
    }
  }

  static boolean available;

  /** Each test fails when the scb build has no working gateway command. */
  static void requireGateway() {
    org.junit.jupiter.api.Assertions.assertTrue(available, "the scb CLI has no working 'gateway' command");
  }

  @BeforeAll
  static void startGateway() throws Exception {
    cluster = TestCluster.fromEnv();
    available = gatewayCommandAvailable();
    if (!available) {
      return;
    }
    Path ca = ScbCli.caDirFrom(tmp, cluster.caCert, cluster.caKey);
    int metadataPort = freePort();
    int cqlPort = freePort();
    int adminPort = freePort();
    Path tls = tmp.resolve("gw-tls");
    ScbCli.scb(tmp, "ca", "issue-server", "--dir", ca.toString(), "--host", "localhost", "--host", "127.0.0.1",
        "--validity", "24h", "--out", tls.toString());
    Path upstream = tmp.resolve("gateway-scb.zip");
    ScbCli.scb(tmp, "generate", "--dir", ca.toString(), "--environment", "testing", "--cluster", cluster.clusterName,
        "--client", "gateway", "--contact-point", cluster.endpoint(), "--datacenter", cluster.dc, "--validity", "24h",
        "--out", upstream.toString());
    Path cfg = tmp.resolve("gateway.yaml");
    Files.writeString(cfg, String.join("\n",
        "public_host: localhost",
        "listen:",
        "  metadata: \"127.0.0.1:" + metadataPort + "\"",
        "  cql: \"127.0.0.1:" + cqlPort + "\"",
        "  admin: \"127.0.0.1:" + adminPort + "\"",
        "tls:",
        "  cert_file: " + tls.resolve("server-cert.pem"),
        "  key_file: " + tls.resolve("server-key.pem"),
        "  client_ca_file: " + tls.resolve("ca-cert.pem"),
        "cluster:",
        "  bundle: " + upstream,
        "  username: " + cluster.username,
        "  password_env: SCB_JAVA_IT_GATEWAY_PASSWORD",
        "  local_dc: " + cluster.dc,
        "refresh_interval: 2s",
        ""));
    gatewayLog = tmp.resolve("gateway.log");
    ProcessBuilder pb = new ProcessBuilder(ScbCli.bin().toString(), "gateway", "--config", cfg.toString())
        .redirectErrorStream(true).redirectOutput(gatewayLog.toFile());
    pb.environment().put("SCB_JAVA_IT_GATEWAY_PASSWORD", cluster.password);
    pb.environment().put("SCB_HOME", tmp.resolve("scb-home").toString());
    gateway = pb.start();
    waitReady(adminPort);
    bundle = tmp.resolve("java-gateway.zip");
    ScbCli.scb(tmp, "generate", "--dir", ca.toString(), "--environment", "testing", "--cluster", cluster.clusterName,
        "--client", "java-gateway", "--contact-point", cluster.endpoint(), "--datacenter", cluster.dc,
        "--gateway", "localhost:" + cqlPort + "," + metadataPort, "--validity", "24h", "--out", bundle.toString());
  }

  static void waitReady(int adminPort) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!gateway.isAlive()) {
        fail("scb gateway exited with " + gateway.exitValue() + ":\n" + Files.readString(gatewayLog));
      }
      try {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + adminPort + "/readyz").openConnection();
        c.setConnectTimeout(1000);
        c.setReadTimeout(2000);
        if (c.getResponseCode() == 200) {
          return;
        }
        last = "HTTP " + c.getResponseCode();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    fail("scb gateway not ready after 90 s (" + last + "):\n" + Files.readString(gatewayLog));
  }

  @AfterAll
  static void stopGateway() throws Exception {
    if (gateway != null) {
      gateway.destroy();
      if (!gateway.waitFor(40, TimeUnit.SECONDS)) {
        gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  static void roundTrip(CqlSession s) {
    Row v = s.execute("SELECT release_version FROM system.local").one();
    assertNotNull(v);
    assertTrue(v.getString(0).startsWith("5."), v.getString(0));
    s.execute("CREATE KEYSPACE IF NOT EXISTS scbkit_java_it WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    String table = "scbkit_java_it.gw_" + UUID.randomUUID().toString().replace("-", "");
    s.execute("CREATE TABLE " + table + " (id uuid PRIMARY KEY, v text)");
    try {
      UUID id = UUID.randomUUID();
      s.execute(s.prepare("INSERT INTO " + table + " (id, v) VALUES (?, ?)").bind(id, "through the gateway"));
      Row r = s.execute(s.prepare("SELECT v FROM " + table + " WHERE id = ?").bind(id)).one();
      assertNotNull(r);
      assertEquals("through the gateway", r.getString("v"));
    } finally {
      s.execute("DROP TABLE IF EXISTS " + table);
    }
  }

  @Test
  void stockDriverBundleModeThroughTheGateway() throws Exception {
    requireGateway();
    SCBConfig config = SCBLoader.loadFromBundle(bundle, cluster.username, cluster.password);
    try (CqlSession s = CqlSession.builder()
        .withCloudSecureConnectBundle(config.getBundlePath())
        .withConfigLoader(ClusterIntegrationTest.patientConfig())
        .withAuthCredentials(config.getUsername(), config.getPassword())
        .build()) {
      roundTrip(s);
    } catch (RuntimeException e) {
      throw new AssertionError("bundle mode failed; gateway log:\n" + Files.readString(gatewayLog), e);
    }
  }

  @Test
  void bundleModeWithTheVerifiedBytes() throws Exception {
    requireGateway();
    SCBConfig config = SCBLoader.loadFromBundle(bundle, cluster.username, cluster.password);
    try (InputStream verified = config.openBundle();
        CqlSession s = CqlSession.builder()
            .withCloudSecureConnectBundle(verified)
            .withConfigLoader(ClusterIntegrationTest.patientConfig())
            .withAuthCredentials(config.getUsername(), config.getPassword())
            .build()) {
      List<String> dcs = new ArrayList<>();
      s.getMetadata().getNodes().values().forEach(n -> dcs.add(n.getDatacenter()));
      assertTrue(dcs.contains(cluster.dc), dcs.toString());
      assertEquals(1, s.execute("SELECT key FROM system.local").all().size());
    } catch (RuntimeException e) {
      throw new AssertionError("bundle mode failed; gateway log:\n" + new String(Files.readAllBytes(gatewayLog), StandardCharsets.UTF_8), e);
    }
  }
}
