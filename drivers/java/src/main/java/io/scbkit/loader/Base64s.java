package io.scbkit.loader;

import java.io.ByteArrayOutputStream;

/**
 * Strict base64 decoding with the rules of Go's {@code encoding/base64} in strict mode: the
 * standard alphabet with padding ({@link #decodeStdStrict}) or the URL alphabet without padding
 * ({@link #decodeRawUrlStrict}); unused trailing bits must be zero; carriage returns and line
 * feeds are ignored, as Go ignores them.
 */
final class Base64s {
  private Base64s() {}

  private static final String STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  private static final String URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  /** Standard alphabet, padding required; null if s is not strictly valid. */
  static byte[] decodeStdStrict(String s) {
    return decode(s, STD, true);
  }

  /** URL alphabet, no padding; null if s is not strictly valid. */
  static byte[] decodeRawUrlStrict(String s) {
    return decode(s, URL, false);
  }

  private static byte[] decode(String in, String alphabet, boolean padded) {
    StringBuilder sb = new StringBuilder(in.length());
    for (int i = 0; i < in.length(); i++) {
      char c = in.charAt(i);
      if (c != '\r' && c != '\n') {
        sb.append(c);
      }
    }
    String s = sb.toString();
    int pad = 0;
    if (padded) {
      if (s.length() % 4 != 0) {
        return null;
      }
      while (pad < 2 && s.length() - pad > 0 && s.charAt(s.length() - 1 - pad) == '=') {
        pad++;
      }
      s = s.substring(0, s.length() - pad);
    }
    if (s.length() % 4 == 1) {
      return null;
    }
    if (padded && pad > 0 && (s.length() + pad) % 4 != 0) {
      return null;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() * 3 / 4 + 3);
    int buf = 0;
    int bits = 0;
    for (int i = 0; i < s.length(); i++) {
      int v = alphabet.indexOf(s.charAt(i));
      if (v < 0) {
        return null;
      }
      buf = (buf << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.write((buf >> bits) & 0xff);
      }
    }
    if (bits > 0 && (buf & ((1 << bits) - 1)) != 0) {
      return null; // non-zero unused bits
    }
    if (padded) {
      int rem = s.length() % 4;
      if ((rem == 0 && pad != 0) || (rem == 2 && pad != 2) || (rem == 3 && pad != 1)) {
        return null;
      }
    }
    return out.toByteArray();
  }
}
