package scbkit.check;

import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.DriverExecutionProfile;
import java.nio.file.Paths;

/**
 * Loads application.conf exactly as an application would (DriverConfigLoader.fromPath, which
 * merges system properties and the driver's reference.conf and resolves substitutions) and
 * prints the values scbkit promises, one key=value per line. Store passwords and credentials
 * are given as dummy system properties so that the substitutions resolve.
 */
public final class ConfigCheck {
  public static void main(String[] args) {
    System.setProperty("scb.bundle-dir", args[1]);
    System.setProperty("scb.keystore-password", "ks-dummy");
    System.setProperty("scb.truststore-password", "ts-dummy");
    System.setProperty("scb.username", "user-dummy");
    System.setProperty("scb.password", "pw-dummy");
    DriverExecutionProfile p = DriverConfigLoader.fromPath(Paths.get(args[0])).getInitialConfig().getDefaultProfile();
    out("contact_points", String.join(",", p.getStringList(DefaultDriverOption.CONTACT_POINTS)));
    out("local_datacenter", p.getString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER));
    out("load_balancing_class", p.getString(DefaultDriverOption.LOAD_BALANCING_POLICY_CLASS));
    out("request_timeout_ms", p.getDuration(DefaultDriverOption.REQUEST_TIMEOUT).toMillis());
    out("consistency", p.getString(DefaultDriverOption.REQUEST_CONSISTENCY));
    out("connect_timeout_ms", p.getDuration(DefaultDriverOption.CONNECTION_CONNECT_TIMEOUT).toMillis());
    out("init_query_timeout_ms", p.getDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT).toMillis());
    out("pool_local_size", p.getInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE));
    out("retry_class", p.getString(DefaultDriverOption.RETRY_POLICY_CLASS));
    out("compression", p.getString(DefaultDriverOption.PROTOCOL_COMPRESSION));
    out("auth_class", p.getString(DefaultDriverOption.AUTH_PROVIDER_CLASS));
    out("auth_username", p.getString(DefaultDriverOption.AUTH_PROVIDER_USER_NAME));
    out("auth_password_set", p.getString(DefaultDriverOption.AUTH_PROVIDER_PASSWORD).equals("pw-dummy"));
    out("ssl_class", p.getString(DefaultDriverOption.SSL_ENGINE_FACTORY_CLASS));
    out("hostname_validation", p.getBoolean(DefaultDriverOption.SSL_HOSTNAME_VALIDATION));
    out("truststore_path", p.getString(DefaultDriverOption.SSL_TRUSTSTORE_PATH));
    out("keystore_path", p.getString(DefaultDriverOption.SSL_KEYSTORE_PATH));
    out("truststore_password_set", p.getString(DefaultDriverOption.SSL_TRUSTSTORE_PASSWORD).equals("ts-dummy"));
    out("keystore_password_set", p.getString(DefaultDriverOption.SSL_KEYSTORE_PASSWORD).equals("ks-dummy"));
  }

  static void out(String k, Object v) {
    System.out.println(k + "=" + v);
  }
}
