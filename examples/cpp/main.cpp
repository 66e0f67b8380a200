// Connects to Cassandra over mutual TLS with the DataStax C/C++ driver and the
// bundle's connection.ini, writes a row and reads it back.
// Usage: ./example [BUNDLE_DIR]  (default $SCB_BUNDLE, else "."; extract a zip first).
// Credentials come from SCB_USERNAME and SCB_PASSWORD. Exit codes: 0 ok,
// 1 other error, 2 bad bundle or usage, 3 authentication failed, 4 TLS failed,
// 5 no host available, 6 timed out.
#include <cassandra.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <regex>
#include <thread>

#include "scb_config.hpp"

static const std::map<std::string, CassConsistency> kConsistency = {
    {"CASS_CONSISTENCY_ONE", CASS_CONSISTENCY_ONE}, {"CASS_CONSISTENCY_QUORUM", CASS_CONSISTENCY_QUORUM},
    {"CASS_CONSISTENCY_ALL", CASS_CONSISTENCY_ALL}, {"CASS_CONSISTENCY_LOCAL_QUORUM", CASS_CONSISTENCY_LOCAL_QUORUM},
    {"CASS_CONSISTENCY_EACH_QUORUM", CASS_CONSISTENCY_EACH_QUORUM}, {"CASS_CONSISTENCY_LOCAL_ONE", CASS_CONSISTENCY_LOCAL_ONE},
    {"CASS_CONSISTENCY_TWO", CASS_CONSISTENCY_TWO}, {"CASS_CONSISTENCY_THREE", CASS_CONSISTENCY_THREE},
    {"CASS_CONSISTENCY_ANY", CASS_CONSISTENCY_ANY}};

static int classify(CassError rc) {
  switch (rc) {
    case CASS_ERROR_SERVER_BAD_CREDENTIALS: return 3;
    case CASS_ERROR_SSL_INVALID_CERT: case CASS_ERROR_SSL_INVALID_PRIVATE_KEY: case CASS_ERROR_SSL_NO_PEER_CERT:
    case CASS_ERROR_SSL_INVALID_PEER_CERT: case CASS_ERROR_SSL_IDENTITY_MISMATCH: case CASS_ERROR_SSL_PROTOCOL_ERROR:
      return 4;
    case CASS_ERROR_LIB_NO_HOSTS_AVAILABLE: return 5;
    case CASS_ERROR_LIB_REQUEST_TIMED_OUT: case CASS_ERROR_SERVER_READ_TIMEOUT: case CASS_ERROR_SERVER_WRITE_TIMEOUT: return 6;
    default: return 1;
  }
}

static int fail(CassFuture* f, const char* what) {
  const char* msg; size_t len;
  cass_future_error_message(f, &msg, &len);
  CassError rc = cass_future_error_code(f);
  std::cerr << what << ": " << cass_error_desc(rc) << ": " << std::string(msg, len) << "\n";
  return classify(rc);
}

// Executes a statement, retrying idempotent requests on timeouts with backoff.
static CassError run(CassSession* s, CassStatement* st, const CassResult** out) {
  cass_statement_set_is_idempotent(st, cass_true);
  for (int attempt = 1;; attempt++) {
    CassFuture* f = cass_session_execute(s, st);
    CassError rc = cass_future_error_code(f);
    if (rc == CASS_OK && out) *out = cass_future_get_result(f);
    if (rc != CASS_OK && (classify(rc) != 6 || attempt == 3)) fail(f, "request failed");
    cass_future_free(f);
    if (rc == CASS_OK || classify(rc) != 6 || attempt == 3) { cass_statement_free(st); return rc; }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
  }
}

int main(int argc, char** argv) {
  const char* user = std::getenv("SCB_USERNAME"); const char* pass = std::getenv("SCB_PASSWORD");
  std::string ks = std::getenv("SCB_KEYSPACE") ? std::getenv("SCB_KEYSPACE") : "scb_examples";
  if (!user || !pass || !std::regex_match(ks, std::regex("[A-Za-z][A-Za-z0-9_]{0,47}"))) {
    std::cerr << "set SCB_USERNAME and SCB_PASSWORD (and a plain SCB_KEYSPACE)\n";
    return 2;
  }
  scb::Config c;
  std::string ca, cert, key;
  try {
    c = scb::load(argc > 1 ? argv[1] : (std::getenv("SCB_BUNDLE") ? std::getenv("SCB_BUNDLE") : "."));
    ca = scb::read_file(c.root + "/" + c.trusted_cert);  // cass_ssl_* take contents
    cert = scb::read_file(c.root + "/" + c.cert);
    key = scb::read_file(c.root + "/" + c.private_key);
  } catch (const std::exception& e) {
    std::cerr << "bundle: " << e.what() << "\n";
    return 2;
  }
  const char* keypass = std::getenv("SCB_KEY_PASSPHRASE");
  CassSsl* ssl = cass_ssl_new();
  if (cass_ssl_add_trusted_cert(ssl, ca.c_str()) != CASS_OK || cass_ssl_set_cert(ssl, cert.c_str()) != CASS_OK ||
      cass_ssl_set_private_key(ssl, key.c_str(), keypass ? keypass : "") != CASS_OK) {
    std::cerr << "bundle: cannot load the certificates or key\n";
    return 2;
  }
  cass_ssl_set_verify_flags(ssl, c.verify_flags);
  cass_ssl_set_min_protocol_version(ssl, CASS_SSL_VERSION_TLS1_2);  // the highest minimum the driver offers

  CassCluster* cluster = cass_cluster_new();
  cass_cluster_set_ssl(cluster, ssl);
  cass_cluster_set_contact_points(cluster, c.contact_points.c_str());
  cass_cluster_set_port(cluster, c.port);
  cass_cluster_set_credentials(cluster, user, pass);
  cass_cluster_set_load_balance_dc_aware(cluster, c.local_datacenter.c_str(), 0, cass_false);
  cass_cluster_set_token_aware_routing(cluster, c.token_aware_routing ? cass_true : cass_false);
  cass_cluster_set_use_hostname_resolution(cluster, c.use_hostname_resolution ? cass_true : cass_false);
  cass_cluster_set_connect_timeout(cluster, c.connect_timeout_ms);
  cass_cluster_set_request_timeout(cluster, c.request_timeout_ms);
  cass_cluster_set_consistency(cluster, kConsistency.at(c.consistency));
  cass_cluster_set_core_connections_per_host(cluster, c.core_connections_per_host);
  CassRetryPolicy* retry = c.retry_policy == "default" ? cass_retry_policy_default_new() : cass_retry_policy_fallthrough_new();
  cass_cluster_set_retry_policy(cluster, retry);

  CassSession* session = cass_session_new();
  CassFuture* connect = cass_session_connect(session, cluster);
  int code = 0;
  if (cass_future_error_code(connect) != CASS_OK) {
    code = fail(connect, "connect failed (3 = login, 4 = TLS, 5 = no host)");
  } else {
    std::string dc = c.local_datacenter;
    const CassResult* result = nullptr;
    CassStatement* ins = cass_statement_new(("INSERT INTO " + ks + ".messages (driver, message, written_at) VALUES (?, ?, toTimestamp(now()))").c_str(), 2);
    cass_statement_bind_string(ins, 0, "cpp");
    cass_statement_bind_string(ins, 1, "hello from the C/C++ driver");
    CassStatement* sel = cass_statement_new(("SELECT message FROM " + ks + ".messages WHERE driver = 'cpp'").c_str(), 0);
    CassError rc = run(session, cass_statement_new(("CREATE KEYSPACE IF NOT EXISTS " + ks + " WITH replication = {'class': 'NetworkTopologyStrategy', '" + dc + "': 1}").c_str(), 0), nullptr);
    if (rc == CASS_OK) rc = run(session, cass_statement_new(("CREATE TABLE IF NOT EXISTS " + ks + ".messages (driver text PRIMARY KEY, message text, written_at timestamp)").c_str(), 0), nullptr);
    if (rc == CASS_OK) rc = run(session, ins, nullptr); else cass_statement_free(ins);
    if (rc == CASS_OK) rc = run(session, sel, &result); else cass_statement_free(sel);
    if (rc != CASS_OK) {
      code = classify(rc);
    } else if (const CassRow* row = cass_result_first_row(result)) {
      const char* msg; size_t len;
      cass_value_get_string(cass_row_get_column(row, 0), &msg, &len);
      std::cout << "read back: driver=cpp message=\"" << std::string(msg, len) << "\"\n";
    } else {
      std::cerr << "row not found after write\n";
      code = 1;
    }
    if (result) cass_result_free(result);
    CassFuture* close = cass_session_close(session);
    cass_future_wait(close);
    cass_future_free(close);
  }
  cass_future_free(connect);
  cass_session_free(session);
  cass_retry_policy_free(retry);
  cass_cluster_free(cluster);
  cass_ssl_free(ssl);
  return code;
}
