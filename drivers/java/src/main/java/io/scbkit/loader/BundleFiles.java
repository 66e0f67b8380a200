package io.scbkit.loader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The files of a bundle, in memory, keyed by slash-separated path. Read from a zip or tar.gz
 * archive or a directory with the same rules as the Go reader ({@code scb.Decode},
 * {@code scb.ReadFile}): safe paths only, no links or special files, no duplicates, bounded sizes.
 * Nothing is ever extracted to disk.
 */
final class BundleFiles {
  // Well-known paths (format version 1).
  static final String METADATA = "metadata.json";
  static final String MANIFEST = "manifest.json";
  static final String SIGNATURE = "signatures/manifest.dsse.json";
  static final String SIGNATURES_DIR = "signatures/";
  static final String CA_CERT = "certificates/ca-cert.pem";
  static final String CLIENT_CERT = "certificates/client-cert.pem";
  static final String CLIENT_KEY = "certificates/client-key.pem";
  static final String CLIENT_YAML = "config/cassandra.yaml";
  static final String README = "README.md";
  static final String CLOUD_CONFIG = "config.json";
  static final String CLOUD_CA = "ca.crt";
  static final String CLOUD_CERT = "cert";
  static final String CLOUD_KEY = "key";
  static final String CLOUD_PFX = "cert.pfx";
  static final String CLOUD_IDENTITY = "identity.jks";
  static final String CLOUD_TRUSTSTORE = "trustStore.jks";
  static final String CQLSHRC = "cqlshrc";

  /** Files every bundle holds, apart from the connection profile. */
  static final List<String> REQUIRED =
      List.of(METADATA, MANIFEST, CA_CERT, CLIENT_CERT, CLIENT_KEY, CLIENT_YAML, README);
  /** The stock-driver files: all present or all absent. */
  static final List<String> STOCK =
      List.of(CLOUD_CONFIG, CLOUD_CA, CLOUD_CERT, CLOUD_KEY, CQLSHRC, CLOUD_PFX, CLOUD_IDENTITY, CLOUD_TRUSTSTORE);

  static final int MAX_PATH_LENGTH = 512;

  /** Orders paths by their UTF-8 bytes, as Go sorts strings. */
  static final Comparator<String> BYTE_ORDER =
      (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

  private final TreeMap<String, byte[]> files = new TreeMap<>(BYTE_ORDER);
  private long total;

  static String connectionProfilePath(String env) {
    return "config/connection-profiles/" + env + ".yaml";
  }

  /** The content of the file at p, or null. The array is shared: do not modify it. */
  byte[] get(String p) {
    return files.get(p);
  }

  boolean has(String p) {
    return files.containsKey(p);
  }

  int size() {
    return files.size();
  }

  /** Every path, in byte order. */
  List<String> paths() {
    return Collections.unmodifiableList(new ArrayList<>(files.keySet()));
  }

  /** Adds a file (tests and in-memory construction); the path must be safe. */
  void put(String p, byte[] data) throws BundleException {
    checkPath(p);
    files.put(p, data);
  }

  void remove(String p) {
    files.remove(p);
  }

  BundleFiles copy() {
    BundleFiles c = new BundleFiles();
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      c.files.put(e.getKey(), e.getValue().clone());
    }
    c.total = total;
    return c;
  }

  /**
   * Reports whether p is a safe bundle path: relative, slash-separated, clean, without "..",
   * backslashes, control characters, a drive letter or a trailing slash.
   */
  static void checkPath(String p) throws BundleException {
    String why = pathProblem(p);
    if (why != null) {
      throw new BundleException(Outcome.UNSAFE_PATH, Json.quote(p), "unsafe path: " + why);
    }
  }

  static String pathProblem(String p) {
    byte[] b = p.getBytes(StandardCharsets.UTF_8);
    if (p.isEmpty()) {
      return "empty name";
    }
    if (b.length > MAX_PATH_LENGTH) {
      return "name too long";
    }
    if (p.startsWith("/")) {
      return "absolute path";
    }
    if (p.indexOf('\\') >= 0) {
      return "backslash in name";
    }
    if (b.length >= 2 && b[1] == ':') {
      return "drive letter";
    }
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return "control character in name";
      }
    }
    for (String el : p.split("/", -1)) {
      if (el.isEmpty() || el.equals(".") || el.equals("..")) {
        return "relative element in name";
      }
    }
    return null;
  }

  // ---- reading -------------------------------------------------------------------------

  /** An entry being added: its content is read only after the cheap checks passed. */
  interface Opener {
    InputStream open() throws IOException;
  }

  /** Adds one entry with the Go reader's checks, in the Go reader's order. */
  void add(String name, long size, Opener open, Limits lim) throws BundleException {
    checkPath(name);
    if (files.containsKey(name)) {
      throw new BundleException(Outcome.MALFORMED_ARCHIVE, name, "malformed archive: duplicate entry");
    }
    if (files.size() >= lim.maxFiles()) {
      throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: more than " + lim.maxFiles() + " files");
    }
    if (size > lim.maxFileSize()) {
      throw tooLargeFile(name, lim);
    }
    byte[] data;
    try (InputStream in = open.open()) {
      data = readBounded(in, lim.maxFileSize() + 1);
    } catch (BundleException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new BundleException(Outcome.MALFORMED_ARCHIVE, name, "malformed archive: " + safeMessage(e), e);
    }
    if (data.length > lim.maxFileSize()) {
      throw tooLargeFile(name, lim);
    }
    total += data.length;
    if (total > lim.maxTotalSize()) {
      throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: more than " + lim.maxTotalSize() + " bytes in total");
    }
    files.put(name, data);
  }

  static BundleException tooLargeFile(String name, Limits lim) {
    return new BundleException(Outcome.TOO_LARGE, name, "archive exceeds size limits: file larger than " + lim.maxFileSize() + " bytes");
  }

  static String safeMessage(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isEmpty()) {
      return e.getClass().getSimpleName();
    }
    return m.length() > 200 ? m.substring(0, 200) + "..." : m;
  }

  /** Reads at most {@code max} bytes. */
  static byte[] readBounded(InputStream in, long max) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[16 << 10];
    long n = 0;
    while (n < max) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, max - n));
      if (r < 0) {
        break;
      }
      out.write(buf, 0, r);
      n += r;
    }
    return out.toByteArray();
  }

  /**
   * Decodes a zip or tar.gz bundle (detected from its first bytes). It enforces the limits and safe
   * paths and rejects links and special files; it does not check the manifest.
   */
  static BundleFiles decode(byte[] archive, Limits lim) throws BundleException {
    if (archive.length >= 4 && archive[0] == 'P' && archive[1] == 'K'
        && ((archive[2] == 3 && archive[3] == 4) || (archive[2] == 5 && archive[3] == 6))) {
      return ZipReader.read(archive, lim);
    }
    if (archive.length >= 2 && (archive[0] & 0xff) == 0x1f && (archive[1] & 0xff) == 0x8b) {
      return TarGzReader.read(archive, lim);
    }
    throw new BundleException(Outcome.MALFORMED_ARCHIVE, null, "malformed archive: neither a zip nor a gzip file");
  }

  /**
   * Reads a bundle from a zip or tar.gz file or a directory. A missing or unreadable file gives
   * outcome {@link Outcome#ERROR}.
   */
  static BundleFiles read(Path p, Limits lim) throws BundleException {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(p, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new BundleException(Outcome.ERROR, null, "cannot read bundle " + p + ": no such file or directory", e);
    } catch (IOException e) {
      throw new BundleException(Outcome.ERROR, null, "cannot read bundle " + p + ": " + safeMessage(e), e);
    }
    if (attrs.isDirectory()) {
      return readDir(p, lim);
    }
    if (attrs.size() > lim.maxArchiveSize()) {
      throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: archive is " + attrs.size() + " bytes, more than " + lim.maxArchiveSize());
    }
    byte[] data;
    try (InputStream in = Files.newInputStream(p)) {
      data = readBounded(in, lim.maxArchiveSize() + 1);
    } catch (IOException e) {
      throw new BundleException(Outcome.ERROR, null, "cannot read bundle " + p + ": " + safeMessage(e), e);
    }
    if (data.length > lim.maxArchiveSize()) {
      throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: archive is larger than " + lim.maxArchiveSize() + " bytes");
    }
    return decode(data, lim);
  }

  /**
   * Reads a bundle directory in lexical order. Symbolic links are followed only when they stay
   * inside the directory and point at regular files.
   */
  static BundleFiles readDir(Path dir, Limits lim) throws BundleException {
    Path root;
    try {
      root = dir.toRealPath();
    } catch (IOException e) {
      throw new BundleException(Outcome.ERROR, null, "cannot read bundle directory " + dir + ": " + safeMessage(e), e);
    }
    BundleFiles b = new BundleFiles();
    walk(root, root, "", b, lim);
    return b;
  }

  private static void walk(Path root, Path dir, String prefix, BundleFiles b, Limits lim) throws BundleException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path c : ds) {
        children.add(c);
      }
    } catch (IOException e) {
      throw new BundleException(Outcome.ERROR, prefix, "cannot read directory: " + safeMessage(e), e);
    }
    children.sort((x, y) -> BYTE_ORDER.compare(x.getFileName().toString(), y.getFileName().toString()));
    for (Path c : children) {
      String rel = prefix + c.getFileName().toString();
      BasicFileAttributes a;
      try {
        a = Files.readAttributes(c, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        throw new BundleException(Outcome.ERROR, rel, "cannot read: " + safeMessage(e), e);
      }
      if (a.isDirectory()) {
        walk(root, c, rel + "/", b, lim);
        continue;
      }
      if (!a.isRegularFile() && !a.isSymbolicLink()) {
        throw new BundleException(Outcome.UNSUPPORTED_ENTRY, rel, "unsupported archive entry: not a regular file");
      }
      Path target = c;
      if (a.isSymbolicLink()) {
        try {
          target = c.toRealPath();
        } catch (IOException e) {
          throw new BundleException(Outcome.UNSUPPORTED_ENTRY, rel, "unsupported archive entry: dangling symbolic link");
        }
        if (!target.startsWith(root)) {
          throw new BundleException(Outcome.UNSUPPORTED_ENTRY, rel, "unsupported archive entry: symbolic link leads outside the bundle");
        }
        if (!Files.isRegularFile(target)) {
          throw new BundleException(Outcome.UNSUPPORTED_ENTRY, rel, "unsupported archive entry: symbolic link to a non-regular file");
        }
      }
      final Path t = target;
      long size;
      try {
        size = Files.size(t);
      } catch (IOException e) {
        throw new BundleException(Outcome.ERROR, rel, "cannot read: " + safeMessage(e), e);
      }
      b.add(rel, size, () -> Files.newInputStream(t), lim);
    }
  }
}
