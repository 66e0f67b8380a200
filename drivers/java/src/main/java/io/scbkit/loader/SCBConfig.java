package io.scbkit.loader;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * A loaded, checked secure connection bundle: everything a Cassandra driver needs to connect. Get
 * one from {@link SCBLoader}. Immutable and safe to share between threads.
 *
 * <p>Two ways to connect with the DataStax Java driver 4.x:
 *
 * <pre>{@code
 * SCBConfig config = SCBLoader.loadFromBundle("cassandra-scb.zip");
 *
 * // 1. Stock-driver bundle mode, through the scbkit gateway named in config.json:
 * CqlSession viaGateway = CqlSession.builder()
 *     .withCloudSecureConnectBundle(config.getBundlePath())
 *     .withAuthCredentials(config.getUsername(), config.getPassword())
 *     .build();
 *
 * // 2. Direct mutual TLS to the contact points, trusting only the bundle CA:
 * CqlSession direct = CqlSession.builder()
 *     .withSslEngineFactory(new ProgrammaticSslEngineFactory(config.getSslContext(), null, config.isHostnameVerification()))
 *     .addContactPoints(config.getContactPoints())
 *     .withLocalDatacenter(config.getLocalDatacenter())
 *     .withAuthCredentials(config.getUsername(), config.getPassword())
 *     .build();
 * }</pre>
 *
 * <p>The password and the private key never appear in {@link #toString()}.
 */
public final class SCBConfig {
  private final Path bundlePath;
  private final byte[] archive;
  private final BundleFiles files;
  private final Metadata metadata;
  private final String username;
  private final String password;
  private final SSLContext sslContext;
  private final List<InetSocketAddress> contactPoints;
  private final String localDatacenter;
  private final boolean hostnameVerification;
  private final String serverName;
  private final List<String> tlsProtocols;
  private final List<X509Certificate> caCertificates;
  private final List<X509Certificate> clientCertificateChain;

  SCBConfig(Path bundlePath, byte[] archive, BundleFiles files, Metadata metadata, String username, String password,
      SSLContext sslContext, List<InetSocketAddress> contactPoints, String localDatacenter, boolean hostnameVerification,
      String serverName, List<String> tlsProtocols, List<X509Certificate> caCertificates, List<X509Certificate> clientCertificateChain) {
    this.bundlePath = bundlePath;
    this.archive = archive;
    this.files = files;
    this.metadata = metadata;
    this.username = username;
    this.password = password;
    this.sslContext = sslContext;
    this.contactPoints = Collections.unmodifiableList(contactPoints);
    this.localDatacenter = localDatacenter;
    this.hostnameVerification = hostnameVerification;
    this.serverName = serverName;
    this.tlsProtocols = Collections.unmodifiableList(tlsProtocols);
    this.caCertificates = Collections.unmodifiableList(caCertificates);
    this.clientCertificateChain = Collections.unmodifiableList(clientCertificateChain);
  }

  /**
   * The bundle file or directory this configuration was loaded from. The stock driver's {@code
   * withCloudSecureConnectBundle(Path)} needs a zip file; prefer {@link #openBundle()}, which
   * hands the driver exactly the bytes that were checked.
   */
  public Path getBundlePath() {
    return bundlePath;
  }

  /**
   * The archive bytes that were read and checked, for {@code withCloudSecureConnectBundle(InputStream)}:
   * the driver then sees what was verified even if the file changes afterwards. Null when the
   * bundle was loaded from a directory.
   */
  public InputStream openBundle() {
    return archive == null ? null : new ByteArrayInputStream(archive);
  }

  /** The user name for PasswordAuthenticator, or null when none was given or found. */
  public String getUsername() {
    return username;
  }

  /** The password for PasswordAuthenticator, or null. Never printed by this class. */
  public String getPassword() {
    return password;
  }

  /**
   * An SSLContext whose key manager presents the bundle's client certificate and whose trust
   * manager trusts the bundle CA ({@code certificates/ca-cert.pem}) and nothing else. Host-name
   * verification is the SSLEngine's business: the driver's {@code
   * ProgrammaticSslEngineFactory(ctx, null, true)} turns it on.
   */
  public SSLContext getSslContext() {
    return sslContext;
  }

  /** The contact points of config/cassandra.yaml, in order. */
  public List<InetSocketAddress> getContactPoints() {
    return contactPoints;
  }

  /** The client's local datacenter. */
  public String getLocalDatacenter() {
    return localDatacenter;
  }

  /** Whether the bundle asks for server host-name verification (true unless generated for tests). */
  public boolean isHostnameVerification() {
    return hostnameVerification;
  }

  /** The name to verify server certificates against instead of each contact point's host, or null. */
  public String getServerName() {
    return serverName == null || serverName.isEmpty() ? null : serverName;
  }

  /** The TLS protocol versions the bundle allows, newest first (e.g. TLSv1.3, TLSv1.2). */
  public List<String> getTlsProtocols() {
    return tlsProtocols;
  }

  /** The bundle's trust anchors (certificates/ca-cert.pem). */
  public List<X509Certificate> getCaCertificates() {
    return caCertificates;
  }

  /** The client certificate followed by its intermediates. */
  public List<X509Certificate> getClientCertificateChain() {
    return clientCertificateChain;
  }

  /** The parsed metadata.json. */
  public Metadata getMetadata() {
    return metadata;
  }

  /**
   * Verifies the loaded bundle against trusted keys from outside it, at the current time: the
   * manifest digests, the DSSE signature, the certificate chain, expiry and consistency. Returns
   * the report (which may carry warnings) when every check passed.
   *
   * @throws BundleException with the first failure's {@link Outcome} otherwise
   */
  public VerificationReport verify(TrustedKeys trustedKeys) throws BundleException {
    return verify(trustedKeys, VerifyOptions.DEFAULT);
  }

  /** Like {@link #verify(TrustedKeys)} with options (verification time, threshold...). */
  public VerificationReport verify(TrustedKeys trustedKeys, VerifyOptions options) throws BundleException {
    VerificationReport r = verificationReport(trustedKeys, options);
    r.throwIfInvalid();
    return r;
  }

  /** Runs every check and returns the report without throwing. */
  public VerificationReport verificationReport(TrustedKeys trustedKeys, VerifyOptions options) {
    return Verifier.verify(files, trustedKeys, options == null ? VerifyOptions.DEFAULT : options);
  }

  @Override
  public String toString() {
    return "SCBConfig{bundle=" + bundlePath + ", cluster=" + metadata.getClusterName() + ", client=" + metadata.getClientId()
        + ", contactPoints=" + contactPoints + ", localDatacenter=" + localDatacenter + ", username=" + username
        + ", password=" + (password == null ? "<none>" : "<redacted>") + ", key=<redacted>}";
  }
}
