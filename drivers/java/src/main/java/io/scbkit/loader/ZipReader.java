package io.scbkit.loader;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads a zip archive held in memory from its central directory, like Go's archive/zip: entry
 * types come from the external attributes, sizes from the central directory, and every entry's
 * size and CRC-32 are checked after decompression. Only stored and deflated entries are read.
 */
final class ZipReader {
  private static final int EOCD_SIG = 0x06054b50;
  private static final int EOCD64_LOCATOR_SIG = 0x07064b50;
  private static final int EOCD64_SIG = 0x06064b50;
  private static final int CDH_SIG = 0x02014b50;
  private static final int LFH_SIG = 0x04034b50;
  private static final int DD_SIG = 0x08074b50;
  private static final int CDH_LEN = 46;
  private static final int EOCD_LEN = 22;

  private ZipReader() {}

  /** One central-directory entry. */
  static final class Entry {
    String name;
    int creator;
    int flags;
    int method;
    long crc;
    long compressedSize;
    long size;
    long externalAttrs;
    long headerOffset;

    /** The Unix-style type bits Go derives from the creator and external attributes. */
    String type() {
      int os = creator >>> 8;
      String t = "regular";
      if (os == 3 || os == 19) { // Unix, macOS
        int mode = (int) (externalAttrs >>> 16);
        switch (mode & 0xf000) {
          case 0x6000:
            t = "device";
            break;
          case 0x2000:
            t = "character device";
            break;
          case 0x4000:
            t = "directory";
            break;
          case 0x1000:
            t = "named pipe";
            break;
          case 0xa000:
            t = "symbolic link";
            break;
          case 0xc000:
            t = "socket";
            break;
          default:
            break;
        }
      } else if (os == 0 || os == 11 || os == 14) { // MS-DOS, NTFS, VFAT
        if ((externalAttrs & 0x10) != 0) {
          t = "directory";
        }
      }
      if (name.endsWith("/")) {
        if (t.equals("regular")) {
          t = "directory";
        }
      }
      return t;
    }
  }

  private static BundleException malformed(String why) {
    return new BundleException(Outcome.MALFORMED_ARCHIVE, null, "malformed archive: " + why);
  }

  private static int u16(byte[] b, long off) {
    int o = (int) off;
    return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8;
  }

  private static long u32(byte[] b, long off) {
    int o = (int) off;
    return (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
  }

  private static long u64(byte[] b, long off) {
    return u32(b, off) | u32(b, off + 4) << 32;
  }

  static BundleFiles read(byte[] z, Limits lim) throws BundleException {
    List<Entry> entries = centralDirectory(z);
    if (entries.size() > lim.maxFiles()) {
      throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: more than " + lim.maxFiles() + " files");
    }
    BundleFiles b = new BundleFiles();
    for (Entry e : entries) {
      String type = e.type();
      if (e.name.endsWith("/") && (type.equals("directory") || e.size == 0)) {
        BundleFiles.checkPath(e.name.substring(0, e.name.length() - 1));
        continue;
      }
      if (!type.equals("regular")) {
        throw new BundleException(Outcome.UNSUPPORTED_ENTRY, Json.quote(e.name), "unsupported archive entry: " + type);
      }
      if (e.size > lim.maxFileSize() || e.size < 0) {
        throw BundleFiles.tooLargeFile(Json.quote(e.name), lim);
      }
      b.add(e.name, e.size, () -> open(z, e, lim), lim);
    }
    return b;
  }

  private static List<Entry> centralDirectory(byte[] z) throws BundleException {
    // The end-of-central-directory record: the last signature whose comment fits the file.
    long end = -1;
    int lowest = Math.max(0, z.length - (EOCD_LEN + 65535));
    for (int i = z.length - EOCD_LEN; i >= lowest; i--) {
      if (u32(z, i) == EOCD_SIG) {
        int commentLen = u16(z, i + 20);
        if (i + EOCD_LEN + commentLen <= z.length) {
          end = i;
          break;
        }
      }
    }
    if (end < 0) {
      throw malformed("not a valid zip file");
    }
    long records = u16(z, end + 10);
    long dirSize = u32(z, end + 12);
    long dirOffset = u32(z, end + 16);
    if (records == 0xffff || dirSize == 0xffffffffL || dirOffset == 0xffffffffL) {
      long loc = end - 20;
      if (loc >= 0 && u32(z, loc) == EOCD64_LOCATOR_SIG) {
        long off = u64(z, loc + 8);
        if (off < 0 || off + 56 > z.length || u32(z, off) != EOCD64_SIG) {
          throw malformed("not a valid zip file");
        }
        records = u64(z, off + 32);
        dirSize = u64(z, off + 40);
        dirOffset = u64(z, off + 48);
      }
    }
    if (dirOffset < 0 || dirOffset >= z.length || dirSize < 0 || dirSize > z.length) {
      throw malformed("not a valid zip file");
    }
    if (records < 0 || records > (long) z.length / CDH_LEN) {
      throw malformed("not a valid zip file");
    }
    List<Entry> out = new ArrayList<>();
    long p = dirOffset;
    while (p + CDH_LEN <= z.length && u32(z, p) == CDH_SIG) {
      Entry e = new Entry();
      e.creator = u16(z, p + 4);
      e.flags = u16(z, p + 8);
      e.method = u16(z, p + 10);
      e.crc = u32(z, p + 16);
      e.compressedSize = u32(z, p + 20);
      e.size = u32(z, p + 24);
      int nameLen = u16(z, p + 28);
      int extraLen = u16(z, p + 30);
      int commentLen = u16(z, p + 32);
      e.externalAttrs = u32(z, p + 38);
      e.headerOffset = u32(z, p + 42);
      long nameOff = p + CDH_LEN;
      if (nameOff + nameLen + extraLen + commentLen > z.length) {
        throw malformed("truncated central directory");
      }
      e.name = new String(z, (int) nameOff, nameLen, StandardCharsets.UTF_8);
      zip64Extra(z, nameOff + nameLen, extraLen, e);
      out.add(e);
      p = nameOff + nameLen + extraLen + commentLen;
    }
    if ((out.size() & 0xffff) != (records & 0xffff)) {
      throw malformed("central directory holds " + out.size() + " entries, the end record says " + records);
    }
    return out;
  }

  private static void zip64Extra(byte[] z, long off, int len, Entry e) throws BundleException {
    boolean needSize = e.size == 0xffffffffL;
    boolean needCSize = e.compressedSize == 0xffffffffL;
    boolean needOffset = e.headerOffset == 0xffffffffL;
    long p = off;
    long end = off + len;
    while (p + 4 <= end) {
      int tag = u16(z, p);
      int size = u16(z, p + 2);
      long data = p + 4;
      if (data + size > end) {
        throw malformed("malformed extra field");
      }
      if (tag == 1) {
        long q = data;
        long qe = data + size;
        if (needSize) {
          if (q + 8 > qe) {
            throw malformed("malformed zip64 extra field");
          }
          e.size = u64(z, q);
          q += 8;
        }
        if (needCSize) {
          if (q + 8 > qe) {
            throw malformed("malformed zip64 extra field");
          }
          e.compressedSize = u64(z, q);
          q += 8;
        }
        if (needOffset) {
          if (q + 8 > qe) {
            throw malformed("malformed zip64 extra field");
          }
          e.headerOffset = u64(z, q);
        }
        needSize = needCSize = needOffset = false;
      }
      p = data + size;
    }
  }

  /** Opens an entry: checks its local header and returns its checked, decompressed content. */
  private static InputStream open(byte[] z, Entry e, Limits lim) throws IOException {
    if (e.headerOffset < 0 || e.headerOffset + 30 > z.length || u32(z, e.headerOffset) != LFH_SIG) {
      throw new IOException("zip: not a valid zip file");
    }
    if (e.method != 0 && e.method != 8) {
      throw new IOException("zip: unsupported compression algorithm");
    }
    long dataOff = e.headerOffset + 30 + u16(z, e.headerOffset + 26) + u16(z, e.headerOffset + 28);
    if (e.compressedSize < 0 || dataOff + e.compressedSize > z.length) {
      throw new IOException("unexpected EOF");
    }
    byte[] out;
    if (e.method == 0) {
      if (e.compressedSize != e.size) {
        throw new IOException("zip: not a valid zip file");
      }
      out = new byte[(int) e.size];
      System.arraycopy(z, (int) dataOff, out, 0, out.length);
    } else {
      out = inflate(z, (int) dataOff, (int) e.compressedSize, e.size);
    }
    if (out.length != e.size) {
      throw new IOException("unexpected EOF");
    }
    CRC32 crc = new CRC32();
    crc.update(out);
    if ((e.flags & 0x8) != 0) {
      // A data descriptor follows the data: its CRC must agree with the central directory's.
      long d = dataOff + e.compressedSize;
      if (d + 4 <= z.length && u32(z, d) == DD_SIG) {
        d += 4;
      }
      if (d + 4 > z.length) {
        throw new IOException("unexpected EOF");
      }
      if (u32(z, d) != e.crc) {
        throw new IOException("zip: checksum error");
      }
    }
    if (e.crc != 0 && crc.getValue() != e.crc) {
      throw new IOException("zip: checksum error");
    }
    return new ByteArrayInputStream(out);
  }

  private static byte[] inflate(byte[] z, int off, int len, long expected) throws IOException {
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(z, off, len);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) Math.min(expected, 1 << 20));
      byte[] buf = new byte[16 << 10];
      while (!inf.finished()) {
        int n;
        try {
          n = inf.inflate(buf);
        } catch (DataFormatException ex) {
          throw new IOException("flate: corrupt input");
        }
        if (n == 0) {
          if (inf.needsInput() || inf.needsDictionary()) {
            throw new IOException("unexpected EOF");
          }
        }
        out.write(buf, 0, n);
        if (out.size() > expected) {
          throw new IOException("zip: not a valid zip file");
        }
      }
      return out.toByteArray();
    } finally {
      inf.end();
    }
  }
}
