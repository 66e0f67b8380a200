package io.scbkit.loader;

import static io.scbkit.loader.RawArchives.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scbkit.loader.RawArchives.TarEntry;
import io.scbkit.loader.RawArchives.ZipEntry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile and well-formed archives: safe paths, links, duplicates, sizes, corruption. */
class ArchiveTest {
  private static Outcome outcome(byte[] archive, Limits lim) {
    BundleException e = assertThrows(BundleException.class, () -> BundleFiles.decode(archive, lim));
    assertFalse(e.getMessage().contains("SECRET"), "error echoes content: " + e.getMessage());
    return e.getOutcome();
  }

  private static Outcome outcome(byte[] archive) {
    return outcome(archive, Limits.DEFAULT);
  }

  @Test
  void readsZipEntriesAndSkipsDirectories() throws Exception {
    ZipEntry dir = new ZipEntry("certificates/", "");
    dir.unixMode = 040700;
    ZipEntry stored = new ZipEntry("a/b.txt", "hello");
    stored.deflate = false;
    BundleFiles b = BundleFiles.decode(RawArchives.zip(list(dir, new ZipEntry("certificates/ca-cert.pem", "pem"), stored)), Limits.DEFAULT);
    assertEquals(List.of("a/b.txt", "certificates/ca-cert.pem"), b.paths());
    assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), b.get("a/b.txt"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"../evil", "a/../../evil", "/etc/passwd", "a\\b", "C:evil", "a//b", "./a", "a/./b", "", "a\u0000b", "a\nb", "a\u007fb"})
  void unsafeZipNamesAreRejected(String name) throws Exception {
    ZipEntry e = new ZipEntry(name, "SECRET");
    assertEquals(Outcome.UNSAFE_PATH, outcome(RawArchives.zip(list(new ZipEntry("ok", "x"), e))));
  }

  @Test
  void overlongNameIsRejected() throws Exception {
    assertEquals(Outcome.UNSAFE_PATH, outcome(RawArchives.zip(list(new ZipEntry("a".repeat(513), "x")))));
    BundleFiles.decode(RawArchives.zip(list(new ZipEntry("a".repeat(512), "x"))), Limits.DEFAULT);
  }

  @Test
  void unsafeDirectoryEntryIsRejected() throws Exception {
    ZipEntry d = new ZipEntry("../up/", "");
    d.unixMode = 040700;
    assertEquals(Outcome.UNSAFE_PATH, outcome(RawArchives.zip(list(d))));
  }

  @Test
  void duplicateEntryIsMalformed() throws Exception {
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(RawArchives.zip(list(new ZipEntry("key", "a"), new ZipEntry("key", "b")))));
  }

  @Test
  void linksAndSpecialFilesAreUnsupported() throws Exception {
    for (long mode : new long[] {0120777, 020600, 060600, 010600, 0140600}) {
      ZipEntry e = new ZipEntry("key", "/etc/passwd");
      e.unixMode = mode;
      assertEquals(Outcome.UNSUPPORTED_ENTRY, outcome(RawArchives.zip(list(e))), Long.toOctalString(mode));
    }
    // A directory mode on a name without a trailing slash is not a regular file either.
    ZipEntry d = new ZipEntry("key", "");
    d.unixMode = 040700;
    assertEquals(Outcome.UNSUPPORTED_ENTRY, outcome(RawArchives.zip(list(d))));
  }

  @Test
  void declaredSizeOverTheLimitIsRejectedBeforeInflating() throws Exception {
    ZipEntry e = new ZipEntry("big", "small");
    e.declaredSize = 9L << 20;
    assertEquals(Outcome.TOO_LARGE, outcome(RawArchives.zip(list(e))));
  }

  @Test
  void inflatedBytesBeyondTheDeclaredSizeAreRejected() throws Exception {
    // A deflate bomb: 20 MiB of zeros that claims to be 10 bytes.
    ZipEntry e = new ZipEntry("bomb", new byte[20 << 20]);
    e.declaredSize = 10L;
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(RawArchives.zip(list(e))));
  }

  @Test
  void countAndTotalLimits() throws Exception {
    List<ZipEntry> many = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      many.add(new ZipEntry("f" + i, "x"));
    }
    assertEquals(Outcome.TOO_LARGE, outcome(RawArchives.zip(many), new Limits(10, 0, 0)));
    assertEquals(Outcome.TOO_LARGE, outcome(RawArchives.zip(list(new ZipEntry("a", new byte[600]), new ZipEntry("b", new byte[600]))), new Limits(0, 1000, 1000)));
    assertEquals(Outcome.TOO_LARGE, outcome(RawArchives.zip(list(new ZipEntry("a", new byte[1001]))), new Limits(0, 1000, 0)));
  }

  @Test
  void corruptionIsMalformed() throws Exception {
    ZipEntry e = new ZipEntry("key", "SECRET data");
    e.crc = 1L;
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(RawArchives.zip(list(e))));
    byte[] good = RawArchives.zip(list(new ZipEntry("key", "SECRET data")));
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(Arrays.copyOf(good, good.length - 10)));
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome("not an archive at all".getBytes(StandardCharsets.UTF_8)));
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(new byte[0]));
  }

  @Test
  void randomCorruptionNeverEscapesTheDocumentedErrors() throws Exception {
    byte[] good = RawArchives.zip(list(new ZipEntry("metadata.json", "{}"), new ZipEntry("certificates/ca-cert.pem", "x".repeat(300))));
    Random r = new Random(42);
    for (int i = 0; i < 2000; i++) {
      byte[] z = good.clone();
      int flips = 1 + r.nextInt(4);
      for (int j = 0; j < flips; j++) {
        z[r.nextInt(z.length)] = (byte) r.nextInt(256);
      }
      try {
        BundleFiles.decode(z, new Limits(0, 1 << 16, 1 << 20));
      } catch (BundleException e) {
        assertTrue(e.getOutcome() != Outcome.VALID && e.getOutcome() != Outcome.ERROR, e.getMessage());
      }
    }
  }

  @Test
  void tarGzEntries() throws Exception {
    TarEntry dir = new TarEntry("certificates/", "");
    dir.type = '5';
    BundleFiles b = BundleFiles.decode(RawArchives.tarGz(List.of(dir, new TarEntry("certificates/ca-cert.pem", "pem"), new TarEntry("README.md", "hi"))), Limits.DEFAULT);
    assertEquals(List.of("README.md", "certificates/ca-cert.pem"), b.paths());
  }

  @Test
  void tarGzHostileEntries() throws Exception {
    assertEquals(Outcome.UNSAFE_PATH, outcome(RawArchives.tarGz(List.of(new TarEntry("../../etc/cron.d/x", "SECRET")))));
    TarEntry link = new TarEntry("key", "");
    link.type = '2';
    link.link = "/etc/passwd";
    assertEquals(Outcome.UNSUPPORTED_ENTRY, outcome(RawArchives.tarGz(List.of(link))));
    TarEntry hard = new TarEntry("key", "");
    hard.type = '1';
    hard.link = "README.md";
    assertEquals(Outcome.UNSUPPORTED_ENTRY, outcome(RawArchives.tarGz(List.of(hard))));
    TarEntry fifo = new TarEntry("key", "");
    fifo.type = '6';
    assertEquals(Outcome.UNSUPPORTED_ENTRY, outcome(RawArchives.tarGz(List.of(fifo))));
    TarEntry pax = new TarEntry("innocent", "SECRET");
    pax.paxPath = "../escape";
    assertEquals(Outcome.UNSAFE_PATH, outcome(RawArchives.tarGz(List.of(pax))));
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(RawArchives.tarGz(List.of(new TarEntry("a", "1"), new TarEntry("a", "2")))));
  }

  @Test
  void tarGzPaxPathIsHonoured() throws Exception {
    TarEntry pax = new TarEntry("short", "data");
    pax.paxPath = "config/" + "d".repeat(120) + "/file";
    BundleFiles b = BundleFiles.decode(RawArchives.tarGz(List.of(pax)), Limits.DEFAULT);
    assertEquals(List.of(pax.paxPath), b.paths());
  }

  @Test
  void gzipCorruptionAndTrailingDataAreMalformed() throws Exception {
    byte[] good = RawArchives.tarGz(List.of(new TarEntry("a", "SECRET")));
    byte[] badCrc = good.clone();
    badCrc[badCrc.length - 6] ^= 1;
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(badCrc));
    byte[] trailing = Arrays.copyOf(good, good.length + 5);
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(trailing));
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(Arrays.copyOf(good, good.length - 12)));
    // Non-zero data after the tar end marker.
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    tar.write(new byte[1024]);
    tar.write("junk".getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
      g.write(tar.toByteArray());
    }
    assertEquals(Outcome.MALFORMED_ARCHIVE, outcome(gz.toByteArray()));
  }

  @Test
  void tarGzBombIsBounded() throws Exception {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 80; i++) {
        g.write(zeros);
      }
    }
    // 80 MiB of zeros is a valid-looking tar end marker plus padding: refused by the bounds.
    Outcome o = outcome(gz.toByteArray(), new Limits(0, 0, 1 << 20));
    assertTrue(o == Outcome.TOO_LARGE || o == Outcome.MALFORMED_ARCHIVE, o.toString());
  }

  @Test
  void directoryFollowsOnlyInsideLinks(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("bundle");
    Files.createDirectories(dir.resolve("certificates"));
    Files.writeString(dir.resolve("certificates/ca-cert.pem"), "pem");
    Files.createSymbolicLink(dir.resolve("ca.crt"), dir.resolve("certificates/ca-cert.pem"));
    BundleFiles b = BundleFiles.read(dir, Limits.DEFAULT);
    assertEquals(List.of("ca.crt", "certificates/ca-cert.pem"), b.paths());

    Files.writeString(tmp.resolve("outside"), "SECRET");
    Files.createSymbolicLink(dir.resolve("key"), tmp.resolve("outside"));
    BundleException e = assertThrows(BundleException.class, () -> BundleFiles.read(dir, Limits.DEFAULT));
    assertEquals(Outcome.UNSUPPORTED_ENTRY, e.getOutcome());
    Files.delete(dir.resolve("key"));
    Files.createSymbolicLink(dir.resolve("key"), dir.resolve("certificates"));
    e = assertThrows(BundleException.class, () -> BundleFiles.read(dir, Limits.DEFAULT));
    assertEquals(Outcome.UNSUPPORTED_ENTRY, e.getOutcome());
  }

  @Test
  void missingFileIsAnError(@TempDir Path tmp) {
    BundleException e = assertThrows(BundleException.class, () -> BundleFiles.read(tmp.resolve("nope.zip"), Limits.DEFAULT));
    assertEquals(Outcome.ERROR, e.getOutcome());
  }

  @Test
  void oversizedArchiveFileIsRefusedUnread(@TempDir Path tmp) throws IOException {
    Path p = tmp.resolve("big.zip");
    Files.write(p, new byte[(1 << 20) + 10]);
    BundleException e = assertThrows(BundleException.class, () -> BundleFiles.read(p, new Limits(0, 0, 1)));
    assertEquals(Outcome.TOO_LARGE, e.getOutcome());
  }
}
