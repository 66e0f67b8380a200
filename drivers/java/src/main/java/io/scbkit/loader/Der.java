package io.scbkit.loader;

import java.math.BigInteger;

/** A minimal, strict DER reader: definite, minimal lengths only. */
final class Der {
  static final int SEQUENCE = 0x30;
  static final int INTEGER = 0x02;
  static final int BIT_STRING = 0x03;
  static final int OCTET_STRING = 0x04;
  static final int NULL = 0x05;
  static final int OID = 0x06;

  /** Thrown for malformed DER. */
  static final class DerException extends Exception {
    private static final long serialVersionUID = 1L;

    DerException(String m) {
      super(m);
    }
  }

  /** One element: its tag, the whole encoding and the content. */
  static final class Element {
    final int tag;
    final byte[] buf;
    final int start;
    final int contentStart;
    final int end;

    Element(int tag, byte[] buf, int start, int contentStart, int end) {
      this.tag = tag;
      this.buf = buf;
      this.start = start;
      this.contentStart = contentStart;
      this.end = end;
    }

    byte[] content() {
      byte[] c = new byte[end - contentStart];
      System.arraycopy(buf, contentStart, c, 0, c.length);
      return c;
    }

    byte[] encoded() {
      byte[] c = new byte[end - start];
      System.arraycopy(buf, start, c, 0, c.length);
      return c;
    }

    /** A reader over the content of this (constructed) element. */
    Der children() {
      return new Der(buf, contentStart, end);
    }

    BigInteger integer() throws DerException {
      if (tag != INTEGER) {
        throw new DerException("expected INTEGER");
      }
      byte[] c = content();
      if (c.length == 0) {
        throw new DerException("empty INTEGER");
      }
      if (c.length > 1 && ((c[0] == 0 && (c[1] & 0x80) == 0) || (c[0] == (byte) 0xff && (c[1] & 0x80) != 0))) {
        throw new DerException("INTEGER not minimally encoded");
      }
      return new BigInteger(c);
    }

    String oid() throws DerException {
      if (tag != OID) {
        throw new DerException("expected OBJECT IDENTIFIER");
      }
      byte[] c = content();
      if (c.length == 0) {
        throw new DerException("empty OBJECT IDENTIFIER");
      }
      StringBuilder b = new StringBuilder();
      long v = 0;
      boolean first = true;
      for (int i = 0; i < c.length; i++) {
        if (v > (Long.MAX_VALUE >> 7)) {
          throw new DerException("OBJECT IDENTIFIER too long");
        }
        v = (v << 7) | (c[i] & 0x7f);
        if ((c[i] & 0x80) == 0) {
          if (first) {
            long a = v < 80 ? v / 40 : 2;
            b.append(a).append('.').append(v - a * 40);
            first = false;
          } else {
            b.append('.').append(v);
          }
          v = 0;
        } else if (i == c.length - 1) {
          throw new DerException("truncated OBJECT IDENTIFIER");
        }
      }
      return b.toString();
    }
  }

  private final byte[] buf;
  private int pos;
  private final int end;

  Der(byte[] buf) {
    this(buf, 0, buf.length);
  }

  Der(byte[] buf, int pos, int end) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  boolean more() {
    return pos < end;
  }

  int peekTag() {
    return pos < end ? buf[pos] & 0xff : -1;
  }

  Element next() throws DerException {
    if (pos + 2 > end) {
      throw new DerException("truncated DER");
    }
    int start = pos;
    int tag = buf[pos++] & 0xff;
    if ((tag & 0x1f) == 0x1f) {
      throw new DerException("high tag numbers not supported");
    }
    int len = buf[pos++] & 0xff;
    if (len >= 0x80) {
      int n = len & 0x7f;
      if (n == 0 || n > 4) {
        throw new DerException("unsupported DER length");
      }
      if (pos + n > end) {
        throw new DerException("truncated DER");
      }
      if (buf[pos] == 0) {
        throw new DerException("DER length not minimal");
      }
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (buf[pos++] & 0xff);
      }
      if (len < 0x80 || len < 0) {
        throw new DerException("DER length not minimal");
      }
    }
    if (len > end - pos) {
      throw new DerException("truncated DER");
    }
    int cs = pos;
    pos += len;
    return new Element(tag, buf, start, cs, pos);
  }

  Element next(int tag) throws DerException {
    Element e = next();
    if (e.tag != tag) {
      throw new DerException("unexpected DER tag");
    }
    return e;
  }

  /** Parses exactly one element filling the whole input. */
  static Element parseOne(byte[] data) throws DerException {
    Der d = new Der(data);
    Element e = d.next();
    if (d.more()) {
      throw new DerException("data after DER element");
    }
    return e;
  }

  // ---- encoding (small helpers) ----------------------------------------------------------

  static byte[] encode(int tag, byte[]... parts) {
    int len = 0;
    for (byte[] p : parts) {
      len += p.length;
    }
    byte[] hdr;
    if (len < 0x80) {
      hdr = new byte[] {(byte) tag, (byte) len};
    } else if (len < 0x100) {
      hdr = new byte[] {(byte) tag, (byte) 0x81, (byte) len};
    } else if (len < 0x10000) {
      hdr = new byte[] {(byte) tag, (byte) 0x82, (byte) (len >> 8), (byte) len};
    } else {
      hdr = new byte[] {(byte) tag, (byte) 0x83, (byte) (len >> 16), (byte) (len >> 8), (byte) len};
    }
    byte[] out = new byte[hdr.length + len];
    System.arraycopy(hdr, 0, out, 0, hdr.length);
    int o = hdr.length;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
