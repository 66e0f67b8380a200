package io.scbkit.loader;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/** PEM blocks, certificates and PKCS#8 private keys (plain or PBES2-encrypted). */
final class Pem {
  private Pem() {}

  /** Thrown for unreadable key material; messages never contain key bytes. */
  static final class KeyException extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean passphrase;

    KeyException(String m, boolean passphrase) {
      super(m);
      this.passphrase = passphrase;
    }
  }

  /** One PEM block. */
  static final class Block {
    final String type;
    final byte[] der;

    Block(String type, byte[] der) {
      this.type = type;
      this.der = der;
    }
  }

  /** Every well-formed PEM block in data, in order; malformed blocks are skipped. */
  static List<Block> blocks(byte[] data) {
    String s = new String(data, StandardCharsets.ISO_8859_1);
    List<Block> out = new ArrayList<>();
    int p = 0;
    while (true) {
      int b = s.indexOf("-----BEGIN ", p);
      if (b < 0) {
        return out;
      }
      int te = s.indexOf("-----", b + 11);
      if (te < 0) {
        return out;
      }
      String type = s.substring(b + 11, te);
      int bodyStart = te + 5;
      String endMarker = "-----END " + type + "-----";
      int e = s.indexOf(endMarker, bodyStart);
      if (e < 0 || type.indexOf('\n') >= 0) {
        p = b + 11;
        continue;
      }
      String body = s.substring(bodyStart, e);
      StringBuilder b64 = new StringBuilder();
      boolean ok = true;
      for (String line : body.split("\n", -1)) {
        String l = line.strip();
        if (l.indexOf(':') >= 0) {
          continue; // RFC 1421 header (Proc-Type, DEK-Info)
        }
        b64.append(l);
      }
      byte[] der = null;
      try {
        der = Base64.getDecoder().decode(b64.toString());
      } catch (IllegalArgumentException ex) {
        ok = false;
      }
      if (ok) {
        out.add(new Block(type, der));
      }
      p = e + endMarker.length();
    }
  }

  /** Every CERTIFICATE block of data, in order; an error when there is none or one is malformed. */
  static List<X509Certificate> certificates(byte[] data) throws CertificateException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    for (Block b : blocks(data)) {
      if (!b.type.equals("CERTIFICATE")) {
        continue;
      }
      try {
        out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der)));
      } catch (CertificateException | RuntimeException e) {
        throw new CertificateException("malformed certificate " + (out.size() + 1));
      }
    }
    if (out.isEmpty()) {
      throw new CertificateException("no PEM certificate found");
    }
    return out;
  }

  /** Reports whether data holds an encrypted PKCS#8 key. */
  static boolean isEncryptedKey(byte[] data) {
    return new String(data, StandardCharsets.ISO_8859_1).contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
  }

  /**
   * The first PKCS#8 private key of data, decrypted with passphrase when it is encrypted. A wrong
   * or missing passphrase gives a KeyException with {@code passphrase} set.
   */
  static PrivateKey privateKey(byte[] data, char[] passphrase) throws KeyException {
    for (Block b : blocks(data)) {
      switch (b.type) {
        case "PRIVATE KEY":
          return pkcs8(b.der);
        case "ENCRYPTED PRIVATE KEY":
          if (passphrase == null || passphrase.length == 0) {
            throw new KeyException("wrong or missing passphrase for encrypted private key", true);
          }
          byte[] plain = decryptPbes2(b.der, passphrase);
          try {
            return pkcs8(plain);
          } catch (KeyException e) {
            throw new KeyException("wrong or missing passphrase for encrypted private key", true);
          } finally {
            Arrays.fill(plain, (byte) 0);
          }
        case "RSA PRIVATE KEY":
        case "EC PRIVATE KEY":
          throw new KeyException("no PKCS#8 private key found: found a \"" + b.type + "\" block; convert it to PKCS#8", false);
        default:
          break;
      }
    }
    throw new KeyException("no PKCS#8 private key found", false);
  }

  /** Decodes an unencrypted PKCS#8 key of any supported algorithm. */
  static PrivateKey pkcs8(byte[] der) throws KeyException {
    String oid;
    try {
      Der.Element info = Der.parseOne(der);
      Der d = info.children();
      d.next(Der.INTEGER);
      Der alg = d.next(Der.SEQUENCE).children();
      oid = alg.next().oid();
    } catch (Der.DerException e) {
      throw new KeyException("malformed PKCS#8 private key", false);
    }
    String kf;
    switch (oid) {
      case "1.2.840.10045.2.1":
        kf = "EC";
        break;
      case "1.2.840.113549.1.1.1":
        kf = "RSA";
        break;
      case "1.2.840.113549.1.1.10":
        kf = "RSASSA-PSS";
        break;
      case "1.3.101.112":
        kf = "Ed25519";
        break;
      default:
        throw new KeyException("unsupported private key algorithm " + oid, false);
    }
    try {
      return KeyFactory.getInstance(kf).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyException("malformed PKCS#8 private key", false);
    }
  }

  private static final int MAX_PBKDF2_ITERATIONS = 2_000_000;

  /** PBES2 (PBKDF2 + AES-CBC or DES-EDE3-CBC) decryption of an EncryptedPrivateKeyInfo. */
  static byte[] decryptPbes2(byte[] der, char[] passphrase) throws KeyException {
    try {
      Der top = Der.parseOne(der).children();
      Der alg = top.next(Der.SEQUENCE).children();
      if (!alg.next().oid().equals("1.2.840.113549.1.5.13")) {
        throw new KeyException("encrypted private key: unsupported encryption scheme (only PBES2 is supported)", false);
      }
      Der params = alg.next(Der.SEQUENCE).children();
      Der kdf = params.next(Der.SEQUENCE).children();
      Der cipher = params.next(Der.SEQUENCE).children();
      byte[] data = top.next(Der.OCTET_STRING).content();
      if (!kdf.next().oid().equals("1.2.840.113549.1.5.12")) {
        throw new KeyException("encrypted private key: unsupported key derivation function (use PBKDF2)", false);
      }
      Der kp = kdf.next(Der.SEQUENCE).children();
      byte[] salt = kp.next(Der.OCTET_STRING).content();
      int iterations = kp.next().integer().intValueExact();
      String prf = "HmacSHA1";
      if (kp.more() && kp.peekTag() == Der.INTEGER) {
        kp.next(); // key length: implied by the cipher
      }
      if (kp.more()) {
        String prfOid = kp.next(Der.SEQUENCE).children().next().oid();
        switch (prfOid) {
          case "1.2.840.113549.2.7":
            prf = "HmacSHA1";
            break;
          case "1.2.840.113549.2.9":
            prf = "HmacSHA256";
            break;
          case "1.2.840.113549.2.10":
            prf = "HmacSHA384";
            break;
          case "1.2.840.113549.2.11":
            prf = "HmacSHA512";
            break;
          default:
            throw new KeyException("encrypted private key: unsupported PRF", false);
        }
      }
      if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
        throw new KeyException("encrypted private key: PBKDF2 iteration count out of range 1.." + MAX_PBKDF2_ITERATIONS, false);
      }
      String cipherOid = cipher.next().oid();
      byte[] iv = cipher.next(Der.OCTET_STRING).content();
      String transform;
      String keyAlg;
      int keyLen;
      int block;
      switch (cipherOid) {
        case "2.16.840.1.101.3.4.1.2":
          transform = "AES/CBC/PKCS5Padding";
          keyAlg = "AES";
          keyLen = 16;
          block = 16;
          break;
        case "2.16.840.1.101.3.4.1.22":
          transform = "AES/CBC/PKCS5Padding";
          keyAlg = "AES";
          keyLen = 24;
          block = 16;
          break;
        case "2.16.840.1.101.3.4.1.42":
          transform = "AES/CBC/PKCS5Padding";
          keyAlg = "AES";
          keyLen = 32;
          block = 16;
          break;
        case "1.2.840.113549.3.7":
          transform = "DESede/CBC/PKCS5Padding";
          keyAlg = "DESede";
          keyLen = 24;
          block = 8;
          break;
        default:
          throw new KeyException("encrypted private key: unsupported cipher (use AES-CBC or DES-EDE3-CBC)", false);
      }
      if (iv.length != block) {
        throw new KeyException("encrypted private key: malformed cipher IV", false);
      }
      if (data.length == 0 || data.length % block != 0) {
        throw new KeyException("encrypted private key: ciphertext is not a whole number of blocks", false);
      }
      SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2With" + prf);
      PBEKeySpec spec = new PBEKeySpec(passphrase, salt, iterations, keyLen * 8);
      byte[] k = f.generateSecret(spec).getEncoded();
      spec.clearPassword();
      try {
        Cipher c = Cipher.getInstance(transform);
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(k, keyAlg), new IvParameterSpec(iv));
        return c.doFinal(data);
      } catch (GeneralSecurityException e) {
        throw new KeyException("wrong or missing passphrase for encrypted private key", true);
      } finally {
        Arrays.fill(k, (byte) 0);
      }
    } catch (Der.DerException | ArithmeticException e) {
      throw new KeyException("encrypted private key: malformed structure", false);
    } catch (GeneralSecurityException e) {
      throw new KeyException("encrypted private key: " + e.getClass().getSimpleName(), false);
    }
  }

  /** Reports whether priv is the private key of pub, by signing and verifying a random message. */
  static boolean keyMatches(PublicKey pub, PrivateKey priv) {
    String alg;
    switch (priv.getAlgorithm()) {
      case "EC":
        alg = "SHA256withECDSA";
        break;
      case "RSA":
        alg = "SHA256withRSA";
        break;
      case "Ed25519":
      case "EdDSA":
        alg = "Ed25519";
        break;
      default:
        return false;
    }
    if (!pub.getAlgorithm().equals(priv.getAlgorithm())
        && !(pub.getAlgorithm().startsWith("Ed") && priv.getAlgorithm().startsWith("Ed"))) {
      return false;
    }
    try {
      byte[] msg = new byte[32];
      new SecureRandom().nextBytes(msg);
      Signature s = Signature.getInstance(alg);
      s.initSign(priv);
      s.update(msg);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(msg);
      return v.verify(sig);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** Encodes certificates as PEM (used by tests and tools). */
  static String encodeCertificate(X509Certificate c) throws CertificateException {
    String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded());
    return "-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----\n";
  }
}
