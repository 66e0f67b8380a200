package io.scbkit.loader;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * DSSE envelopes (signatures/manifest.dsse.json) with the scbkit rules: strict parsing, PAE,
 * and verification against trusted keys. ECDSA signatures are ASN.1 DER only (checked strictly
 * before the JDK sees them), Ed25519 is pure Ed25519 over the PAE, PS256 is RSASSA-PSS with
 * SHA-256, MGF1-SHA-256 and a 32-byte salt.
 */
final class Dsse {
  static final String PAYLOAD_TYPE_MANIFEST = "application/vnd.scbkit.manifest+json";
  static final String PAYLOAD_TYPE_ARCHIVE = "application/vnd.scbkit.archive+json";
  static final String ARCHIVE_STATEMENT_TYPE = "scbkit.archive/1";
  static final int MAX_ENVELOPE_SIZE = 4 << 20;
  static final int MAX_SIGNATURES = 32;
  static final int MAX_SIGNATURE_SIZE = 1024;

  final String payloadType;
  final byte[] payload;
  final List<String> keyIds = new ArrayList<>();
  final List<byte[]> sigs = new ArrayList<>();

  private Dsse(String payloadType, byte[] payload, String path) {
    this.payloadType = payloadType;
    this.payload = payload;
    this.path = path;
  }

  private final String path;

  private BundleException malformed(String why) {
    return malformed(path, why);
  }

  private static BundleException malformed(String path, String why) {
    return new BundleException(Outcome.MALFORMED_SIGNATURE, path, "malformed signature envelope: " + why);
  }

  /** The DSSE v1 pre-authentication encoding. */
  static byte[] pae(String payloadType, byte[] payload) {
    byte[] t = payloadType.getBytes(StandardCharsets.UTF_8);
    byte[] head = ("DSSEv1 " + t.length + " " + payloadType + " " + payload.length + " ").getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(head, head.length + payload.length);
    System.arraycopy(payload, 0, out, head.length, payload.length);
    return out;
  }

  /** Parses an envelope from untrusted input (the rules of the Go ParseEnvelope). */
  @SuppressWarnings("unchecked")
  static Dsse parse(byte[] data, String path) throws BundleException {
    if (data.length > MAX_ENVELOPE_SIZE) {
      throw malformed(path, "envelope larger than " + MAX_ENVELOPE_SIZE + " bytes");
    }
    Map<String, Object> m;
    try {
      m = Json.parseObject(data, true);
    } catch (Json.JsonException e) {
      throw malformed(path, e.getMessage());
    }
    for (String k : m.keySet()) {
      if (!k.equals("payloadType") && !k.equals("payload") && !k.equals("signatures")) {
        throw malformed(path, "unknown member " + Json.quote(k));
      }
    }
    String pt = stringMember(m, "payloadType", path);
    if (pt.isEmpty()) {
      throw malformed(path, "payloadType missing");
    }
    byte[] payload = Base64s.decodeStdStrict(stringMember(m, "payload", path));
    if (payload == null) {
      throw malformed(path, "payload is not standard base64");
    }
    Object sv = m.get("signatures");
    List<Object> sl;
    if (sv == null || sv == Json.NULL) {
      sl = List.of();
    } else if (sv instanceof List) {
      sl = (List<Object>) sv;
    } else {
      throw malformed(path, "member \"signatures\" has the wrong type");
    }
    if (sl.isEmpty()) {
      throw malformed(path, "no signatures");
    }
    if (sl.size() > MAX_SIGNATURES) {
      throw malformed(path, "more than " + MAX_SIGNATURES + " signatures");
    }
    Dsse e = new Dsse(pt, payload, path);
    int i = 0;
    for (Object o : sl) {
      i++;
      Map<String, Object> s;
      if (o == Json.NULL) {
        s = Map.of();
      } else if (o instanceof Map) {
        s = (Map<String, Object>) o;
      } else {
        throw malformed(path, "member \"signatures\" has the wrong type");
      }
      for (String k : s.keySet()) {
        if (!k.equals("keyid") && !k.equals("sig")) {
          throw malformed(path, "unknown member " + Json.quote(k));
        }
      }
      String keyId = stringMember(s, "keyid", path);
      String sig = stringMember(s, "sig", path);
      if (!isKeyId(keyId)) {
        throw malformed(path, "signature " + i + ": keyid is not 64 lower-case hexadecimal digits");
      }
      if (e.keyIds.contains(keyId)) {
        throw malformed(path, "signature " + i + ": key " + keyId + " signed twice");
      }
      byte[] raw = Base64s.decodeStdStrict(sig);
      if (raw == null || raw.length == 0 || raw.length > MAX_SIGNATURE_SIZE) {
        throw malformed(path, "signature " + i + ": sig is not a non-empty standard base64 signature");
      }
      e.keyIds.add(keyId);
      e.sigs.add(raw);
    }
    return e;
  }

  private static String stringMember(Map<String, Object> m, String name, String path) throws BundleException {
    Object v = m.get(name);
    if (v == null || v == Json.NULL) {
      return "";
    }
    if (!(v instanceof String)) {
      throw malformed(path, "member " + Json.quote(name) + " has the wrong type");
    }
    return (String) v;
  }

  /** A detached signature's statement about an archive. */
  static final class Statement {
    String name;
    long size;
    String sha256;
  }

  /** Parses an archive statement (the rules of the Go ParseArchiveStatement). */
  static Statement parseStatement(byte[] data) throws BundleException {
    Map<String, Object> m;
    try {
      m = Json.parseObject(data, true);
    } catch (Json.JsonException e) {
      throw malformed(null, "archive statement: " + e.getMessage());
    }
    for (String k : new String[] {"type", "name", "size", "sha256"}) {
      if (!m.containsKey(k)) {
        throw malformed(null, "archive statement: " + k + " missing");
      }
    }
    for (String k : m.keySet()) {
      if (!k.equals("type") && !k.equals("name") && !k.equals("size") && !k.equals("sha256")) {
        throw malformed(null, "archive statement: unknown member " + Json.quote(k));
      }
    }
    Statement st = new Statement();
    String type = stringMember(m, "type", null);
    st.name = stringMember(m, "name", null);
    st.sha256 = stringMember(m, "sha256", null);
    Object size = m.get("size");
    BigInteger n = size instanceof Json.Num ? ((Json.Num) size).integer() : (size == Json.NULL ? BigInteger.ZERO : null);
    if (n == null || n.bitLength() > 63) {
      throw malformed(null, "archive statement: member \"size\" has the wrong type");
    }
    if (!type.equals(ARCHIVE_STATEMENT_TYPE)) {
      throw malformed(null, "archive statement: type " + Json.quote(type) + ", want \"" + ARCHIVE_STATEMENT_TYPE + "\"");
    }
    byte[] nb = st.name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    boolean ctl = false;
    for (char c : st.name.toCharArray()) {
      ctl |= c < 0x20 || c == 0x7f;
    }
    if (st.name.isEmpty() || nb.length > 255 || st.name.contains("/") || st.name.contains("\\") || ctl) {
      throw malformed(null, "archive statement: name is not a plain file name");
    }
    if (n.signum() < 0) {
      throw malformed(null, "archive statement: negative size");
    }
    st.size = n.longValueExact();
    if (!isKeyId(st.sha256)) {
      throw malformed(null, "archive statement: sha256 is not 64 lower-case hexadecimal digits");
    }
    return st;
  }

  static boolean isKeyId(String s) {
    if (s.length() != 64) {
      return false;
    }
    for (int i = 0; i < 64; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /** The outcome of a successful verification. */
  static final class Verified {
    final List<String> keyIds = new ArrayList<>();
    final List<String> expired = new ArrayList<>();
    final List<String> unknown = new ArrayList<>();
  }

  /**
   * Verifies the signatures against keys at time now (the rules of the Go Envelope.Verify): a
   * signature by an unknown key is ignored; one by a trusted key that does not verify is a
   * {@code bad_signature}; one by a key outside its window verifies but does not count. At least
   * {@code threshold} distinct trusted keys valid at now must have signed.
   */
  Verified verify(TrustedKeys keys, Instant now, int threshold) throws BundleException {
    if (keys == null || keys.size() == 0) {
      throw new BundleException(Outcome.ERROR, null, "no trusted keys given");
    }
    threshold = Math.max(threshold, 1);
    byte[] pae = pae(payloadType, payload);
    Verified v = new Verified();
    for (int i = 0; i < keyIds.size(); i++) {
      String id = keyIds.get(i);
      TrustedKeys.Key k = keys.get(id);
      if (k == null) {
        v.unknown.add(id);
        continue;
      }
      String why = verifyRaw(k, pae, sigs.get(i));
      if (why != null) {
        throw new BundleException(Outcome.BAD_SIGNATURE, path, "key " + id + ": signature does not verify: " + why);
      }
      if (!k.validAt(now)) {
        v.expired.add(id);
        continue;
      }
      if (!v.keyIds.contains(id)) {
        v.keyIds.add(id);
      }
    }
    if (v.keyIds.size() >= threshold) {
      return v;
    }
    if (!v.expired.isEmpty()) {
      TrustedKeys.Key k = keys.get(v.expired.get(0));
      throw new BundleException(Outcome.KEY_OUTSIDE_VALIDITY, path, "key " + k.keyId()
          + ": signing key is outside its validity window: key valid from " + stamp(k.notBefore()) + " until "
          + stamp(k.expires()) + " at " + stamp(now));
    }
    if (!v.keyIds.isEmpty()) {
      throw new BundleException(Outcome.UNKNOWN_SIGNER, path, "not signed by a trusted key: "
          + v.keyIds.size() + " of " + threshold + " required trusted keys signed");
    }
    throw new BundleException(Outcome.UNKNOWN_SIGNER, path, "not signed by a trusted key: signed by "
        + v.unknown.size() + " key(s), none of them trusted");
  }

  private static String stamp(Instant t) {
    return t == null ? "-" : DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** Checks one signature; returns null when it verifies, else why not. */
  static String verifyRaw(TrustedKeys.Key k, byte[] pae, byte[] sig) {
    try {
      switch (k.algorithm()) {
        case "ES256":
        case "ES384": {
          int size = k.algorithm().equals("ES256") ? 32 : 48;
          byte[] p1363 = derToP1363(sig, size);
          if (p1363 == null) {
            return "ECDSA signature is not ASN.1 DER";
          }
          Signature s = Signature.getInstance(k.algorithm().equals("ES256") ? "SHA256withECDSAinP1363Format" : "SHA384withECDSAinP1363Format");
          s.initVerify(k.publicKey());
          s.update(pae);
          return s.verify(p1363) ? null : "invalid signature";
        }
        case "EdDSA": {
          if (sig.length != 64) {
            return "Ed25519 signature has the wrong length";
          }
          Signature s = Signature.getInstance("Ed25519");
          s.initVerify(k.publicKey());
          s.update(pae);
          return s.verify(sig) ? null : "invalid signature";
        }
        case "PS256": {
          Signature s = Signature.getInstance("RSASSA-PSS");
          s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
          s.initVerify(k.publicKey());
          s.update(pae);
          return s.verify(sig) ? null : "invalid signature";
        }
        default:
          return "unsupported algorithm";
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      return "invalid signature";
    }
  }

  /**
   * Converts a strictly DER-encoded ECDSA signature (SEQUENCE of two positive, minimally encoded
   * INTEGERs, nothing after it) to the fixed-width r||s form; null if it is not one.
   */
  static byte[] derToP1363(byte[] sig, int size) {
    try {
      Der.Element seq = Der.parseOne(sig);
      if (seq.tag != Der.SEQUENCE) {
        return null;
      }
      Der d = seq.children();
      BigInteger r = d.next().integer();
      BigInteger s = d.next().integer();
      if (d.more() || r.signum() <= 0 || s.signum() <= 0) {
        return null;
      }
      byte[] rb = unsigned(r);
      byte[] sb = unsigned(s);
      if (rb.length > size || sb.length > size) {
        return new byte[2 * size + 1]; // cannot verify: out of range for the curve
      }
      byte[] out = new byte[2 * size];
      System.arraycopy(rb, 0, out, size - rb.length, rb.length);
      System.arraycopy(sb, 0, out, 2 * size - sb.length, sb.length);
      return out;
    } catch (Der.DerException e) {
      return null;
    }
  }

  private static byte[] unsigned(BigInteger v) {
    byte[] b = v.toByteArray();
    if (b.length > 1 && b[0] == 0) {
      return Arrays.copyOfRange(b, 1, b.length);
    }
    return b;
  }
}
