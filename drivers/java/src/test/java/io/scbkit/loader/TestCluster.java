package io.scbkit.loader;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The shared test cluster started by scripts/test.sh, from the state file named by SCB_TEST_STATE
 * (see internal/testcluster/state.go). Without it the test fails when CI is set and is skipped
 * otherwise, so a hand-run {@code mvn test} still passes while {@code make test} never skips.
 */
final class TestCluster {
  final Path caCert;
  final Path caKey;
  final String username;
  final String password;
  final String clusterName;
  final String address;
  final int nativePort;
  final String dc;

  private TestCluster(Map<String, Object> s) {
    caCert = Path.of((String) s.get("ca_cert"));
    caKey = Path.of((String) s.get("ca_key"));
    username = (String) s.get("username");
    password = (String) s.get("password");
    @SuppressWarnings("unchecked")
    Map<String, Object> c = (Map<String, Object>) ((List<Object>) s.get("clusters")).get(0);
    clusterName = (String) c.get("name");
    @SuppressWarnings("unchecked")
    Map<String, Object> n = (Map<String, Object>) ((List<Object>) c.get("nodes")).get(0);
    address = (String) n.get("address");
    nativePort = Integer.parseInt(n.get("native_port").toString());
    dc = (String) n.get("dc");
  }

  static TestCluster fromEnv() throws Exception {
    String path = System.getenv("SCB_TEST_STATE");
    if (path == null || path.isEmpty()) {
      if (TestPaths.ci()) {
        fail("SCB_TEST_STATE is not set and CI is: integration tests must not be skipped (run scripts/test.sh)");
      }
      assumeTrue(false, "skipping integration test: set SCB_TEST_STATE (make test, or scripts/testcluster.sh start)");
    }
    Map<String, Object> s = Json.parseObject(Files.readAllBytes(Path.of(path)), false);
    if (!"1".equals(String.valueOf(s.get("version")))) {
      fail("unsupported test cluster state version " + s.get("version"));
    }
    return new TestCluster(s);
  }

  String endpoint() {
    return (address.contains(":") ? "[" + address + "]" : address) + ":" + nativePort;
  }

  @Override
  public String toString() {
    return "TestCluster{" + clusterName + " " + endpoint() + " " + dc + ", password=<redacted>}";
  }
}
