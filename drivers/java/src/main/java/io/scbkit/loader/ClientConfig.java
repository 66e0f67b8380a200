package io.scbkit.loader;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * config/cassandra.yaml (the driver-neutral client configuration) and config.json (the stock
 * drivers' file), parsed with the Go reader's rules. Never prints passwords.
 */
final class ClientConfig {
  static final String FORMAT = "scb-client/1";

  List<String> contactPoints = new ArrayList<>();
  String localDatacenter = "";
  String caCert = "";
  String clientCert = "";
  String clientKey = "";
  boolean clientKeyEncrypted;
  boolean hostnameVerification;
  String minTlsVersion = "";
  String serverName = "";

  private static BundleException bad(String why) {
    return new BundleException(Outcome.INCONSISTENT, BundleFiles.CLIENT_YAML, "invalid bundle: " + why);
  }

  @SuppressWarnings("unchecked")
  static ClientConfig parse(byte[] data) throws BundleException {
    Map<String, Object> m;
    try {
      m = Yaml.parseMapping(data);
    } catch (Yaml.YamlException e) {
      throw bad("malformed YAML: " + e.getMessage());
    }
    ClientConfig c = new ClientConfig();
    if (!FORMAT.equals(m.get("format"))) {
      throw bad("unsupported format");
    }
    Object cps = m.get("contact_points");
    if (cps instanceof List) {
      for (Object o : (List<Object>) cps) {
        if (!(o instanceof String)) {
          throw bad("contact_points must be strings");
        }
        c.contactPoints.add((String) o);
      }
    } else if (cps != null) {
      throw bad("contact_points must be a list");
    }
    if (c.contactPoints.isEmpty()) {
      throw bad("no contact points");
    }
    for (String cp : c.contactPoints) {
      String why = Endpoint.problem(cp);
      if (why != null) {
        throw bad(why);
      }
    }
    c.localDatacenter = str(m, "local_datacenter");
    Object tls = m.get("tls");
    Map<String, Object> t = tls instanceof Map ? (Map<String, Object>) tls : Map.of();
    if (tls != null && !(tls instanceof Map)) {
      throw bad("tls must be a mapping");
    }
    c.caCert = str(t, "ca_cert");
    c.clientCert = str(t, "client_cert");
    c.clientKey = str(t, "client_key");
    c.clientKeyEncrypted = bool(t, "client_key_encrypted");
    c.hostnameVerification = bool(t, "hostname_verification");
    c.minTlsVersion = str(t, "min_version");
    c.serverName = str(t, "server_name");
    for (String p : new String[] {c.caCert, c.clientCert, c.clientKey}) {
      String why = BundleFiles.pathProblem(p);
      if (why != null) {
        throw bad("tls path: unsafe path: " + why);
      }
    }
    return c;
  }

  private static String str(Map<String, Object> m, String k) throws BundleException {
    Object v = m.get(k);
    if (v == null) {
      return "";
    }
    if (!(v instanceof String)) {
      throw bad(k + " must be a scalar");
    }
    return (String) v;
  }

  private static boolean bool(Map<String, Object> m, String k) throws BundleException {
    Object v = m.get(k);
    if (v == null) {
      return false;
    }
    if ("true".equals(v) || "True".equals(v) || "TRUE".equals(v)) {
      return true;
    }
    if ("false".equals(v) || "False".equals(v) || "FALSE".equals(v)) {
      return false;
    }
    throw bad(k + " must be true or false");
  }

  /** config.json. */
  static final class Cloud {
    String host = "";
    int port;
    int cqlPort;
    String localDC = "";
    String keyStorePassword = "";
    String trustStorePassword = "";
    String pfxCertPassword = "";
    String username = "";
    String password = "";

    @Override
    public String toString() {
      return "CloudConfig{host:" + host + " port:" + port + " cql_port:" + cqlPort + " passwords:<redacted>}";
    }
  }

  /** Parses config.json; errors never echo its content. */
  @SuppressWarnings("unchecked")
  static Cloud parseCloud(byte[] data) throws BundleException {
    BundleException bad = new BundleException(Outcome.INCONSISTENT, BundleFiles.CLOUD_CONFIG, "invalid bundle: malformed JSON or wrong field type");
    Object v;
    try {
      v = Json.parse(data, false);
    } catch (Json.JsonException e) {
      throw bad;
    }
    if (!(v instanceof Map)) {
      throw bad;
    }
    Map<String, Object> m = (Map<String, Object>) v;
    Cloud c = new Cloud();
    try {
      c.host = s(m, "host");
      c.port = i(m, "port");
      c.cqlPort = i(m, "cql_port");
      c.localDC = s(m, "localDC");
      for (String k : new String[] {"caCertLocation", "keyLocation", "certLocation", "keyStoreLocation", "trustStoreLocation"}) {
        s(m, k);
      }
      c.keyStorePassword = s(m, "keyStorePassword");
      c.trustStorePassword = s(m, "trustStorePassword");
      c.pfxCertPassword = s(m, "pfxCertPassword");
      c.username = s(m, "username");
      c.password = s(m, "password");
    } catch (IllegalArgumentException e) {
      throw bad;
    }
    if (c.host.isEmpty() || c.port <= 0 || c.port > 65535) {
      throw new BundleException(Outcome.INCONSISTENT, BundleFiles.CLOUD_CONFIG, "invalid bundle: host and an integer port are required");
    }
    return c;
  }

  private static String s(Map<String, Object> m, String k) {
    Object v = m.get(k);
    if (v == null || v == Json.NULL) {
      return "";
    }
    if (!(v instanceof String)) {
      throw new IllegalArgumentException();
    }
    return (String) v;
  }

  private static int i(Map<String, Object> m, String k) {
    Object v = m.get(k);
    if (v == null || v == Json.NULL) {
      return 0;
    }
    BigInteger n = v instanceof Json.Num ? ((Json.Num) v).integer() : null;
    if (n == null || n.bitLength() > 63) {
      throw new IllegalArgumentException();
    }
    return n.bitLength() > 31 ? -1 : n.intValue();
  }

  /** Endpoint parsing: HOST:PORT or [V6]:PORT, an IP address or a DNS name, port 1..65535. */
  static final class Endpoint {
    final String host;
    final int port;

    private Endpoint(String host, int port) {
      this.host = host;
      this.port = port;
    }

    static String problem(String s) {
      try {
        parse(s);
        return null;
      } catch (IllegalArgumentException e) {
        return e.getMessage();
      }
    }

    static Endpoint parse(String raw) {
      String s = raw.strip();
      String bad = "malformed endpoint " + Json.quote(raw) + ": ";
      String hint = " (want HOST:PORT, e.g. 10.0.0.5:9042)";
      if (s.isEmpty()) {
        throw new IllegalArgumentException(bad + "empty" + hint);
      }
      String h;
      String p;
      if (s.startsWith("[")) {
        int e = s.indexOf(']');
        if (e < 0 || e + 1 >= s.length() || s.charAt(e + 1) != ':') {
          throw new IllegalArgumentException(bad + "missing or invalid port" + hint);
        }
        h = s.substring(1, e);
        p = s.substring(e + 2);
        if (h.contains("[") || h.contains("]") || p.contains("[") || p.contains("]")) {
          throw new IllegalArgumentException(bad + "missing or invalid port" + hint);
        }
      } else {
        int c = s.lastIndexOf(':');
        if (c < 0 || s.indexOf(':') != c || s.contains("[") || s.contains("]")) {
          throw new IllegalArgumentException(bad + "missing or invalid port" + hint);
        }
        h = s.substring(0, c);
        p = s.substring(c + 1);
      }
      int port;
      try {
        port = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(bad + "port must be a number from 1 to 65535" + hint);
      }
      if (h.isEmpty()) {
        throw new IllegalArgumentException(bad + "empty host" + hint);
      }
      if (!isIPv4(h) && !isIPv6(h) && !validDnsName(h)) {
        throw new IllegalArgumentException(bad + "host is neither an IP address nor a DNS name" + hint);
      }
      return new Endpoint(h, port);
    }

    /** The address: IP literals without any lookup; DNS names resolved now (unresolved if that fails). */
    InetSocketAddress toSocketAddress() {
      if (isIPv4(host) || isIPv6(host)) {
        try {
          return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
          throw new IllegalStateException("IP literal did not parse", e);
        }
      }
      return new InetSocketAddress(host, port);
    }

    static boolean isIPv4(String h) {
      String[] parts = h.split("\\.", -1);
      if (parts.length != 4) {
        return false;
      }
      for (String part : parts) {
        if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
          return false;
        }
        for (char c : part.toCharArray()) {
          if (c < '0' || c > '9') {
            return false;
          }
        }
        if (Integer.parseInt(part) > 255) {
          return false;
        }
      }
      return true;
    }

    static boolean isIPv6(String h) {
      if (h.indexOf(':') < 0) {
        return false;
      }
      String s = h;
      int groupsNeeded = 8;
      int lastColon = s.lastIndexOf(':');
      String tail = s.substring(lastColon + 1);
      if (tail.contains(".")) {
        if (!isIPv4(tail)) {
          return false;
        }
        s = s.substring(0, lastColon + 1) + "0:0";
      }
      int dbl = s.indexOf("::");
      if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) {
        return false;
      }
      String[] halves = dbl >= 0 ? new String[] {s.substring(0, dbl), s.substring(dbl + 2)} : new String[] {s};
      int groups = 0;
      for (String half : halves) {
        if (half.isEmpty()) {
          continue;
        }
        for (String g : half.split(":", -1)) {
          if (g.isEmpty() || g.length() > 4) {
            return false;
          }
          for (char c : g.toCharArray()) {
            if (Character.digit(c, 16) < 0 || c > 'f' && c > 'F') {
              return false;
            }
          }
          groups++;
        }
      }
      return dbl >= 0 ? groups < groupsNeeded : groups == groupsNeeded;
    }

    static boolean validDnsName(String h) {
      if (h.length() > 253 || h.startsWith(".") || h.endsWith(".")) {
        return false;
      }
      for (String label : h.split("\\.", -1)) {
        if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
          return false;
        }
        for (char r : label.toCharArray()) {
          if (!(r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))) {
            return false;
          }
        }
      }
      return true;
    }
  }
}
