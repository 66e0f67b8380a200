package scbkit.example;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.servererrors.QueryConsistencyException;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.*;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.net.ssl.SSLException;

/**
 * Connects with the bundle's config/driver-configs/java/application.conf over mutual TLS,
 * logs in with SCB_USERNAME / SCB_PASSWORD, writes a row and reads it back.
 *
 * <p>Usage: Main [BUNDLE] where BUNDLE is the bundle zip or the directory it was extracted to
 * (default $SCB_BUNDLE, else "."). Exit codes: 0 ok, 1 other error, 2 bad bundle or usage,
 * 3 authentication failed, 4 TLS failed, 5 no node available, 6 timed out.
 */
public final class Main {
  static final String CONF = "config/driver-configs/java/application.conf";

  public static void main(String[] args) {
    String user = System.getenv("SCB_USERNAME"), pass = System.getenv("SCB_PASSWORD");
    if (user == null || pass == null) {
      System.err.println("set SCB_USERNAME and SCB_PASSWORD");
      System.exit(2);
    }
    String ks = System.getenv().getOrDefault("SCB_KEYSPACE", "scb_examples");
    if (!ks.matches("[A-Za-z][A-Za-z0-9_]{0,47}")) {
      System.err.println("SCB_KEYSPACE must be a plain CQL identifier");
      System.exit(2);
    }
    String arg = args.length > 0 ? args[0] : System.getenv().getOrDefault("SCB_BUNDLE", ".");
    int code;
    try {
      Path dir = openBundle(Paths.get(arg));
      // Store passwords live in config.json; hand them to application.conf as system
      // properties (its ${scb.*} substitutions), never copying them into a file.
      JsonNode cloud = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
      for (String f : new String[] {"keyStorePassword", "trustStorePassword"}) {
        if (!cloud.hasNonNull(f) || !Files.exists(dir.resolve(f.startsWith("key") ? "identity.jks" : "trustStore.jks"))) {
          throw new IllegalArgumentException("bundle has no Java keystores (identity.jks, trustStore.jks): regenerate it with the jks component");
        }
      }
      System.setProperty("scb.bundle-dir", dir.toString());
      System.setProperty("scb.keystore-password", cloud.get("keyStorePassword").asText());
      System.setProperty("scb.truststore-password", cloud.get("trustStorePassword").asText());
      System.setProperty("scb.username", user);
      System.setProperty("scb.password", pass);
      code = run(dir, ks);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("bundle: " + e.getMessage());
      code = 2;
    }
    System.exit(code);
  }

  static int run(Path dir, String ks) {
    DriverConfigLoader loader = DriverConfigLoader.fromPath(dir.resolve(CONF));
    try (CqlSession session = CqlSession.builder().withConfigLoader(loader).build()) {
      String dc = session.getContext().getConfig().getDefaultProfile()
          .getString(com.datastax.oss.driver.api.core.config.DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER);
      retry(() -> session.execute("CREATE KEYSPACE IF NOT EXISTS " + ks
          + " WITH replication = {'class': 'NetworkTopologyStrategy', '" + dc + "': 1}"));
      retry(() -> session.execute("CREATE TABLE IF NOT EXISTS " + ks
          + ".messages (driver text PRIMARY KEY, message text, written_at timestamp)"));
      var insert = session.prepare("INSERT INTO " + ks + ".messages (driver, message, written_at) VALUES (?, ?, ?)");
      var select = session.prepare("SELECT driver, message, written_at FROM " + ks + ".messages WHERE driver = ?");
      // Prepared INSERT/SELECT of fixed values are idempotent: safe to retry on timeout.
      retry(() -> session.execute(insert.bind("java", "hello from the Java driver", Instant.now()).setIdempotent(true)));
      Row row = retry(() -> session.execute(select.bind("java").setIdempotent(true)).one());
      if (row == null) {
        System.err.println("row not found after write");
        return 1;
      }
      System.out.printf("read back: driver=%s message=\"%s\" written_at=%s%n",
          row.getString("driver"), row.getString("message"), row.getInstant("written_at"));
      return 0;
    } catch (RuntimeException e) {
      return explain(e);
    }
  }

  /** Retries a request on timeouts and unavailable replicas, with exponential backoff. */
  static <T> T retry(Callable<T> request) {
    for (int attempt = 1; ; attempt++) {
      try {
        return request.call();
      } catch (DriverTimeoutException | QueryConsistencyException | UnavailableException e) {
        if (attempt == 3) throw e;
        System.err.printf("attempt %d failed (%s), retrying%n", attempt, e.getClass().getSimpleName());
        try {
          Thread.sleep(200L << attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    }
  }

  /** Maps a failure to a message and an exit code; the causes tell TLS from login problems. */
  static int explain(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AllNodesFailedException) {
        for (var errs : ((AllNodesFailedException) t).getAllErrors().values()) {
          for (Throwable n : errs) {
            int c = classify(n);
            if (c != 1) return report(c, n);
          }
        }
        return report(5, t);
      }
      int c = classify(t);
      if (c != 1) return report(c, t);
    }
    return report(1, e);
  }

  static int classify(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AuthenticationException) return 3;
      if (t instanceof SSLException || t instanceof java.security.cert.CertificateException) return 4;
      if (t instanceof NoNodeAvailableException) return 5;
      if (t instanceof DriverTimeoutException || t instanceof QueryConsistencyException) return 6;
    }
    return 1;
  }

  static int report(int code, Throwable e) {
    String[] what = {"", "error", "", "authentication failed: check SCB_USERNAME / SCB_PASSWORD",
        "TLS failed: the server certificate is not from this bundle's CA, does not name the node, or the client certificate was refused",
        "no node available: check contact points, local datacenter and network", "timed out"};
    System.err.println(what[code] + ": " + e);
    return code;
  }

  /** Returns the bundle directory; a zip is extracted to a private temporary directory. */
  static Path openBundle(Path p) throws IOException {
    if (Files.isDirectory(p)) return p.toAbsolutePath();
    Path dir = Files.createTempDirectory("scb-bundle-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException ignored) {
        // best effort: the directory is private to this user
      }
    }));
    try (InputStream in = Files.newInputStream(p); ZipInputStream zip = new ZipInputStream(in)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        Path out = dir.resolve(e.getName()).normalize();
        if (!out.startsWith(dir)) throw new IOException("zip entry outside the bundle: " + e.getName());
        if (e.isDirectory()) continue;
        Files.createDirectories(out.getParent());
        Files.copy(zip, out);
      }
    }
    return dir;
  }
}
