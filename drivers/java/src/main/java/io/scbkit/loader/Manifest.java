package io.scbkit.loader;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * manifest.json: the size and SHA-256 of every file except manifest.json and signatures/*, in a
 * canonical encoding (which is what gets signed). {@link #parse} accepts only input that
 * re-encodes to the same bytes.
 */
final class Manifest {
  static final String FORMAT = "scb-manifest/1";

  /** One listed file. */
  static final class Entry {
    final String path;
    final long size;
    final String sha256;

    Entry(String path, long size, String sha256) {
      this.path = path;
      this.size = size;
      this.sha256 = sha256;
    }
  }

  final List<Entry> files;

  private Manifest(List<Entry> files) {
    this.files = files;
  }

  /** Whether the file at p is covered by the manifest. */
  static boolean covers(String p) {
    return !p.equals(BundleFiles.MANIFEST) && !p.startsWith(BundleFiles.SIGNATURES_DIR);
  }

  private static BundleException bad(String why) {
    return new BundleException(Outcome.MALFORMED_MANIFEST, BundleFiles.MANIFEST, "invalid bundle: " + why);
  }

  /** Parses a canonical manifest (the rules of the Go ParseManifest). */
  @SuppressWarnings("unchecked")
  static Manifest parse(byte[] data) throws BundleException {
    Map<String, Object> m;
    try {
      Object v = Json.parseFirst(data);
      if (!(v instanceof Map)) {
        throw bad("malformed manifest: not a JSON object");
      }
      m = (Map<String, Object>) v;
    } catch (Json.JsonException e) {
      throw bad("malformed manifest: " + e.getMessage());
    }
    for (String k : m.keySet()) {
      if (!k.equals("format") && !k.equals("algorithm") && !k.equals("files")) {
        throw bad("malformed manifest: unknown field " + Json.quote(k));
      }
    }
    Object format = m.get("format");
    if (!FORMAT.equals(format)) {
      throw bad("unsupported manifest format");
    }
    if (!"sha256".equals(m.get("algorithm"))) {
      throw bad("unsupported digest algorithm");
    }
    Object fl = m.get("files");
    List<Entry> files = new ArrayList<>();
    if (fl instanceof List) {
      Set<String> seen = new HashSet<>();
      for (Object o : (List<Object>) fl) {
        if (!(o instanceof Map)) {
          throw bad("malformed manifest: files entry is not an object");
        }
        Map<String, Object> e = (Map<String, Object>) o;
        for (String k : e.keySet()) {
          if (!k.equals("path") && !k.equals("size") && !k.equals("sha256")) {
            throw bad("malformed manifest: unknown field " + Json.quote(k));
          }
        }
        Object p = e.get("path");
        Object size = e.get("size");
        Object sum = e.get("sha256");
        if (!(p instanceof String) || !(size instanceof Json.Num) || !(sum instanceof String)) {
          throw bad("malformed manifest: wrong field types");
        }
        String path = (String) p;
        String why = BundleFiles.pathProblem(path);
        if (why != null) {
          throw bad(Json.quote(path) + ": unsafe path: " + why);
        }
        if (!covers(path)) {
          throw bad("manifest lists " + path + ", which it cannot cover");
        }
        if (!seen.add(path)) {
          throw bad("duplicate entry " + path);
        }
        BigInteger n = ((Json.Num) size).integer();
        if (n == null || n.bitLength() > 63) {
          throw bad("malformed manifest: size of " + path + " is not an integer");
        }
        if (n.signum() < 0) {
          throw bad("negative size for " + path);
        }
        String s = (String) sum;
        if (s.length() != 64 || !Dsse.isKeyId(s)) {
          throw bad("malformed sha256 for " + path);
        }
        files.add(new Entry(path, n.longValueExact(), s));
      }
    } else if (fl != null && fl != Json.NULL) {
      throw bad("malformed manifest: files is not an array");
    }
    Manifest man = new Manifest(files);
    if (!Arrays.equals(man.encode(), data)) {
      throw bad("manifest is not in canonical form");
    }
    return man;
  }

  /** The canonical encoding. */
  byte[] encode() {
    List<Entry> sorted = new ArrayList<>(files);
    sorted.sort((a, b) -> BundleFiles.BYTE_ORDER.compare(a.path, b.path));
    StringBuilder b = new StringBuilder();
    b.append("{\n  \"format\": ");
    Json.encodeString(b, FORMAT);
    b.append(",\n  \"algorithm\": \"sha256\",\n  \"files\": ");
    if (sorted.isEmpty()) {
      b.append("[]\n}\n");
      return b.toString().getBytes(StandardCharsets.UTF_8);
    }
    b.append("[\n");
    for (int i = 0; i < sorted.size(); i++) {
      Entry e = sorted.get(i);
      b.append("    {\n      \"path\": ");
      Json.encodeString(b, e.path);
      b.append(",\n      \"size\": ").append(e.size).append(",\n      \"sha256\": ");
      Json.encodeString(b, e.sha256);
      b.append("\n    }");
      b.append(i + 1 < sorted.size() ? ",\n" : "\n");
    }
    b.append("  ]\n}\n");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The manifest of the given files (tests). */
  static Manifest of(BundleFiles b) {
    List<Entry> files = new ArrayList<>();
    for (String p : b.paths()) {
      if (covers(p)) {
        byte[] d = b.get(p);
        files.add(new Entry(p, d.length, sha256Hex(d)));
      }
    }
    return new Manifest(files);
  }

  static String sha256Hex(byte[] d) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(d));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Compares the bundle with its manifest: every listed file present with the right size and
   * digest, every covered file listed. Returns the problems (empty when all match).
   */
  static List<String> check(BundleFiles b, Manifest m) {
    List<String> problems = new ArrayList<>();
    Set<String> listed = new HashSet<>();
    for (Entry e : m.files) {
      listed.add(e.path);
      byte[] d = b.get(e.path);
      if (d == null) {
        problems.add(e.path + ": required file missing: listed in manifest but absent");
        continue;
      }
      if (d.length != e.size || !sha256Hex(d).equals(e.sha256)) {
        problems.add(e.path + ": file does not match manifest");
      }
    }
    for (String p : b.paths()) {
      if (covers(p) && !listed.contains(p)) {
        problems.add(p + ": file does not match manifest: file not listed in manifest");
      }
    }
    return problems;
  }
}
