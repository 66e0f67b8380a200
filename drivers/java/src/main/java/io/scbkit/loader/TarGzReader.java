package io.scbkit.loader;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads a gzip-compressed tar archive held in memory, like Go's compress/gzip (every member's
 * CRC-32 and length checked, nothing but further gzip members after the first) and archive/tar
 * (USTAR, PAX and GNU headers; PAX path and size records; GNU long names). Regular files are
 * bundle entries; directories are checked for safe names and skipped; everything else is
 * rejected. Decompression is bounded by the limits.
 */
final class TarGzReader {
  private TarGzReader() {}

  private static BundleException malformed(String why) {
    return new BundleException(Outcome.MALFORMED_ARCHIVE, null, "malformed archive: " + why);
  }

  static BundleFiles read(byte[] gz, Limits lim) throws BundleException {
    // Tar headers, padding and end blocks come on top of the file data.
    long budget = lim.maxTotalSize() + (long) lim.maxFiles() * 3 * 512 + (2L << 20);
    byte[] tar = gunzip(gz, budget);
    return readTar(tar, lim);
  }

  /** Decompresses every gzip member of gz; more than {@code max} bytes is an error. */
  static byte[] gunzip(byte[] gz, long max) throws BundleException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int p = 0;
    boolean first = true;
    while (first || p < gz.length) {
      first = false;
      if (gz.length - p < 10) {
        throw malformed("unexpected EOF in gzip header");
      }
      if ((gz[p] & 0xff) != 0x1f || (gz[p + 1] & 0xff) != 0x8b || gz[p + 2] != 8) {
        throw malformed("gzip: invalid header");
      }
      int flg = gz[p + 3] & 0xff;
      int h = p + 10;
      try {
        if ((flg & 4) != 0) {
          int xlen = (gz[h] & 0xff) | (gz[h + 1] & 0xff) << 8;
          h += 2 + xlen;
        }
        if ((flg & 8) != 0) {
          while (gz[h] != 0) {
            h++;
          }
          h++;
        }
        if ((flg & 16) != 0) {
          while (gz[h] != 0) {
            h++;
          }
          h++;
        }
        if ((flg & 2) != 0) {
          h += 2;
        }
      } catch (ArrayIndexOutOfBoundsException e) {
        throw malformed("unexpected EOF in gzip header");
      }
      if ((flg & 0xe0) != 0) {
        throw malformed("gzip: invalid header");
      }
      if (h > gz.length) {
        throw malformed("unexpected EOF in gzip header");
      }
      Inflater inf = new Inflater(true);
      CRC32 crc = new CRC32();
      long memberLen = 0;
      try {
        inf.setInput(gz, h, gz.length - h);
        byte[] buf = new byte[32 << 10];
        while (!inf.finished()) {
          int n;
          try {
            n = inf.inflate(buf);
          } catch (DataFormatException e) {
            throw malformed("flate: corrupt input");
          }
          if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
            throw malformed("unexpected EOF");
          }
          crc.update(buf, 0, n);
          out.write(buf, 0, n);
          memberLen += n;
          if (out.size() > max) {
            throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: more than " + max + " bytes of tar data");
          }
        }
        p = h + (int) inf.getBytesRead();
      } finally {
        inf.end();
      }
      if (gz.length - p < 8) {
        throw malformed("unexpected EOF in gzip trailer");
      }
      long wantCrc = (gz[p] & 0xffL) | (gz[p + 1] & 0xffL) << 8 | (gz[p + 2] & 0xffL) << 16 | (gz[p + 3] & 0xffL) << 24;
      long wantLen = (gz[p + 4] & 0xffL) | (gz[p + 5] & 0xffL) << 8 | (gz[p + 6] & 0xffL) << 16 | (gz[p + 7] & 0xffL) << 24;
      if (wantCrc != crc.getValue() || wantLen != (memberLen & 0xffffffffL)) {
        throw malformed("gzip: invalid checksum");
      }
      p += 8;
    }
    return out.toByteArray();
  }

  private static boolean zero(byte[] t, int off) {
    for (int i = off; i < off + 512; i++) {
      if (t[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static String cstr(byte[] t, int off, int len) {
    int n = 0;
    while (n < len && t[off + n] != 0) {
      n++;
    }
    return new String(t, off, n, StandardCharsets.UTF_8);
  }

  /** Parses a numeric header field: octal text, or base-256 when the high bit is set. */
  private static long num(byte[] t, int off, int len) throws BundleException {
    if ((t[off] & 0x80) != 0) {
      long v = t[off] & 0x3f;
      if ((t[off] & 0x40) != 0) {
        throw malformed("tar: negative number");
      }
      for (int i = 1; i < len; i++) {
        if (v > (Long.MAX_VALUE >> 8)) {
          throw malformed("tar: number overflows");
        }
        v = (v << 8) | (t[off + i] & 0xff);
      }
      return v;
    }
    String s = new String(t, off, len, StandardCharsets.ISO_8859_1);
    s = s.replace('\0', ' ').trim();
    if (s.isEmpty()) {
      return 0;
    }
    try {
      long v = Long.parseLong(s, 8);
      if (v < 0) {
        throw malformed("tar: invalid number");
      }
      return v;
    } catch (NumberFormatException e) {
      throw malformed("tar: invalid number");
    }
  }

  private static boolean checksumOK(byte[] t, int off) throws BundleException {
    long want = num(t, off + 148, 8);
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < 512; i++) {
      byte c = (i >= 148 && i < 156) ? (byte) ' ' : t[off + i];
      unsigned += c & 0xff;
      signed += c;
    }
    return want == unsigned || want == signed;
  }

  static BundleFiles readTar(byte[] t, Limits lim) throws BundleException {
    BundleFiles b = new BundleFiles();
    int p = 0;
    String paxPath = null;
    Long paxSize = null;
    String longName = null;
    while (true) {
      if (p == t.length) {
        return b; // end of data at a header boundary
      }
      if (t.length - p < 512) {
        throw malformed("unexpected EOF");
      }
      if (zero(t, p)) {
        if (t.length - p < 1024) {
          throw malformed("unexpected EOF");
        }
        if (!zero(t, p + 512)) {
          throw malformed("archive/tar: invalid tar header");
        }
        // End of archive: only a bounded amount of zero padding may follow.
        p += 1024;
        int rest = t.length - p;
        if (rest > (1 << 20)) {
          throw malformed("too much padding after the end of the tar archive");
        }
        for (int i = p; i < t.length; i++) {
          if (t[i] != 0) {
            throw malformed("data after the end of the tar archive");
          }
        }
        return b;
      }
      if (!checksumOK(t, p)) {
        throw malformed("archive/tar: invalid tar header");
      }
      char type = (char) (t[p + 156] & 0xff);
      String magic = new String(t, p + 257, 6, StandardCharsets.ISO_8859_1);
      String name = cstr(t, p, 100);
      if (magic.equals("ustar\0")) {
        String prefix = cstr(t, p + 345, 155);
        if (!prefix.isEmpty()) {
          name = prefix + "/" + name;
        }
      }
      long size = num(t, p + 124, 12);
      int dataOff = p + 512;
      if (size < 0 || size > t.length - (long) dataOff) {
        throw malformed("unexpected EOF");
      }
      int next = dataOff + (int) (((size + 511) / 512) * 512);
      if (next > t.length) {
        next = t.length;
      }
      switch (type) {
        case 'x': {
          String[] rec = pax(t, dataOff, (int) size);
          if (rec[0] != null) {
            paxPath = rec[0];
          }
          if (rec[1] != null) {
            try {
              paxSize = Long.parseLong(rec[1]);
            } catch (NumberFormatException e) {
              throw malformed("archive/tar: invalid tar header");
            }
            if (paxSize < 0) {
              throw malformed("archive/tar: invalid tar header");
            }
          }
          p = next;
          continue;
        }
        case 'g':
          pax(t, dataOff, (int) size);
          p = next;
          continue;
        case 'L':
          longName = cstr(t, dataOff, (int) size);
          p = next;
          continue;
        case 'K':
          p = next;
          continue;
        default:
          break;
      }
      if (longName != null) {
        name = longName;
      }
      if (paxPath != null) {
        name = paxPath;
      }
      if (paxSize != null) {
        size = paxSize;
        if (size > t.length - (long) dataOff) {
          throw malformed("unexpected EOF");
        }
        next = dataOff + (int) (((size + 511) / 512) * 512);
        if (next > t.length) {
          next = t.length;
        }
      }
      longName = null;
      paxPath = null;
      paxSize = null;
      if (type == '\0') {
        type = name.endsWith("/") ? '5' : '0';
      }
      switch (type) {
        case '5':
          BundleFiles.checkPath(name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
          p = dataOff; // directories carry no data
          if (size > 0) {
            p = next;
          }
          continue;
        case '0':
          final int off = dataOff;
          final int len = (int) size;
          b.add(name, size, () -> new ByteArrayInputStream(t, off, len), lim);
          p = next;
          continue;
        default:
          throw new BundleException(Outcome.UNSUPPORTED_ENTRY, Json.quote(name), "unsupported archive entry: tar type " + Json.quote(String.valueOf(type)));
      }
    }
  }

  /** Parses PAX records; returns {path, size} (either may be null). */
  private static String[] pax(byte[] t, int off, int len) throws BundleException {
    String[] out = new String[2];
    int p = off;
    int end = off + len;
    while (p < end) {
      int sp = p;
      while (sp < end && t[sp] != ' ') {
        sp++;
      }
      if (sp >= end) {
        throw malformed("archive/tar: invalid tar header");
      }
      int n;
      try {
        n = Integer.parseInt(new String(t, p, sp - p, StandardCharsets.ISO_8859_1));
      } catch (NumberFormatException e) {
        throw malformed("archive/tar: invalid tar header");
      }
      if (n <= sp - p + 1 || p + n > end || t[p + n - 1] != '\n') {
        throw malformed("archive/tar: invalid tar header");
      }
      String rec = new String(t, sp + 1, p + n - 1 - (sp + 1), StandardCharsets.UTF_8);
      int eq = rec.indexOf('=');
      if (eq <= 0) {
        throw malformed("archive/tar: invalid tar header");
      }
      String k = rec.substring(0, eq);
      String v = rec.substring(eq + 1);
      if (k.equals("path")) {
        out[0] = v;
      } else if (k.equals("size")) {
        out[1] = v;
      }
      p += n;
    }
    return out;
  }
}
