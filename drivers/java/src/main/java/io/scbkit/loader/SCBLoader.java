package io.scbkit.loader;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Opens scbkit secure connection bundles (zip, tar.gz or directory) and turns them into an {@link
 * SCBConfig}. Nothing is extracted to disk: the archive is read into memory with bounded sizes,
 * safe paths only and no links.
 *
 * <p>Loading checks, in order: the archive; the required files; every file against manifest.json
 * (checksums catch accidents); the signature, the chain, expiry and consistency when trusted keys
 * are given (signatures catch attackers; see {@link Builder#trustedKeys}); metadata and
 * configuration; the client key against its certificate; the certificate's validity now; the chain
 * to the bundle CA. A rejected bundle gives a {@link BundleException} whose {@link Outcome} names
 * the problem.
 *
 * <pre>{@code
 * SCBConfig config = SCBLoader.loadFromBundle("cassandra-scb.zip");
 *
 * SCBConfig verified = SCBLoader.builder()
 *     .trustedKeys(TrustedKeys.read(Path.of("/etc/scb/trusted-keys.jwks.json")))
 *     .credentials("app", password)
 *     .build()
 *     .load(Path.of("cassandra-scb.zip"));
 * }</pre>
 */
public final class SCBLoader {
  /** Environment variable read by {@link #loadFromBundle(String)} for the user name. */
  public static final String ENV_USERNAME = "SCB_USERNAME";
  /** Environment variable read by {@link #loadFromBundle(String)} for the password. */
  public static final String ENV_PASSWORD = "SCB_PASSWORD";

  private final String username;
  private final String password;
  private final Map<String, String> environment;
  private final char[] keyPassphrase;
  private final TrustedKeys trustedKeys;
  private final VerifyOptions verifyOptions;
  private final Limits limits;
  private final Instant now;
  private final boolean insecureAllowExpired;

  private SCBLoader(Builder b) {
    this.username = b.username;
    this.password = b.password;
    this.environment = b.environment;
    this.keyPassphrase = b.keyPassphrase == null ? null : b.keyPassphrase.clone();
    this.trustedKeys = b.trustedKeys;
    this.verifyOptions = b.verifyOptions;
    this.limits = b.limits;
    this.now = b.now;
    this.insecureAllowExpired = b.insecureAllowExpired;
  }

  /**
   * Loads the bundle at path with the defaults. Credentials come from the bundle's config.json
   * when it carries them, else from the environment variables {@value #ENV_USERNAME} and {@value
   * #ENV_PASSWORD} (either may be absent: the getters then return null). The signature is not
   * checked: use {@link #builder()} with {@link Builder#trustedKeys} or {@link SCBConfig#verify}.
   */
  public static SCBConfig loadFromBundle(String path) throws BundleException {
    return loadFromBundle(Paths.get(path));
  }

  /** Like {@link #loadFromBundle(String)}. */
  public static SCBConfig loadFromBundle(Path path) throws BundleException {
    return builder().credentialsFromEnvironment().build().load(path);
  }

  /** Like {@link #loadFromBundle(String)} with explicit credentials, which take precedence. */
  public static SCBConfig loadFromBundle(Path path, String username, String password) throws BundleException {
    return builder().credentials(username, password).build().load(path);
  }

  /**
   * Verifies the bundle at path without loading it: every check of the Go {@code scb verify},
   * each reported separately. Reading problems are the report's archive check.
   */
  public static VerificationReport verify(Path path, TrustedKeys trustedKeys, VerifyOptions options) {
    return Verifier.verifyPath(path, null, trustedKeys, options == null ? VerifyOptions.DEFAULT : options);
  }

  /**
   * Like {@link #verify(Path, TrustedKeys, VerifyOptions)} with a detached signature over the
   * archive bytes (the file NAME.sig written by {@code scb sign --detached}), which is checked
   * before the archive is opened. Only the signature given is checked, never one found next to
   * the file.
   */
  public static VerificationReport verify(Path path, Path detachedSignature, TrustedKeys trustedKeys, VerifyOptions options) {
    VerifyOptions o = options == null ? VerifyOptions.DEFAULT : options;
    byte[] sig = null;
    if (detachedSignature != null) {
      try (InputStream in = Files.newInputStream(detachedSignature)) {
        sig = BundleFiles.readBounded(in, Dsse.MAX_ENVELOPE_SIZE + 1L);
      } catch (IOException e) {
        VerificationReport r = new VerificationReport(o.resolvedNow());
        r.add(VerificationReport.Check.DETACHED_SIGNATURE, VerificationReport.Status.FAIL, Outcome.ERROR,
            "cannot read " + detachedSignature + ": " + BundleFiles.safeMessage(e), null);
        return r;
      }
    }
    return Verifier.verifyPath(path, sig, trustedKeys, o);
  }

  /** A builder with the defaults: no credentials, no signature check, the system clock. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link SCBLoader}s. */
  public static final class Builder {
    private String username;
    private String password;
    private Map<String, String> environment = Collections.emptyMap();
    private char[] keyPassphrase;
    private TrustedKeys trustedKeys;
    private VerifyOptions verifyOptions = VerifyOptions.DEFAULT;
    private Limits limits = Limits.DEFAULT;
    private Instant now;
    private boolean insecureAllowExpired;

    private Builder() {}

    /** Credentials that take precedence over config.json and the environment. */
    public Builder credentials(String username, String password) {
      this.username = username;
      this.password = password;
      return this;
    }

    /** Falls back to {@value #ENV_USERNAME}/{@value #ENV_PASSWORD} from the process environment. */
    public Builder credentialsFromEnvironment() {
      return credentialsFromEnvironment(System.getenv());
    }

    /** Falls back to {@value #ENV_USERNAME}/{@value #ENV_PASSWORD} from the given map (tests). */
    public Builder credentialsFromEnvironment(Map<String, String> env) {
      this.environment = env == null ? Collections.emptyMap() : env;
      return this;
    }

    /**
     * Decrypts certificates/client-key.pem when the bundle was generated with an encrypted key
     * (copied; never printed). Without it, an encrypted key is taken from identity.jks when the
     * bundle has one, and loading fails otherwise.
     */
    public Builder keyPassphrase(char[] passphrase) {
      this.keyPassphrase = passphrase == null ? null : passphrase.clone();
      return this;
    }

    /**
     * Verifies every bundle before using it (signature by one of these keys, manifest, chain,
     * expiry, consistency); a bundle that fails is rejected with the failure's outcome. The keys
     * must come from outside the bundle.
     */
    public Builder trustedKeys(TrustedKeys keys) {
      this.trustedKeys = keys;
      return this;
    }

    /** Options for the verification {@link #trustedKeys} turns on. */
    public Builder verifyOptions(VerifyOptions options) {
      this.verifyOptions = options == null ? VerifyOptions.DEFAULT : options;
      return this;
    }

    /** Archive limits. */
    public Builder limits(Limits limits) {
      this.limits = limits == null ? Limits.DEFAULT : limits;
      return this;
    }

    /** The time for validity checks (null: the system clock). */
    public Builder now(Instant now) {
      this.now = now;
      return this;
    }

    /**
     * Loads bundles whose client certificate has expired or is not valid yet. FOR TESTS ONLY: the
     * cluster refuses such a certificate anyway, and production code must never set it.
     */
    public Builder insecureAllowExpired(boolean allow) {
      this.insecureAllowExpired = allow;
      return this;
    }

    /** The loader. */
    public SCBLoader build() {
      return new SCBLoader(this);
    }
  }

  private static BundleException invalid(Outcome o, String path, String why) {
    return new BundleException(o, path, "invalid bundle: " + why);
  }

  /** Loads the bundle at path (see the class documentation for the checks). */
  public SCBConfig load(Path path) throws BundleException {
    byte[] archive = null;
    BundleFiles b;
    if (Files.isDirectory(path)) {
      b = BundleFiles.read(path, limits);
    } else {
      try {
        long size = Files.size(path);
        if (size > limits.maxArchiveSize()) {
          throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits: archive is " + size + " bytes, more than " + limits.maxArchiveSize());
        }
        try (InputStream in = Files.newInputStream(path)) {
          archive = BundleFiles.readBounded(in, limits.maxArchiveSize() + 1);
        }
      } catch (BundleException e) {
        throw e;
      } catch (IOException e) {
        throw new BundleException(Outcome.ERROR, null, "cannot read bundle " + path + ": " + BundleFiles.safeMessage(e), e);
      }
      if (archive.length > limits.maxArchiveSize()) {
        throw new BundleException(Outcome.TOO_LARGE, null, "archive exceeds size limits");
      }
      b = BundleFiles.decode(archive, limits);
    }
    return load(path, archive, b);
  }

  SCBConfig load(Path path, byte[] archive, BundleFiles b) throws BundleException {
    // 1. Completeness and digests.
    List<String> missing = new ArrayList<>();
    for (String p : List.of(BundleFiles.METADATA, BundleFiles.MANIFEST, BundleFiles.CA_CERT, BundleFiles.CLIENT_CERT,
        BundleFiles.CLIENT_KEY, BundleFiles.CLIENT_YAML)) {
      byte[] d = b.get(p);
      if (d == null || d.length == 0) {
        missing.add(p + (d == null ? ": required file missing" : ": required file is empty"));
      }
    }
    if (!missing.isEmpty()) {
      throw new BundleException(Outcome.INCOMPLETE, null, String.join("; ", missing));
    }
    Manifest manifest = Manifest.parse(b.get(BundleFiles.MANIFEST));
    List<String> mismatch = new ArrayList<>(Manifest.check(b, manifest));
    for (String p : b.paths()) {
      if (!Manifest.covers(p) && !p.equals(BundleFiles.MANIFEST) && !p.equals(BundleFiles.SIGNATURE)) {
        mismatch.add(p + ": file does not match manifest: file not covered by the manifest");
      }
    }
    if (!mismatch.isEmpty()) {
      throw new BundleException(Outcome.DIGEST_MISMATCH, null, String.join("; ", mismatch));
    }
    // 2. Signature and the other checks, when trusted keys are given.
    if (trustedKeys != null) {
      VerifyOptions vo = verifyOptions;
      if (now != null && vo.now() == null) {
        vo = VerifyOptions.builder().now(now).threshold(vo.threshold()).expiryWarning(vo.expiryWarning())
            .keyPassphrase(keyPassphrase).build();
      }
      Verifier.verify(b, trustedKeys, vo).throwIfInvalid();
    }
    // 3. Metadata and configuration.
    Metadata meta = Metadata.parse(b.get(BundleFiles.METADATA));
    ClientConfig cfg = ClientConfig.parse(b.get(BundleFiles.CLIENT_YAML));
    List<String> protocols;
    switch (cfg.minTlsVersion) {
      case "":
      case "1.2":
        protocols = List.of("TLSv1.3", "TLSv1.2");
        break;
      case "1.3":
        protocols = List.of("TLSv1.3");
        break;
      default:
        throw invalid(Outcome.INCONSISTENT, BundleFiles.CLIENT_YAML, "tls: unsupported minimum TLS version (valid: 1.2, 1.3)");
    }
    if (!cfg.serverName.isEmpty()) {
      String why = ClientConfig.Endpoint.problem(cfg.serverName.contains(":") ? cfg.serverName : cfg.serverName + ":1");
      if (why != null) {
        throw invalid(Outcome.INCONSISTENT, BundleFiles.CLIENT_YAML, "tls server_name: " + why);
      }
    }
    List<InetSocketAddress> eps = new ArrayList<>();
    for (String cp : cfg.contactPoints) {
      eps.add(ClientConfig.Endpoint.parse(cp).toSocketAddress());
    }
    for (Metadata.Cluster c : meta.getClusters()) {
      for (String ep : c.getEndpoints()) {
        String why = ClientConfig.Endpoint.problem(ep);
        if (why != null) {
          throw invalid(Outcome.INCONSISTENT, BundleFiles.METADATA, "cluster " + Json.quote(c.getName()) + ": " + why);
        }
      }
    }
    ClientConfig.Cloud cloud = null;
    if (b.has(BundleFiles.CLOUD_CONFIG)) {
      cloud = ClientConfig.parseCloud(b.get(BundleFiles.CLOUD_CONFIG));
    }
    // 4. Certificates and key. The trust anchors come from certificates/ca-cert.pem only.
    List<X509Certificate> roots;
    List<X509Certificate> chain;
    try {
      roots = Pem.certificates(b.get(BundleFiles.CA_CERT));
    } catch (CertificateException e) {
      throw invalid(Outcome.INCONSISTENT, BundleFiles.CA_CERT, e.getMessage());
    }
    try {
      chain = Pem.certificates(b.get(BundleFiles.CLIENT_CERT));
    } catch (CertificateException e) {
      throw invalid(Outcome.INCONSISTENT, BundleFiles.CLIENT_CERT, e.getMessage());
    }
    X509Certificate leaf = chain.get(0);
    Identity identity = identity(b, cloud, chain);
    // 5. Validity, then the chain at a time the leaf is valid.
    Instant t = now == null ? Instant.now() : now;
    Instant nb = leaf.getNotBefore().toInstant();
    Instant na = leaf.getNotAfter().toInstant();
    if (!insecureAllowExpired) {
      if (t.isBefore(nb)) {
        throw new BundleException(Outcome.NOT_YET_VALID, BundleFiles.CLIENT_CERT, "certificate is not yet valid: client certificate valid from " + nb);
      }
      if (t.isAfter(na)) {
        throw new BundleException(Outcome.EXPIRED, BundleFiles.CLIENT_CERT, "certificate has expired: client certificate expired at " + na);
      }
    }
    Instant at = Verifier.clamp(t, nb, na);
    try {
      Verifier.buildPath(leaf, chain.subList(1, chain.size()), roots, at);
    } catch (CertPathBuilderException e) {
      for (X509Certificate c : chain.subList(1, chain.size())) {
        if (at.isAfter(c.getNotAfter().toInstant()) && !insecureAllowExpired) {
          throw new BundleException(Outcome.EXPIRED, BundleFiles.CLIENT_CERT, "certificate has expired: intermediate certificate expired at " + c.getNotAfter().toInstant());
        }
      }
      throw invalid(Outcome.CHAIN_INVALID, BundleFiles.CLIENT_CERT, "client certificate does not chain to " + BundleFiles.CA_CERT);
    } catch (GeneralSecurityException e) {
      throw invalid(Outcome.CHAIN_INVALID, BundleFiles.CLIENT_CERT, "client certificate does not chain to " + BundleFiles.CA_CERT + ": " + BundleFiles.safeMessage(e));
    }
    if (!Verifier.fingerprint(roots.get(0)).equals(meta.getCaFingerprint())) {
      throw invalid(Outcome.INCONSISTENT, BundleFiles.METADATA, "CA fingerprint does not match " + BundleFiles.CA_CERT);
    }
    if (!na.equals(meta.getExpiresAt())) {
      throw invalid(Outcome.INCONSISTENT, BundleFiles.METADATA, "expires_at differs from the client certificate's NotAfter");
    }
    // 6. TLS material and credentials.
    SSLContext ctx = sslContext(identity, roots);
    String user = username;
    String pass = password;
    if (user == null && cloud != null && !cloud.username.isEmpty()) {
      user = cloud.username;
      pass = cloud.password;
    }
    if (user == null) {
      user = environment.get(ENV_USERNAME);
      pass = environment.get(ENV_PASSWORD);
    }
    String dc = cfg.localDatacenter.isEmpty() && cloud != null ? cloud.localDC : cfg.localDatacenter;
    return new SCBConfig(path, archive, b, meta, user, pass, ctx, eps, dc, cfg.hostnameVerification, cfg.serverName, protocols, roots, chain);
  }

  /** A key store holding the client key and chain: from the PEM key, or from identity.jks. */
  private Identity identity(BundleFiles b, ClientConfig.Cloud cloud, List<X509Certificate> chain) throws BundleException {
    X509Certificate leaf = chain.get(0);
    byte[] keyPem = b.get(BundleFiles.CLIENT_KEY);
    boolean encrypted = Pem.isEncryptedKey(keyPem);
    if (encrypted && (keyPassphrase == null || keyPassphrase.length == 0) && cloud != null && b.has(BundleFiles.CLOUD_IDENTITY)) {
      try {
        KeyStore ks = Verifier.loadStore("JKS", b.get(BundleFiles.CLOUD_IDENTITY), cloud.keyStorePassword);
        for (String alias : Collections.list(ks.aliases())) {
          if (ks.isKeyEntry(alias)) {
            java.security.Key k = ks.getKey(alias, cloud.keyStorePassword.toCharArray());
            if (k instanceof PrivateKey && Pem.keyMatches(leaf.getPublicKey(), (PrivateKey) k)) {
              return store((PrivateKey) k, chain);
            }
          }
        }
      } catch (Exception e) {
        throw invalid(Outcome.INCONSISTENT, BundleFiles.CLOUD_IDENTITY, "cannot be opened with keyStorePassword from config.json");
      }
      throw invalid(Outcome.INCONSISTENT, BundleFiles.CLOUD_IDENTITY, "holds no key for the client certificate");
    }
    PrivateKey key;
    try {
      key = Pem.privateKey(keyPem, keyPassphrase);
    } catch (Pem.KeyException e) {
      throw new BundleException(e.passphrase ? Outcome.ERROR : Outcome.INCONSISTENT, BundleFiles.CLIENT_KEY, e.getMessage());
    }
    if (!Pem.keyMatches(leaf.getPublicKey(), key)) {
      throw invalid(Outcome.INCONSISTENT, BundleFiles.CLIENT_KEY, "private key does not match the client certificate");
    }
    return store(key, chain);
  }

  /** An in-memory key store and the random password of its one key entry. */
  private static final class Identity {
    final KeyStore store;
    final char[] password;

    Identity(KeyStore store, char[] password) {
      this.store = store;
      this.password = password;
    }
  }

  private static Identity store(PrivateKey key, List<X509Certificate> chain) throws BundleException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      // In memory only: the store is never written anywhere.
      char[] pw = randomPassword();
      ks.setKeyEntry("client", key, pw, chain.toArray(new X509Certificate[0]));
      return new Identity(ks, pw);
    } catch (GeneralSecurityException | IOException e) {
      throw new BundleException(Outcome.ERROR, BundleFiles.CLIENT_KEY, "cannot build the client key store: " + e.getClass().getSimpleName());
    }
  }

  private static char[] randomPassword() {
    SecureRandom r = new SecureRandom();
    char[] pw = new char[24];
    for (int i = 0; i < pw.length; i++) {
      pw[i] = (char) ('a' + r.nextInt(26));
    }
    return pw;
  }

  private static SSLContext sslContext(Identity identity, List<X509Certificate> roots) throws BundleException {
    char[] pw = identity.password;
    try {
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(identity.store, pw);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate root : roots) {
        trust.setCertificateEntry("scb-ca-" + (i++), root);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new BundleException(Outcome.ERROR, null, "cannot build the SSLContext: " + BundleFiles.safeMessage(e), e);
    } finally {
      Arrays.fill(pw, '\0');
    }
  }

  @Override
  public String toString() {
    return "SCBLoader{trustedKeys=" + trustedKeys + ", limits=" + limits + ", keyPassphrase="
        + (keyPassphrase == null ? "<none>" : "<redacted>") + ", password=" + (password == null ? "<none>" : "<redacted>") + "}";
  }
}
