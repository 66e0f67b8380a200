package io.scbkit.loader;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The content of a bundle's metadata.json that applications use. Immutable. */
public final class Metadata {
  /** One cluster the bundle connects to. */
  public static final class Cluster {
    private final String name;
    private final List<String> datacenters;
    private final List<String> endpoints;
    private final String role;

    Cluster(String name, List<String> datacenters, List<String> endpoints, String role) {
      this.name = name;
      this.datacenters = Collections.unmodifiableList(datacenters);
      this.endpoints = Collections.unmodifiableList(endpoints);
      this.role = role;
    }

    /** The cluster name. */
    public String getName() {
      return name;
    }

    /** Its datacenters. */
    public List<String> getDatacenters() {
      return datacenters;
    }

    /** Contact points as host:port. */
    public List<String> getEndpoints() {
      return endpoints;
    }

    /** "primary" or "failover". */
    public String getRole() {
      return role;
    }

    @Override
    public String toString() {
      return "Cluster{" + name + " " + role + " " + datacenters + " " + endpoints + "}";
    }
  }

  private final String bundleVersion;
  private final String bundleId;
  private final String clusterName;
  private final String clientId;
  private final String environment;
  private final Instant generatedAt;
  private final Instant expiresAt;
  private final List<String> supportedDrivers;
  private final List<Cluster> clusters;
  private final String caFingerprint;
  private final String gatewayHost;
  private final int gatewayMetadataPort;
  private final int gatewayCqlPort;

  private Metadata(Map<String, Object> m) throws BundleException {
    bundleVersion = str(m, "bundle_version");
    bundleId = str(m, "bundle_id");
    clusterName = str(m, "cluster_name");
    clientId = str(m, "client_id");
    environment = str(m, "environment");
    generatedAt = time(m, "generated_at");
    expiresAt = time(m, "expires_at");
    supportedDrivers = Collections.unmodifiableList(strings(m.get("supported_drivers"), "supported_drivers"));
    List<Cluster> cs = new ArrayList<>();
    Object cl = m.get("clusters");
    if (cl instanceof List) {
      for (Object o : (List<?>) cl) {
        Map<String, Object> c = obj(o, "clusters");
        cs.add(new Cluster(str(c, "name"), strings(c.get("datacenters"), "datacenters"), strings(c.get("endpoints"), "endpoints"), str(c, "role")));
      }
    } else if (cl != null && cl != Json.NULL) {
      throw bad("member \"clusters\" has the wrong type");
    }
    clusters = Collections.unmodifiableList(cs);
    Map<String, Object> ca = obj(m.get("ca"), "ca");
    caFingerprint = str(ca, "fingerprint_sha256");
    str(ca, "subject");
    time(ca, "not_after");
    Map<String, Object> cc = obj(m.get("client_certificate"), "client_certificate");
    for (String f : new String[] {"subject", "serial", "fingerprint_sha256", "key_type"}) {
      str(cc, f);
    }
    time(cc, "not_before");
    time(cc, "not_after");
    Map<String, Object> gw = obj(m.get("gateway"), "gateway");
    gatewayHost = str(gw, "host");
    gatewayMetadataPort = integer(gw, "metadata_port");
    gatewayCqlPort = integer(gw, "cql_port");
    obj(m.get("generator"), "generator");
    obj(m.get("parameters"), "parameters");
    if (bundleVersion.isEmpty()) {
      throw bad("bundle_version missing");
    }
    if (bundleVersion.charAt(0) != '1') {
      throw bad("unsupported bundle_version " + Json.quote(bundleVersion) + " (this reader supports 1.0)");
    }
    if (clusterName.isEmpty() || clientId.isEmpty() || expiresAt == null) {
      throw bad("cluster_name, client_id and expires_at are required");
    }
  }

  /** Parses metadata.json with the rules of the Go reader. */
  @SuppressWarnings("unchecked")
  static Metadata parse(byte[] data) throws BundleException {
    Object v;
    try {
      v = Json.parseFirst(data);
    } catch (Json.JsonException e) {
      throw bad("malformed metadata: " + e.getMessage());
    }
    if (!(v instanceof Map)) {
      throw bad("malformed metadata: not a JSON object");
    }
    return new Metadata((Map<String, Object>) v);
  }

  private static BundleException bad(String why) {
    return new BundleException(Outcome.MALFORMED_METADATA, BundleFiles.METADATA, "invalid bundle: " + why);
  }

  private static String str(Map<String, Object> m, String name) throws BundleException {
    Object v = m.get(name);
    if (v == null || v == Json.NULL) {
      return "";
    }
    if (!(v instanceof String)) {
      throw bad("malformed metadata: member " + Json.quote(name) + " has the wrong type");
    }
    return (String) v;
  }

  private static int integer(Map<String, Object> m, String name) throws BundleException {
    Object v = m.get(name);
    if (v == null || v == Json.NULL) {
      return 0;
    }
    java.math.BigInteger n = v instanceof Json.Num ? ((Json.Num) v).integer() : null;
    if (n == null || n.bitLength() > 63) {
      throw bad("malformed metadata: member " + Json.quote(name) + " has the wrong type");
    }
    return n.intValue();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> obj(Object v, String name) throws BundleException {
    if (v == null || v == Json.NULL) {
      return Map.of();
    }
    if (!(v instanceof Map)) {
      throw bad("malformed metadata: member " + Json.quote(name) + " has the wrong type");
    }
    return (Map<String, Object>) v;
  }

  private static List<String> strings(Object v, String name) throws BundleException {
    List<String> out = new ArrayList<>();
    if (v == null || v == Json.NULL) {
      return out;
    }
    if (!(v instanceof List)) {
      throw bad("malformed metadata: member " + Json.quote(name) + " has the wrong type");
    }
    for (Object o : (List<?>) v) {
      if (o == Json.NULL) {
        out.add("");
      } else if (o instanceof String) {
        out.add((String) o);
      } else {
        throw bad("malformed metadata: member " + Json.quote(name) + " has the wrong type");
      }
    }
    return out;
  }

  private static final Pattern RFC3339 =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");

  /** An RFC 3339 time; null for absent, JSON null or the zero time. */
  private static Instant time(Map<String, Object> m, String name) throws BundleException {
    Object v = m.get(name);
    if (v == null || v == Json.NULL) {
      return null;
    }
    if (!(v instanceof String) || !RFC3339.matcher((String) v).matches()) {
      throw bad("malformed metadata: member " + Json.quote(name) + " is not an RFC 3339 time");
    }
    try {
      Instant t = OffsetDateTime.parse((String) v, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
      return t.equals(Instant.parse("0001-01-01T00:00:00Z")) ? null : t;
    } catch (DateTimeParseException e) {
      throw bad("malformed metadata: member " + Json.quote(name) + " is not an RFC 3339 time");
    }
  }

  /** bundle_version, e.g. "1.0". */
  public String getBundleVersion() {
    return bundleVersion;
  }

  /** bundle_id. */
  public String getBundleId() {
    return bundleId;
  }

  /** cluster_name. */
  public String getClusterName() {
    return clusterName;
  }

  /** client_id. */
  public String getClientId() {
    return clientId;
  }

  /** environment (development, staging, production, testing). */
  public String getEnvironment() {
    return environment;
  }

  /** generated_at, or null. */
  public Instant getGeneratedAt() {
    return generatedAt;
  }

  /** expires_at: the client certificate's NotAfter. */
  public Instant getExpiresAt() {
    return expiresAt;
  }

  /** supported_drivers. */
  public List<String> getSupportedDrivers() {
    return supportedDrivers;
  }

  /** clusters, the primary one first as written. */
  public List<Cluster> getClusters() {
    return clusters;
  }

  /** ca.fingerprint_sha256: lower-case hex SHA-256 of the first CA certificate's DER. */
  public String getCaFingerprint() {
    return caFingerprint;
  }

  /** gateway.host: where the scbkit gateway for stock-driver bundle mode runs. */
  public String getGatewayHost() {
    return gatewayHost;
  }

  /** gateway.metadata_port. */
  public int getGatewayMetadataPort() {
    return gatewayMetadataPort;
  }

  /** gateway.cql_port. */
  public int getGatewayCqlPort() {
    return gatewayCqlPort;
  }

  @Override
  public String toString() {
    return "Metadata{cluster=" + clusterName + ", client=" + clientId + ", environment=" + environment
        + ", bundleId=" + bundleId + ", expiresAt=" + expiresAt + "}";
  }
}
