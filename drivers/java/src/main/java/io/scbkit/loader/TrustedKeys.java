package io.scbkit.loader;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of public keys trusted to sign bundles, each identified by its key id (the lower-case hex
 * SHA-256 of its DER SubjectPublicKeyInfo) and optionally valid only in a window of time (JWKS
 * {@code nbf}/{@code exp}), for rotation. Keys are ECDSA P-256 (ES256), ECDSA P-384 (ES384),
 * Ed25519 (EdDSA, pure) or RSA 3072/4096 (PS256).
 *
 * <p>A key set comes from outside the bundle it verifies: a bundle never vouches for itself. Read
 * one with {@link #parse(byte[])} or {@link #read(Path)} from a JSON Web Key Set or from PEM
 * "PUBLIC KEY" blocks. Instances are immutable.
 */
public final class TrustedKeys {
  /** The largest key-set input accepted. */
  public static final int MAX_SIZE = 1 << 20;

  /** One trusted key. */
  public static final class Key {
    private final PublicKey publicKey;
    private final String keyId;
    private final String algorithm;
    private final Instant notBefore;
    private final Instant expires;

    Key(PublicKey publicKey, String keyId, String algorithm, Instant notBefore, Instant expires) {
      this.publicKey = publicKey;
      this.keyId = keyId;
      this.algorithm = algorithm;
      this.notBefore = notBefore;
      this.expires = expires;
    }

    /** The public key. */
    public PublicKey publicKey() {
      return publicKey;
    }

    /** The key id: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo. */
    public String keyId() {
      return keyId;
    }

    /** The JOSE algorithm name: ES256, ES384, EdDSA or PS256. */
    public String algorithm() {
      return algorithm;
    }

    /** The first instant the key is valid, or null for no lower bound. */
    public Instant notBefore() {
      return notBefore;
    }

    /** The first instant the key is no longer valid, or null for no upper bound. */
    public Instant expires() {
      return expires;
    }

    /** Whether t lies in the window notBefore &lt;= t &lt; expires. */
    public boolean validAt(Instant t) {
      return (notBefore == null || !t.isBefore(notBefore)) && (expires == null || t.isBefore(expires));
    }

    @Override
    public String toString() {
      return "TrustedKeys.Key{" + algorithm + " " + keyId + "}";
    }
  }

  /** Thrown for a key set that cannot be parsed or holds unsupported keys. */
  public static final class KeySetException extends Exception {
    private static final long serialVersionUID = 1L;

    KeySetException(String m) {
      super(m);
    }
  }

  private final Map<String, Key> byId;

  private TrustedKeys(Map<String, Key> byId) {
    this.byId = Collections.unmodifiableMap(byId);
  }

  /** A set of the given public keys, without validity windows. */
  public static TrustedKeys of(PublicKey... keys) throws KeySetException {
    Map<String, Key> m = new LinkedHashMap<>();
    for (PublicKey k : keys) {
      add(m, k, null, null, "key " + (m.size() + 1));
    }
    return new TrustedKeys(m);
  }

  /** Reads a key-set file (see {@link #parse(byte[])}). */
  public static TrustedKeys read(Path file) throws IOException, KeySetException {
    byte[] data;
    try (InputStream in = Files.newInputStream(file)) {
      data = BundleFiles.readBounded(in, MAX_SIZE + 1L);
    }
    try {
      return parse(data);
    } catch (KeySetException e) {
      throw new KeySetException(file + ": " + e.getMessage());
    }
  }

  /**
   * Parses a JSON Web Key Set or PEM "PUBLIC KEY" blocks, with the rules of the Go reader: EC keys
   * (crv P-256 or P-384, x and y unpadded base64url of exactly the coordinate size, a point on the
   * curve), OKP keys (crv Ed25519, x of 32 bytes) or RSA keys (3072 or 4096 bits); optional kid
   * (must equal the computed key id), alg (must match), use ("sig"), key_ops (must contain
   * "verify"), nbf and exp (integer seconds since the epoch). Private-key members are an error:
   * a trust file must not hold secrets. An empty set is an error. Messages never quote key material.
   */
  public static TrustedKeys parse(byte[] data) throws KeySetException {
    if (data.length > MAX_SIZE) {
      throw new KeySetException("malformed key set: larger than " + MAX_SIZE + " bytes");
    }
    String t = new String(data, StandardCharsets.UTF_8).strip();
    Map<String, Key> m;
    if (t.startsWith("{")) {
      m = parseJwks(t.getBytes(StandardCharsets.UTF_8));
    } else if (t.startsWith("-----BEGIN")) {
      m = parsePem(t.getBytes(StandardCharsets.UTF_8));
    } else {
      throw new KeySetException("malformed key set: neither a JWKS nor PEM public keys");
    }
    if (m.isEmpty()) {
      throw new KeySetException("malformed key set: no keys");
    }
    return new TrustedKeys(m);
  }

  /** The number of keys. */
  public int size() {
    return byId.size();
  }

  /** The key ids, in the order the keys were read. */
  public List<String> keyIds() {
    return new ArrayList<>(byId.keySet());
  }

  /** The key with the given id, or null. */
  public Key get(String keyId) {
    return byId.get(keyId);
  }

  @Override
  public String toString() {
    return "TrustedKeys" + keyIds();
  }

  // ---- parsing ---------------------------------------------------------------------------

  private static final String[] PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

  @SuppressWarnings("unchecked")
  private static Map<String, Key> parseJwks(byte[] data) throws KeySetException {
    Map<String, Object> top;
    try {
      top = Json.parseObject(data, true);
    } catch (Json.JsonException e) {
      throw new KeySetException("malformed key set: " + e.getMessage());
    }
    Object keys = top.get("keys");
    if (keys == null || keys == Json.NULL) {
      throw new KeySetException("malformed key set: no \"keys\" array");
    }
    if (!(keys instanceof List)) {
      throw new KeySetException("malformed key set: \"keys\" is not an array");
    }
    Map<String, Key> out = new LinkedHashMap<>();
    int i = 0;
    for (Object o : (List<Object>) keys) {
      i++;
      if (!(o instanceof Map)) {
        throw new KeySetException("malformed key set: key " + i + " is not an object");
      }
      Map<String, Object> k = (Map<String, Object>) o;
      for (String p : PRIVATE_MEMBERS) {
        if (k.containsKey(p)) {
          throw new KeySetException("malformed key set: key " + i + ": holds private key material (\"" + p + "\"); a key set must hold public keys only");
        }
      }
      PublicKey pub = parseJwk(i, k);
      String id = keyId(pub, "key " + i);
      String alg = algorithmOf(pub, "key " + i);
      String kid = str(k, "kid", i);
      if (kid != null && !kid.equals(id)) {
        throw new KeySetException("malformed key set: key " + i + ": kid " + Json.quote(kid) + " is not the key's id " + id);
      }
      String a = str(k, "alg", i);
      if (a != null && !a.equals(alg)) {
        throw new KeySetException("malformed key set: key " + i + ": alg " + Json.quote(a) + " does not match the key (" + alg + ")");
      }
      String use = str(k, "use", i);
      if (use != null && !use.equals("sig")) {
        throw new KeySetException("malformed key set: key " + i + ": use " + Json.quote(use) + " is not \"sig\"");
      }
      if (k.containsKey("key_ops")) {
        Object ops = k.get("key_ops");
        boolean found = false;
        if (ops instanceof List) {
          for (Object op : (List<Object>) ops) {
            if (!(op instanceof String)) {
              throw new KeySetException("malformed key set: key " + i + ": key_ops is not an array of strings");
            }
            found |= op.equals("verify");
          }
        } else if (ops != Json.NULL) {
          throw new KeySetException("malformed key set: key " + i + ": key_ops is not an array of strings");
        }
        if (!found) {
          throw new KeySetException("malformed key set: key " + i + ": key_ops does not allow \"verify\"");
        }
      }
      Instant nbf = numericDate(k, "nbf", i);
      Instant exp = numericDate(k, "exp", i);
      add(out, pub, nbf, exp, "key " + i);
    }
    return out;
  }

  private static Map<String, Key> parsePem(byte[] data) throws KeySetException {
    Map<String, Key> out = new LinkedHashMap<>();
    String s = new String(data, StandardCharsets.ISO_8859_1);
    int i = 0;
    int last = 0;
    for (Pem.Block b : Pem.blocks(data)) {
      i++;
      if (!b.type.equals("PUBLIC KEY")) {
        if (b.type.contains("PRIVATE")) {
          throw new KeySetException("malformed key set: PEM block " + i + " is a private key; a key set must hold public keys only");
        }
        throw new KeySetException("malformed key set: PEM block " + i + " is " + Json.quote(b.type) + ", not PUBLIC KEY");
      }
      PublicKey pub = publicKeyFromSpki(b.der, "PEM block " + i);
      add(out, pub, null, null, "PEM block " + i);
    }
    int end = s.lastIndexOf("-----END ");
    if (end >= 0) {
      last = s.indexOf("-----", end + 9);
      last = last < 0 ? s.length() : last + 5;
    }
    if (!s.substring(last).strip().isEmpty()) {
      throw new KeySetException("malformed key set: data after the last PEM block");
    }
    return out;
  }

  /** Decodes a DER SubjectPublicKeyInfo of a supported signing key. */
  static PublicKey publicKeyFromSpki(byte[] der, String where) throws KeySetException {
    String oid;
    String curve = null;
    try {
      Der spki = Der.parseOne(der).children();
      Der alg = spki.next(Der.SEQUENCE).children();
      oid = alg.next().oid();
      if (alg.more() && alg.peekTag() == Der.OID) {
        curve = alg.next().oid();
      }
    } catch (Der.DerException e) {
      throw new KeySetException("malformed key set: " + where + ": malformed public key");
    }
    String kf;
    switch (oid) {
      case "1.2.840.10045.2.1":
        kf = "EC";
        if (!"1.2.840.10045.3.1.7".equals(curve) && !"1.3.132.0.34".equals(curve)) {
          throw new KeySetException("unsupported signing key: " + where + ": ECDSA curve " + curve + " (use P-256 or P-384)");
        }
        break;
      case "1.2.840.113549.1.1.1":
        kf = "RSA";
        break;
      case "1.3.101.112":
        kf = "Ed25519";
        break;
      default:
        throw new KeySetException("unsupported signing key: " + where + ": algorithm " + oid);
    }
    try {
      return KeyFactory.getInstance(kf).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeySetException("malformed key set: " + where + ": malformed public key");
    }
  }

  private static void add(Map<String, Key> m, PublicKey pub, Instant nbf, Instant exp, String where) throws KeySetException {
    String alg = algorithmOf(pub, where);
    String id = keyId(pub, where);
    if (m.containsKey(id)) {
      throw new KeySetException("malformed key set: " + where + ": key " + id + " listed twice");
    }
    if (nbf != null && exp != null && !nbf.isBefore(exp)) {
      throw new KeySetException("malformed key set: " + where + ": key " + id + ": nbf is not before exp");
    }
    m.put(id, new Key(pub, id, alg, nbf, exp));
  }

  /** The JOSE algorithm of a supported key; an error for any other key. */
  static String algorithmOf(PublicKey pub, String where) throws KeySetException {
    if (pub instanceof ECPublicKey) {
      int bits = ((ECPublicKey) pub).getParams().getCurve().getField().getFieldSize();
      if (bits == 256 && ((ECPublicKey) pub).getParams().getOrder().equals(P256_ORDER)) {
        return "ES256";
      }
      if (bits == 384 && ((ECPublicKey) pub).getParams().getOrder().equals(P384_ORDER)) {
        return "ES384";
      }
      throw new KeySetException("unsupported signing key: " + where + ": ECDSA curve (use P-256 or P-384)");
    }
    if (pub instanceof RSAPublicKey) {
      int bits = ((RSAPublicKey) pub).getModulus().bitLength();
      if (bits != 3072 && bits != 4096) {
        throw new KeySetException("unsupported signing key: " + where + ": " + bits + "-bit RSA key (use 3072 or 4096 bits)");
      }
      return "PS256";
    }
    if (pub.getAlgorithm().equals("Ed25519") || (pub.getAlgorithm().equals("EdDSA") && spkiOid(pub).equals("1.3.101.112"))) {
      return "EdDSA";
    }
    throw new KeySetException("unsupported signing key: " + where + ": " + pub.getAlgorithm());
  }

  private static String spkiOid(PublicKey pub) {
    try {
      return Der.parseOne(pub.getEncoded()).children().next(Der.SEQUENCE).children().next().oid();
    } catch (Der.DerException | RuntimeException e) {
      return "";
    }
  }

  static final BigInteger P256_ORDER = new BigInteger("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16);
  static final BigInteger P384_ORDER = new BigInteger(
      "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16);

  /** The key id of pub: lower-case hex SHA-256 of its DER SubjectPublicKeyInfo. */
  static String keyId(PublicKey pub, String where) throws KeySetException {
    algorithmOf(pub, where);
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(pub.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new KeySetException("SHA-256 unavailable");
    }
  }

  private static String str(Map<String, Object> k, String name, int i) throws KeySetException {
    if (!k.containsKey(name)) {
      return null;
    }
    Object v = k.get(name);
    if (!(v instanceof String)) {
      throw new KeySetException("malformed key set: key " + i + ": " + name + " is not a string");
    }
    return (String) v;
  }

  private static Instant numericDate(Map<String, Object> k, String name, int i) throws KeySetException {
    if (!k.containsKey(name)) {
      return null;
    }
    Object v = k.get(name);
    BigInteger n = v instanceof Json.Num ? ((Json.Num) v).integer() : null;
    if (n == null || n.signum() < 0 || n.compareTo(BigInteger.valueOf(253402300799L)) > 0) {
      throw new KeySetException("malformed key set: key " + i + ": " + name + " is not an integer number of seconds since the epoch");
    }
    return Instant.ofEpochSecond(n.longValueExact());
  }

  private static byte[] b64member(Map<String, Object> k, String name, int i) throws KeySetException {
    String s = str(k, name, i);
    if (s == null) {
      throw new KeySetException("malformed key set: key " + i + ": " + name + " missing");
    }
    byte[] b = Base64s.decodeRawUrlStrict(s);
    if (b == null) {
      throw new KeySetException("malformed key set: key " + i + ": " + name + " is not unpadded base64url");
    }
    return b;
  }

  private static PublicKey parseJwk(int i, Map<String, Object> k) throws KeySetException {
    String kty = str(k, "kty", i);
    String crv = str(k, "crv", i);
    if ("EC".equals(kty)) {
      String stdName;
      int size;
      if ("P-256".equals(crv)) {
        stdName = "secp256r1";
        size = 32;
      } else if ("P-384".equals(crv)) {
        stdName = "secp384r1";
        size = 48;
      } else {
        throw new KeySetException("unsupported signing key: key " + i + ": EC curve " + Json.quote(String.valueOf(crv)) + " (use P-256 or P-384)");
      }
      byte[] x = b64member(k, "x", i);
      byte[] y = b64member(k, "y", i);
      if (x.length != size || y.length != size) {
        throw new KeySetException("malformed key set: key " + i + ": x and y must be " + size + " bytes each");
      }
      try {
        AlgorithmParameters ap = AlgorithmParameters.getInstance("EC");
        ap.init(new ECGenParameterSpec(stdName));
        ECParameterSpec spec = ap.getParameterSpec(ECParameterSpec.class);
        BigInteger bx = new BigInteger(1, x);
        BigInteger by = new BigInteger(1, y);
        if (!onCurve(spec, bx, by)) {
          throw new KeySetException("malformed key set: key " + i + ": not a point on " + crv);
        }
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(bx, by), spec));
      } catch (GeneralSecurityException e) {
        throw new KeySetException("malformed key set: key " + i + ": not a point on " + crv);
      }
    }
    if ("OKP".equals(kty)) {
      if (!"Ed25519".equals(crv)) {
        throw new KeySetException("unsupported signing key: key " + i + ": OKP curve " + Json.quote(String.valueOf(crv)) + " (use Ed25519)");
      }
      byte[] x = b64member(k, "x", i);
      if (x.length != 32) {
        throw new KeySetException("malformed key set: key " + i + ": x must be 32 bytes");
      }
      byte[] spki = Der.encode(Der.SEQUENCE, Der.encode(Der.SEQUENCE, Der.encode(Der.OID, new byte[] {0x2b, 0x65, 0x70})),
          Der.encode(Der.BIT_STRING, concat(new byte[] {0}, x)));
      try {
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
      } catch (GeneralSecurityException e) {
        throw new KeySetException("malformed key set: key " + i + ": malformed Ed25519 key");
      }
    }
    if ("RSA".equals(kty)) {
      byte[] n = b64member(k, "n", i);
      byte[] e = b64member(k, "e", i);
      if (n.length > 1024 || e.length == 0 || e.length > 4) {
        throw new KeySetException("malformed key set: key " + i + ": RSA parameters out of range");
      }
      long ev = new BigInteger(1, e).longValue();
      if (ev < 3 || ev > (1L << 31) - 1 || ev % 2 == 0) {
        throw new KeySetException("malformed key set: key " + i + ": RSA exponent out of range");
      }
      try {
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(new BigInteger(1, n), BigInteger.valueOf(ev)));
      } catch (GeneralSecurityException ex) {
        throw new KeySetException("malformed key set: key " + i + ": malformed RSA key");
      }
    }
    throw new KeySetException("unsupported signing key: key " + i + ": kty " + Json.quote(String.valueOf(kty)) + " (use EC, OKP or RSA)");
  }

  private static boolean onCurve(ECParameterSpec spec, BigInteger x, BigInteger y) {
    BigInteger p = ((java.security.spec.ECFieldFp) spec.getCurve().getField()).getP();
    if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0) {
      return false;
    }
    BigInteger a = spec.getCurve().getA();
    BigInteger b = spec.getCurve().getB();
    BigInteger lhs = y.multiply(y).mod(p);
    BigInteger rhs = x.pow(3).add(a.multiply(x)).add(b).mod(p);
    return lhs.equals(rhs);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
