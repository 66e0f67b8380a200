package io.scbkit.gatewayit;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.loadbalancing.NodeDistance;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.session.Session;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Connects with the stock Java driver in secure-connect-bundle mode, exactly as an application
 * would, and prints one JSON object: every node the driver discovered, the host_id that
 * system.local returns when the query is sent to that node, and a data round trip.
 *
 * <p>Usage: GatewayIT BUNDLE USERNAME KEYSPACE (password in SCB_IT_PASSWORD)
 */
public final class GatewayIT {
  public static void main(String[] args) throws Exception {
    String bundle = args[0], user = args[1], keyspace = args[2];
    String password = System.getenv("SCB_IT_PASSWORD");
    try (CqlSession s =
        CqlSession.builder()
            .withCloudSecureConnectBundle(Paths.get(bundle))
            .withAuthCredentials(user, password)
            .build()) {
      List<String> nodes = new ArrayList<>();
      String localDc = "";
      for (Node n : s.getMetadata().getNodes().values()) {
        String got = null;
        Exception last = null;
        for (int i = 0; i < 50 && got == null; i++) {
          try {
            Row r = s.execute(SimpleStatement.newInstance("SELECT host_id FROM system.local").setNode(n)).one();
            got = r.getUuid("host_id").toString();
          } catch (Exception e) {
            last = e;
            Thread.sleep(200);
          }
        }
        if (got == null) {
          throw new IllegalStateException("no answer from node " + n.getHostId(), last);
        }
        // The driver was given no local DC: LOCAL distance shows the one it
        // took from the metadata service's local_dc.
        if (n.getDistance() == NodeDistance.LOCAL) {
          localDc = n.getDatacenter();
        }
        nodes.add(String.format("{\"host_id\":\"%s\",\"system_local\":\"%s\",\"dc\":\"%s\",\"endpoint\":\"%s\",\"distance\":\"%s\"}",
            n.getHostId(), got, n.getDatacenter(), n.getEndPoint(), n.getDistance()));
      }
      String key = "java-" + UUID.randomUUID();
      s.execute(SimpleStatement.newInstance("INSERT INTO " + keyspace + ".kv (k, v) VALUES (?, ?)", key, "from java"));
      ResultSet rs = s.execute(SimpleStatement.newInstance("SELECT v FROM " + keyspace + ".kv WHERE k = ?", key));
      String v = rs.one().getString("v");
      System.out.printf("{\"driver\":\"java\",\"version\":\"%s\",\"local_dc\":\"%s\",\"nodes\":[%s],\"roundtrip\":\"%s\"}%n",
          Session.OSS_DRIVER_COORDINATES.getVersion(), localDc, String.join(",", nodes), v);
    }
  }
}
