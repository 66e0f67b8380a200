package io.scbkit.loader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the scb CLI for tests: the binary named by SCB_BIN (scripts/test-java.sh builds it), else
 * one built once with {@code go build} into target/. Secrets never go on command lines.
 */
final class ScbCli {
  private static Path bin;

  private ScbCli() {}

  static synchronized Path bin() throws IOException, InterruptedException {
    if (bin != null) {
      return bin;
    }
    String env = System.getenv("SCB_BIN");
    if (env != null && !env.isEmpty()) {
      bin = Path.of(env);
      return bin;
    }
    Path out = Path.of("target", "scb").toAbsolutePath();
    run(TestPaths.repoRoot(), Map.of(), List.of("go", "build", "-o", out.toString(), "./cmd/scb"));
    bin = out;
    return bin;
  }

  /** Runs a command; fails with its output when it exits non-zero. Returns stdout+stderr. */
  static String run(Path dir, Map<String, String> env, List<String> cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + cmd);
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("command failed (" + p.exitValue() + "): " + String.join(" ", cmd) + "\n" + s);
    }
    return s;
  }

  /** Runs {@code scb ARGS...} in dir with SCB_HOME inside dir. */
  static String scb(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(bin().toString());
    cmd.addAll(Arrays.asList(args));
    return run(dir, Map.of("SCB_HOME", dir.resolve("scb-home").toString()), cmd);
  }

  /**
   * Writes an scbkit CA directory whose root and intermediate are both the given self-signed CA
   * (certificate and PKCS#8 key PEM), so that {@code scb generate --dir} issues client
   * certificates the test cluster accepts. The directory and files are private (0700/0600) and
   * belong under a test's temporary directory, which is deleted afterwards.
   */
  static Path caDirFrom(Path parent, Path caCert, Path caKey) throws IOException {
    Path dir = parent.resolve("ca");
    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    byte[] cert = Files.readAllBytes(caCert);
    byte[] key = Files.readAllBytes(caKey);
    for (String[] f : new String[][] {{"root-cert.pem", "c"}, {"root-key.pem", "k"}, {"intermediate-cert.pem", "c"}, {"intermediate-key.pem", "k"}}) {
      Path p = dir.resolve(f[0]);
      Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(p, f[1].equals("c") ? cert : key);
    }
    Path st = dir.resolve("ca.json");
    Files.createFile(st, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(st, "{\n  \"version\": 1,\n  \"key_type\": \"ecdsa-p256\",\n  \"encrypted\": false,\n  \"created_at\": \"2025-01-01T00:00:00Z\"\n}\n");
    return dir;
  }

  /** Deletes a directory tree (test temporary directories holding keys). */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
