package io.scbkit.loader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/** Builds zip and tar.gz archives byte by byte, including ones no well-behaved writer makes. */
final class RawArchives {
  private RawArchives() {}

  /** One zip entry; fields may be set to lie. */
  static final class ZipEntry {
    String name;
    byte[] data;
    boolean deflate = true;
    int creator = 3 << 8 | 20; // Unix
    long unixMode = 0100600;
    Long declaredSize;
    Long crc;

    ZipEntry(String name, byte[] data) {
      this.name = name;
      this.data = data;
    }

    ZipEntry(String name, String data) {
      this(name, data.getBytes(StandardCharsets.UTF_8));
    }
  }

  static byte[] zip(List<ZipEntry> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream cd = new ByteArrayOutputStream();
    for (ZipEntry e : entries) {
      byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
      byte[] comp = e.data;
      if (e.deflate) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(e.data);
        d.finish();
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (!d.finished()) {
          c.write(buf, 0, d.deflate(buf));
        }
        d.end();
        comp = c.toByteArray();
      }
      CRC32 crc = new CRC32();
      crc.update(e.data);
      long crcv = e.crc != null ? e.crc : crc.getValue();
      long size = e.declaredSize != null ? e.declaredSize : e.data.length;
      int off = out.size();
      le32(out, 0x04034b50);
      le16(out, 20);
      le16(out, 0);
      le16(out, e.deflate ? 8 : 0);
      le16(out, 0);
      le16(out, 0);
      le32(out, crcv);
      le32(out, comp.length);
      le32(out, size);
      le16(out, name.length);
      le16(out, 0);
      out.write(name);
      out.write(comp);
      le32(cd, 0x02014b50);
      le16(cd, e.creator);
      le16(cd, 20);
      le16(cd, 0);
      le16(cd, e.deflate ? 8 : 0);
      le16(cd, 0);
      le16(cd, 0);
      le32(cd, crcv);
      le32(cd, comp.length);
      le32(cd, size);
      le16(cd, name.length);
      le16(cd, 0);
      le16(cd, 0);
      le16(cd, 0);
      le16(cd, 0);
      le32(cd, e.unixMode << 16);
      le32(cd, off);
      cd.write(name);
    }
    int cdOff = out.size();
    out.write(cd.toByteArray());
    le32(out, 0x06054b50);
    le16(out, 0);
    le16(out, 0);
    le16(out, entries.size());
    le16(out, entries.size());
    le32(out, cd.size());
    le32(out, cdOff);
    le16(out, 0);
    return out.toByteArray();
  }

  /** One tar entry. */
  static final class TarEntry {
    String name;
    byte[] data;
    char type = '0';
    String link = "";
    String paxPath;

    TarEntry(String name, String data) {
      this.name = name;
      this.data = data.getBytes(StandardCharsets.UTF_8);
    }
  }

  static byte[] tarGz(List<TarEntry> entries) throws IOException {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    for (TarEntry e : entries) {
      if (e.paxPath != null) {
        String rec = " path=" + e.paxPath + "\n";
        int n = rec.length() + 1;
        while (Integer.toString(n).length() + rec.length() != n) {
          n++;
        }
        byte[] pax = (n + rec).getBytes(StandardCharsets.UTF_8);
        tar.write(header("PaxHeaders/x", pax.length, 'x', ""));
        tar.write(pad(pax));
      }
      tar.write(header(e.name, e.data.length, e.type, e.link));
      tar.write(pad(e.data));
    }
    tar.write(new byte[1024]);
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
      g.write(tar.toByteArray());
    }
    return gz.toByteArray();
  }

  private static byte[] pad(byte[] d) {
    byte[] out = new byte[(d.length + 511) / 512 * 512];
    System.arraycopy(d, 0, out, 0, d.length);
    return out;
  }

  static byte[] header(String name, long size, char type, String link) {
    byte[] h = new byte[512];
    put(h, 0, name, 100);
    put(h, 100, "0000600", 8);
    put(h, 108, "0000000", 8);
    put(h, 116, "0000000", 8);
    put(h, 124, String.format("%011o", size), 12);
    put(h, 136, "00000000000", 12);
    h[156] = (byte) type;
    put(h, 157, link, 100);
    put(h, 257, "ustar\0", 6);
    put(h, 263, "00", 2);
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, String.format("%06o\0 ", sum), 8);
    return h;
  }

  private static void put(byte[] h, int off, String s, int len) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(b, 0, h, off, Math.min(b.length, len));
  }

  private static void le16(ByteArrayOutputStream o, int v) {
    o.write(v & 0xff);
    o.write((v >> 8) & 0xff);
  }

  private static void le32(ByteArrayOutputStream o, long v) {
    le16(o, (int) (v & 0xffff));
    le16(o, (int) ((v >> 16) & 0xffff));
  }

  static List<ZipEntry> list(ZipEntry... e) {
    return new ArrayList<>(List.of(e));
  }
}
