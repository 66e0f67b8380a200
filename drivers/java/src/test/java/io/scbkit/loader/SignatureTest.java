package io.scbkit.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** DSSE envelopes, key sets and the manifest: the strictness rules of spec/bundle-format.md §4, §5. */
class SignatureTest {
  static final Path KEYS = TestPaths.repoRoot().resolve("spec/vectors/keys");
  static final Path BUNDLES = TestPaths.repoRoot().resolve("spec/vectors/bundles");
  static final Instant T = Instant.parse("2025-06-01T00:00:00Z");

  static PrivateKey priv(String name) throws Exception {
    return Pem.privateKey(Files.readAllBytes(KEYS.resolve("private/" + name + ".key.pem")), null);
  }

  static PublicKey pub(String name) throws Exception {
    return TrustedKeys.parse(Files.readAllBytes(KEYS.resolve(name + ".pub.pem"))).get(
        TrustedKeys.parse(Files.readAllBytes(KEYS.resolve(name + ".pub.pem"))).keyIds().get(0)).publicKey();
  }

  static String keyId(String name) throws Exception {
    return TrustedKeys.keyId(pub(name), name);
  }

  static TrustedKeys trusted() throws Exception {
    return TrustedKeys.read(KEYS.resolve("trusted.jwks.json"));
  }

  /** Signs pae with the named vector key in the format's encoding. */
  static byte[] sign(String name, byte[] pae) throws Exception {
    PrivateKey k = priv(name);
    Signature s;
    switch (k.getAlgorithm()) {
      case "EC":
        s = Signature.getInstance(name.contains("384") ? "SHA384withECDSA" : "SHA256withECDSA");
        break;
      case "RSA":
        s = Signature.getInstance("RSASSA-PSS");
        s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
        break;
      default:
        s = Signature.getInstance("Ed25519");
    }
    s.initSign(k);
    s.update(pae);
    return s.sign();
  }

  static String envelope(String payloadType, byte[] payload, String[] keyIds, byte[][] sigs) {
    StringBuilder b = new StringBuilder("{\n  \"payloadType\": \"" + payloadType + "\",\n  \"payload\": \""
        + Base64.getEncoder().encodeToString(payload) + "\",\n  \"signatures\": [");
    for (int i = 0; i < keyIds.length; i++) {
      b.append(i == 0 ? "\n" : ",\n").append("    {\n      \"keyid\": \"").append(keyIds[i]).append("\",\n      \"sig\": \"")
          .append(Base64.getEncoder().encodeToString(sigs[i])).append("\"\n    }");
    }
    return b.append("\n  ]\n}\n").toString();
  }

  /** The valid-p256 vector bundle with its envelope replaced. */
  static BundleFiles withEnvelope(String env) throws Exception {
    BundleFiles b = BundleFiles.read(BUNDLES.resolve("valid-p256.zip"), Limits.DEFAULT);
    b.put(BundleFiles.SIGNATURE, env.getBytes(StandardCharsets.UTF_8));
    return b;
  }

  static VerificationReport verify(BundleFiles b) throws Exception {
    return Verifier.verify(b, trusted(), VerifyOptions.builder().now(T).build());
  }

  static Outcome outcomeOf(String env) throws Exception {
    return verify(withEnvelope(env)).getOutcome();
  }

  static byte[] manifest() throws Exception {
    return BundleFiles.read(BUNDLES.resolve("valid-p256.zip"), Limits.DEFAULT).get(BundleFiles.MANIFEST);
  }

  static byte[] pae(byte[] manifest) {
    return Dsse.pae(Dsse.PAYLOAD_TYPE_MANIFEST, manifest);
  }

  @Test
  void everyAlgorithmVerifies() throws Exception {
    byte[] m = manifest();
    for (String k : new String[] {"signer-p256", "signer-ed25519", "current-p384", "signer-rsa3072"}) {
      String env = envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m, new String[] {keyId(k)}, new byte[][] {sign(k, pae(m))});
      VerificationReport r = verify(withEnvelope(env));
      assertEquals(Outcome.VALID, r.getOutcome(), k + ": " + r);
      assertEquals(List.of(keyId(k)), r.getSignedBy());
    }
  }

  @Test
  void paeMatchesTheSpecExample() {
    assertEquals("DSSEv1 29 http://example.com/HelloWorld 11 hello world",
        new String(Dsse.pae("http://example.com/HelloWorld", "hello world".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
  }

  @Test
  void ecdsaMustBeStrictDer() throws Exception {
    byte[] m = manifest();
    byte[] der = sign("signer-p256", pae(m));
    byte[] p1363 = Dsse.derToP1363(der, 32);
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m, new String[] {keyId("signer-p256")}, new byte[][] {p1363})));
    // The same r and s with a non-minimal INTEGER (an extra leading zero) is not DER.
    Der.Element seq = Der.parseOne(der);
    Der d = seq.children();
    BigInteger r = d.next().integer();
    BigInteger s = d.next().integer();
    byte[] rb = r.toByteArray();
    byte[] padded = new byte[rb.length + 1];
    System.arraycopy(rb, 0, padded, 1, rb.length);
    byte[] bad = Der.encode(Der.SEQUENCE, Der.encode(Der.INTEGER, padded), Der.encode(Der.INTEGER, s.toByteArray()));
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m, new String[] {keyId("signer-p256")}, new byte[][] {bad})));
    byte[] trailing = java.util.Arrays.copyOf(der, der.length + 1);
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m, new String[] {keyId("signer-p256")}, new byte[][] {trailing})));
  }

  @Test
  void pssSaltLengthIsEnforced() throws Exception {
    byte[] m = manifest();
    Signature s = Signature.getInstance("RSASSA-PSS");
    s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 20, 1));
    s.initSign(priv("signer-rsa3072"));
    s.update(pae(m));
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m, new String[] {keyId("signer-rsa3072")}, new byte[][] {s.sign()})));
  }

  @Test
  void badTrustedSignatureFailsEvenNextToAGoodOne() throws Exception {
    byte[] m = manifest();
    byte[] good = sign("signer-p256", pae(m));
    byte[] forged = sign("signer-ed25519", pae("other".getBytes(StandardCharsets.UTF_8)));
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m,
        new String[] {keyId("signer-p256"), keyId("signer-ed25519")}, new byte[][] {good, forged})));
    // An unknown key's garbage is ignored.
    VerificationReport r = verify(withEnvelope(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m,
        new String[] {"ab".repeat(32), keyId("signer-p256")}, new byte[][] {new byte[] {1, 2, 3}, good})));
    assertEquals(Outcome.VALID, r.getOutcome(), r.toString());
  }

  @Test
  void keyWindows() throws Exception {
    byte[] m = manifest();
    String env = envelope(Dsse.PAYLOAD_TYPE_MANIFEST, m, new String[] {keyId("current-p384")}, new byte[][] {sign("current-p384", pae(m))});
    BundleFiles b = withEnvelope(env);
    VerificationReport early = Verifier.verify(b, trusted(), VerifyOptions.builder().now(Instant.parse("2025-01-15T00:00:00Z")).build());
    assertEquals(Outcome.KEY_OUTSIDE_VALIDITY, early.getOutcome(), early.toString());
    assertEquals(Outcome.VALID, Verifier.verify(b, trusted(), VerifyOptions.builder().now(Instant.parse("2025-02-01T00:00:00Z")).build()).getOutcome());
  }

  @Test
  void malformedEnvelopes() throws Exception {
    byte[] m = manifest();
    String id = keyId("signer-p256");
    String sig = Base64.getEncoder().encodeToString(sign("signer-p256", pae(m)));
    String payload = Base64.getEncoder().encodeToString(m);
    String pt = Dsse.PAYLOAD_TYPE_MANIFEST;
    List<String> bad = new ArrayList<>(List.of(
        "{\"payloadType\":\"" + pt + "\",\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"extra\":1,\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\",\"x\":\"\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id.toUpperCase() + "\",\"sig\":\"" + sig + "\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"},{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload.replace("=", "") + "x\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + "-" + sig.substring(1) + "\"}]}", // a URL-safe base64 character
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"}]} {}",
        "{\"payloadType\":\"\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"" + sig + "\"}]}",
        "{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"\"}]}",
        "[]",
        "not json"));
    StringBuilder many = new StringBuilder("{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[");
    for (int i = 0; i < 33; i++) {
      many.append(i == 0 ? "" : ",").append("{\"keyid\":\"").append(String.format("%064x", i)).append("\",\"sig\":\"AAAA\"}");
    }
    bad.add(many.append("]}").toString());
    // Non-zero padding bits: "AB==" decodes in lenient decoders, not in strict ones.
    bad.add("{\"payloadType\":\"" + pt + "\",\"payload\":\"" + payload + "\",\"signatures\":[{\"keyid\":\"" + id + "\",\"sig\":\"AB==\"}]}");
    for (String env : bad) {
      assertEquals(Outcome.MALFORMED_SIGNATURE, outcomeOf(env), env.length() > 200 ? env.substring(0, 200) : env);
    }
  }

  @Test
  void payloadMustBeThisManifest() throws Exception {
    byte[] m = manifest();
    byte[] other = (new String(m, StandardCharsets.UTF_8) + " ").getBytes(StandardCharsets.UTF_8);
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope(Dsse.PAYLOAD_TYPE_MANIFEST, other, new String[] {keyId("signer-p256")}, new byte[][] {sign("signer-p256", pae(other))})));
    byte[] pae = Dsse.pae("application/json", m);
    assertEquals(Outcome.BAD_SIGNATURE, outcomeOf(envelope("application/json", m, new String[] {keyId("signer-p256")}, new byte[][] {sign("signer-p256", pae)})));
  }

  @Test
  void nonCanonicalManifestIsMalformed() throws Exception {
    BundleFiles b = BundleFiles.read(BUNDLES.resolve("unsigned.zip"), Limits.DEFAULT);
    String m = new String(b.get(BundleFiles.MANIFEST), StandardCharsets.UTF_8);
    for (String variant : new String[] {m.replace("\n  ", "\n   "), m.trim(), m.replace("\"format\"", "\"Format\""), m + "\n", m.replace("{\n  \"format\"", "{\n  \"x\": 1,\n  \"format\"")}) {
      b.put(BundleFiles.MANIFEST, variant.getBytes(StandardCharsets.UTF_8));
      VerificationReport r = Verifier.verify(b, null, VerifyOptions.builder().now(T).build());
      assertEquals(Outcome.MALFORMED_MANIFEST, r.getOutcome(), r.toString());
    }
    b.put(BundleFiles.MANIFEST, m.getBytes(StandardCharsets.UTF_8));
    assertEquals(Outcome.VALID, Verifier.verify(b, null, VerifyOptions.builder().now(T).build()).getOutcome());
    assertEquals(m, new String(Manifest.of(b).encode(), StandardCharsets.UTF_8));
  }

  @Test
  void requireSignatureWithoutKeysIsAnError() throws Exception {
    BundleFiles b = BundleFiles.read(BUNDLES.resolve("unsigned.zip"), Limits.DEFAULT);
    VerificationReport r = Verifier.verify(b, null, VerifyOptions.builder().now(T).requireSignature(true).build());
    assertEquals(Outcome.ERROR, r.getOutcome());
  }

  @Test
  void keySetRules() throws Exception {
    String jwks = Files.readString(KEYS.resolve("trusted.jwks.json"));
    assertEquals(5, TrustedKeys.parse(jwks.getBytes(StandardCharsets.UTF_8)).size());
    String[] bad = {
        jwks.replaceFirst("\"use\": \"sig\"", "\"use\": \"sig\", \"d\": \"AAAA\""),
        jwks.replaceFirst("\"kid\": \"d7", "\"kid\": \"e7"),
        jwks.replaceFirst("\"alg\": \"ES256\"", "\"alg\": \"ES384\""),
        jwks.replaceFirst("\"use\": \"sig\"", "\"use\": \"enc\""),
        jwks.replaceFirst("\"use\": \"sig\"", "\"use\": \"sig\", \"key_ops\": [\"sign\"]"),
        jwks.replaceFirst("\"use\": \"sig\"", "\"use\": \"sig\", \"nbf\": 1.5"),
        jwks.replaceFirst("\"use\": \"sig\"", "\"use\": \"sig\", \"nbf\": 200, \"exp\": 100"),
        jwks.replaceFirst("\"x\": \"6ioi", "\"x\": \"7ioi"),
        jwks.replaceFirst("\"crv\": \"P-256\"", "\"crv\": \"P-521\""),
        jwks.replaceFirst("\"use\": \"sig\"", "\"use\": \"sig\", \"use\": \"sig\""),
        "{\"keys\": []}",
        "{}",
        "",
        "-----BEGIN PRIVATE KEY-----\n" + Base64.getEncoder().encodeToString(priv("signer-p256").getEncoded()) + "\n-----END PRIVATE KEY-----\n",
        Files.readString(KEYS.resolve("signer-p256.pub.pem")) + "trailing junk",
        Files.readString(KEYS.resolve("signer-p256.pub.pem")) + Files.readString(KEYS.resolve("signer-p256.pub.pem")),
    };
    for (String s : bad) {
      TrustedKeys.KeySetException e = assertThrows(TrustedKeys.KeySetException.class, () -> TrustedKeys.parse(s.getBytes(StandardCharsets.UTF_8)), s);
      assertFalse(e.getMessage().contains("AAAA"), e.getMessage());
    }
    // RSA keys under 3072 bits may not sign bundles.
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    assertThrows(TrustedKeys.KeySetException.class, () -> TrustedKeys.of(g.generateKeyPair().getPublic()));
    // The key ids are those of the vector index.
    TrustedKeys t = trusted();
    assertTrue(t.keyIds().contains("d7c35ede4bde2e84dcca2bc5d9cd76ac08fc38794b058debee6730a86855411a"));
    assertEquals(Instant.ofEpochSecond(1738368000), t.get("e98ec61e4d23ee4e3bd8fc0472a3a8b576647e7d5b5845850b5e9073211d82fc").notBefore());
  }

  @Test
  void base64IsStrict() {
    assertEquals("hello", new String(Base64s.decodeStdStrict("aGVsbG8="), StandardCharsets.UTF_8));
    assertEquals("hello", new String(Base64s.decodeStdStrict("aGVs\nbG8="), StandardCharsets.UTF_8));
    assertEquals(null, Base64s.decodeStdStrict("aGVsbG8"));
    assertEquals(null, Base64s.decodeStdStrict("aGVsbG9="));
    assertEquals(null, Base64s.decodeStdStrict("aGVsbG8=="));
    assertEquals(null, Base64s.decodeStdStrict("aGV sbG8="));
    assertEquals(null, Base64s.decodeRawUrlStrict("aGVsbG8="));
    assertEquals("hello", new String(Base64s.decodeRawUrlStrict("aGVsbG8"), StandardCharsets.UTF_8));
  }
}
