package io.scbkit.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading bundles: what comes out, what is refused, and what never leaks. */
class LoaderTest {
  static final Path BUNDLES = SignatureTest.BUNDLES;
  static final Instant T = SignatureTest.T;

  static SCBLoader.Builder at(Instant t) {
    return SCBLoader.builder().now(t);
  }

  @Test
  void loadsZipTarGzAndDirectory(@TempDir Path tmp) throws Exception {
    SCBConfig zip = at(T).build().load(BUNDLES.resolve("valid-p256.zip"));
    SCBConfig tgz = at(T).build().load(BUNDLES.resolve("valid-p256.tar.gz"));
    Path dir = tmp.resolve("bundle");
    BundleFiles b = BundleFiles.read(BUNDLES.resolve("valid-p256.zip"), Limits.DEFAULT);
    for (String p : b.paths()) {
      Files.createDirectories(dir.resolve(p).getParent());
      Files.write(dir.resolve(p), b.get(p));
    }
    SCBConfig d = at(T).build().load(dir);
    for (SCBConfig c : List.of(zip, tgz, d)) {
      assertFalse(c.getContactPoints().isEmpty());
      assertNotNull(c.getLocalDatacenter());
      assertFalse(c.getLocalDatacenter().isEmpty());
      assertEquals(zip.getContactPoints(), c.getContactPoints());
      assertEquals(zip.getMetadata().getBundleId(), c.getMetadata().getBundleId());
      assertNotNull(c.getSslContext());
      assertEquals(1, c.getCaCertificates().size());
    }
    assertNull(d.openBundle());
    assertArrayEquals(Files.readAllBytes(BUNDLES.resolve("valid-p256.zip")), zip.openBundle().readAllBytes());
    InetSocketAddress first = zip.getContactPoints().get(0);
    assertTrue(first.getPort() > 0);
    assertEquals("1.0", zip.getMetadata().getBundleVersion());
    assertTrue(zip.isHostnameVerification());
  }

  @Test
  void trustManagerTrustsTheBundleCaOnly() throws Exception {
    SCBConfig c = at(T).build().load(BUNDLES.resolve("valid-p256.zip"));
    // The SSLContext was built from a trust store holding certificates/ca-cert.pem only; rebuild
    // the same way and compare the accepted issuers with the system default's.
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", c.getCaCertificates().get(0));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    X509Certificate[] issuers = ((X509TrustManager) tmf.getTrustManagers()[0]).getAcceptedIssuers();
    assertEquals(1, issuers.length);
    assertEquals(c.getCaCertificates().get(0), issuers[0]);
    assertEquals(Verifier.fingerprint(c.getCaCertificates().get(0)), c.getMetadata().getCaFingerprint());
    // A handshake against a server whose certificate is from another CA must fail: exercised
    // against the real cluster in ClusterIntegrationTest.
  }

  @Test
  void verifyOnTheLoadedConfig() throws Exception {
    SCBConfig c = at(T).build().load(BUNDLES.resolve("valid-p256.zip"));
    TrustedKeys keys = SignatureTest.trusted();
    VerificationReport r = c.verify(keys, VerifyOptions.builder().now(T).build());
    assertTrue(r.isValid());
    assertEquals(List.of("d7c35ede4bde2e84dcca2bc5d9cd76ac08fc38794b058debee6730a86855411a"), r.getSignedBy());
    BundleException e = assertThrows(BundleException.class,
        () -> c.verify(TrustedKeys.read(SignatureTest.KEYS.resolve("untrusted-ed25519.pub.pem")), VerifyOptions.builder().now(T).build()));
    assertEquals(Outcome.UNKNOWN_SIGNER, e.getOutcome());
  }

  @Test
  void trustedKeysTurnVerificationOnAtLoad() throws Exception {
    TrustedKeys keys = SignatureTest.trusted();
    at(T).trustedKeys(keys).build().load(BUNDLES.resolve("valid-p256.zip"));
    Map<String, Outcome> refused = Map.of(
        "unsigned.zip", Outcome.UNSIGNED,
        "unknown-signer.zip", Outcome.UNKNOWN_SIGNER,
        "forged-signature.zip", Outcome.BAD_SIGNATURE,
        "tampered-manifest.zip", Outcome.BAD_SIGNATURE,
        "retired-key.zip", Outcome.KEY_OUTSIDE_VALIDITY);
    for (Map.Entry<String, Outcome> e : refused.entrySet()) {
      BundleException ex = assertThrows(BundleException.class, () -> at(T).trustedKeys(keys).build().load(BUNDLES.resolve(e.getKey())), e.getKey());
      assertEquals(e.getValue(), ex.getOutcome(), e.getKey() + ": " + ex.getMessage());
    }
    // Without keys the unsigned bundle loads: checksums only.
    at(T).build().load(BUNDLES.resolve("unsigned.zip"));
  }

  @Test
  void refusesBrokenBundlesEvenWithoutKeys() throws Exception {
    Map<String, Outcome> refused = Map.of(
        "tampered-file.zip", Outcome.DIGEST_MISMATCH,
        "uncovered-file.zip", Outcome.DIGEST_MISMATCH,
        "foreign-ca.zip", Outcome.CHAIN_INVALID,
        "expired.zip", Outcome.EXPIRED,
        "path-traversal.zip", Outcome.UNSAFE_PATH,
        "symlink.tar.gz", Outcome.UNSUPPORTED_ENTRY,
        "not-an-archive.zip", Outcome.MALFORMED_ARCHIVE);
    for (Map.Entry<String, Outcome> e : refused.entrySet()) {
      BundleException ex = assertThrows(BundleException.class, () -> at(T).build().load(BUNDLES.resolve(e.getKey())), e.getKey());
      assertEquals(e.getValue(), ex.getOutcome(), e.getKey() + ": " + ex.getMessage());
    }
  }

  @Test
  void requiredFilesMustBeThere() throws Exception {
    for (String p : new String[] {BundleFiles.METADATA, BundleFiles.CLIENT_KEY, BundleFiles.CA_CERT, BundleFiles.CLIENT_YAML}) {
      BundleFiles b = BundleFiles.read(BUNDLES.resolve("unsigned.zip"), Limits.DEFAULT);
      b.remove(p);
      BundleException e = assertThrows(BundleException.class, () -> at(T).build().load(BUNDLES.resolve("unsigned.zip"), null, b));
      assertEquals(Outcome.INCOMPLETE, e.getOutcome(), p);
    }
  }

  @Test
  void validityAndTheTestOnlyOverride() throws Exception {
    Path zip = BUNDLES.resolve("valid-p256.zip");
    assertEquals(Outcome.NOT_YET_VALID, assertThrows(BundleException.class, () -> at(Instant.parse("2024-12-02T00:00:00Z")).build().load(zip)).getOutcome());
    assertEquals(Outcome.EXPIRED, assertThrows(BundleException.class, () -> at(Instant.parse("2040-01-01T00:00:00Z")).build().load(zip)).getOutcome());
    SCBConfig c = at(Instant.parse("2040-01-01T00:00:00Z")).insecureAllowExpired(true).build().load(zip);
    assertNotNull(c.getSslContext());
  }

  /** valid-p256 with config.json replaced (and the manifest recomputed: an unsigned variant). */
  static BundleFiles withConfigJson(String extra) throws Exception {
    BundleFiles b = BundleFiles.read(BUNDLES.resolve("valid-p256.zip"), Limits.DEFAULT);
    String cfg = new String(b.get(BundleFiles.CLOUD_CONFIG), StandardCharsets.UTF_8);
    b.put(BundleFiles.CLOUD_CONFIG, cfg.replaceFirst("\\{", "{" + extra).getBytes(StandardCharsets.UTF_8));
    b.remove(BundleFiles.SIGNATURE);
    b.put(BundleFiles.MANIFEST, Manifest.of(b).encode());
    return b;
  }

  @Test
  void credentialPrecedence() throws Exception {
    Path zip = BUNDLES.resolve("valid-p256.zip");
    Map<String, String> env = Map.of(SCBLoader.ENV_USERNAME, "env-user", SCBLoader.ENV_PASSWORD, "env-pass");
    SCBConfig none = at(T).build().load(zip);
    assertNull(none.getUsername());
    assertNull(none.getPassword());
    SCBConfig fromEnv = at(T).credentialsFromEnvironment(env).build().load(zip);
    assertEquals("env-user", fromEnv.getUsername());
    assertEquals("env-pass", fromEnv.getPassword());

    BundleFiles withCreds = withConfigJson("\"username\": \"json-user\", \"password\": \"json-pass\",");
    SCBConfig fromJson = at(T).credentialsFromEnvironment(env).build().load(zip, null, withCreds);
    assertEquals("json-user", fromJson.getUsername());
    assertEquals("json-pass", fromJson.getPassword());
    SCBConfig explicit = at(T).credentials("me", "mine").credentialsFromEnvironment(env).build().load(zip, null, withCreds);
    assertEquals("me", explicit.getUsername());
    assertEquals("mine", explicit.getPassword());
  }

  @Test
  void secretsNeverPrint() throws Exception {
    BundleFiles withCreds = withConfigJson("\"username\": \"json-user\", \"password\": \"hunter2-secret\",");
    SCBConfig c = at(T).build().load(BUNDLES.resolve("valid-p256.zip"), null, withCreds);
    String keyPem = new String(withCreds.get(BundleFiles.CLIENT_KEY), StandardCharsets.UTF_8);
    String keyBody = keyPem.split("\n")[1];
    for (String s : new String[] {c.toString(), String.valueOf(c.getMetadata()), SCBLoader.builder().credentials("u", "hunter2-secret").keyPassphrase("pp-secret".toCharArray()).build().toString(),
        VerifyOptions.builder().keyPassphrase("pp-secret".toCharArray()).build().toString()}) {
      assertFalse(s.contains("hunter2-secret"), s);
      assertFalse(s.contains("pp-secret"), s);
      assertFalse(s.contains(keyBody), s);
    }
    // A broken config.json must not be echoed in the error.
    BundleFiles broken = withConfigJson("\"password\": \"hunter2-secret\" oops,");
    BundleException e = assertThrows(BundleException.class, () -> at(T).build().load(BUNDLES.resolve("valid-p256.zip"), null, broken));
    assertFalse(e.getMessage().contains("hunter2-secret"), e.getMessage());
  }

  @Test
  void nothingIsWrittenNextToTheBundle(@TempDir Path tmp) throws Exception {
    Path zip = tmp.resolve("app.zip");
    Files.copy(BUNDLES.resolve("valid-p256.zip"), zip);
    at(T).build().load(zip);
    SCBLoader.verify(zip, SignatureTest.trusted(), VerifyOptions.builder().now(T).build());
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(zip), s.toList());
    }
  }

  @Test
  void encryptedKeyNeedsItsPassphrase(@TempDir Path tmp) throws Exception {
    Path pass = tmp.resolve("pass");
    Files.createFile(pass, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(pass, "correct horse battery staple\n");
    ScbCli.scb(tmp, "generate", "--cluster", "enc", "--client", "app", "--environment", "development",
        "--contact-point", "127.0.0.1:9042", "--key-passphrase-file", pass.toString(), "--out", tmp.resolve("enc.zip").toString());
    Path zip = tmp.resolve("enc.zip");
    BundleException e = assertThrows(BundleException.class, () -> SCBLoader.builder().build().load(zip));
    assertEquals(Outcome.ERROR, e.getOutcome(), e.getMessage());
    assertTrue(e.getMessage().contains("passphrase"), e.getMessage());
    e = assertThrows(BundleException.class, () -> SCBLoader.builder().keyPassphrase("wrong".toCharArray()).build().load(zip));
    assertEquals(Outcome.ERROR, e.getOutcome());
    String passphrase = "correct horse battery staple";
    SCBConfig c = SCBLoader.builder().keyPassphrase(passphrase.toCharArray()).build().load(zip);
    assertNotNull(c.getSslContext());
    // The verifier compares the decrypted key with the certificate when given the passphrase,
    // and warns (does not fail) without it.
    VerificationReport withPass = SCBLoader.verify(zip, null, VerifyOptions.builder().keyPassphrase(passphrase.toCharArray()).build());
    assertTrue(withPass.isValid(), withPass.toString());
    VerificationReport without = SCBLoader.verify(zip, null, VerifyOptions.DEFAULT);
    assertTrue(without.isValid(), without.toString());
    assertTrue(without.getResults().stream().anyMatch(r -> r.getCheck() == VerificationReport.Check.CONSISTENCY
        && r.getStatus() == VerificationReport.Status.WARN), without.toString());
  }

  @Test
  void generatedBundlesLoadInEveryFormat(@TempDir Path tmp) throws Exception {
    for (String[] f : new String[][] {{"zip", "b.zip"}, {"tar.gz", "b.tar.gz"}, {"dir", "b-dir"}}) {
      ScbCli.scb(tmp, "generate", "--cluster", "orders", "--client", "billing-" + f[0].replace(".", ""), "--environment", "development",
          "--contact-point", "10.0.0.5:9042", "--contact-point", "[::1]:9043", "--datacenter", "dc1",
          "--format", f[0], "--out", tmp.resolve(f[1]).toString());
      SCBConfig c = SCBLoader.loadFromBundle(tmp.resolve(f[1]).toString());
      assertEquals("dc1", c.getLocalDatacenter());
      assertEquals(2, c.getContactPoints().size());
      assertEquals("10.0.0.5", c.getContactPoints().get(0).getAddress().getHostAddress());
      assertEquals(9043, c.getContactPoints().get(1).getPort());
      assertEquals("orders", c.getMetadata().getClusterName());
      VerificationReport r = SCBLoader.verify(tmp.resolve(f[1]), null, VerifyOptions.DEFAULT);
      assertTrue(r.isValid(), f[0] + ": " + r);
    }
  }
}
