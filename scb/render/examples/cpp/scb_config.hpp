// Reads the bundle's config/driver-configs/cpp/connection.ini. Standard C++17
// only, no driver headers, so it can be built and tested on its own
// (config_check.cpp). Paths in the file are relative to the bundle root.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace scb {

// The C/C++ driver's CASS_SSL_VERIFY_* bits.
enum VerifyFlag { kPeerCert = 0x01, kPeerIdentity = 0x02, kPeerIdentityDns = 0x04 };

struct Config {
  std::string root;  // bundle directory
  std::string contact_points;
  int port = 0;
  std::string local_datacenter;
  bool token_aware_routing = true;
  bool use_hostname_resolution = false;
  unsigned connect_timeout_ms = 0, request_timeout_ms = 0;
  std::string consistency;  // CASS_CONSISTENCY_*
  unsigned core_connections_per_host = 1;
  std::string retry_policy;  // default | fallthrough
  std::string trusted_cert, cert, private_key;  // relative paths
  bool private_key_encrypted = false;
  int verify_flags = 0;
  std::string min_protocol_version;  // CASS_SSL_VERSION_TLS1_2
  std::string username;
};

using Ini = std::map<std::string, std::map<std::string, std::string>>;

inline std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

inline Ini parse_ini(std::istream& in) {
  Ini ini;
  std::string line, section;
  for (int n = 1; std::getline(in, line); n++) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error("connection.ini line " + std::to_string(n) + ": not key = value");
    ini[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return ini;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline int parse_verify_flags(const std::string& v) {
  int flags = 0;
  std::istringstream s(v);
  for (std::string f; std::getline(s, f, '|');) {
    f = trim(f);
    if (f == "CASS_SSL_VERIFY_PEER_CERT") flags |= kPeerCert;
    else if (f == "CASS_SSL_VERIFY_PEER_IDENTITY") flags |= kPeerIdentity;
    else if (f == "CASS_SSL_VERIFY_PEER_IDENTITY_DNS") flags |= kPeerIdentityDns;
    else throw std::runtime_error("unknown verify flag " + f);
  }
  // Refuse a configuration that would not verify the server certificate.
  if (!(flags & kPeerCert)) throw std::runtime_error("verify_flags lacks CASS_SSL_VERIFY_PEER_CERT");
  return flags;
}

inline Config load(const std::string& root) {
  std::ifstream f(root + "/config/driver-configs/cpp/connection.ini");
  if (!f) throw std::runtime_error("cannot read " + root + "/config/driver-configs/cpp/connection.ini");
  Ini ini = parse_ini(f);
  auto get = [&](const char* sec, const char* key) {
    auto s = ini.find(sec);
    if (s == ini.end() || !s->second.count(key)) throw std::runtime_error(std::string("connection.ini: missing [") + sec + "] " + key);
    return s->second.at(key);
  };
  Config c;
  c.root = root;
  c.contact_points = get("cluster", "contact_points");
  c.port = std::stoi(get("cluster", "port"));
  c.local_datacenter = get("cluster", "local_datacenter");
  c.token_aware_routing = get("cluster", "token_aware_routing") == "true";
  c.use_hostname_resolution = get("cluster", "use_hostname_resolution") == "true";
  c.connect_timeout_ms = std::stoul(get("cluster", "connect_timeout_ms"));
  c.request_timeout_ms = std::stoul(get("cluster", "request_timeout_ms"));
  c.consistency = get("cluster", "consistency");
  c.core_connections_per_host = std::stoul(get("cluster", "core_connections_per_host"));
  c.retry_policy = get("cluster", "retry_policy");
  c.trusted_cert = get("ssl", "trusted_cert");
  c.cert = get("ssl", "cert");
  c.private_key = get("ssl", "private_key");
  c.private_key_encrypted = get("ssl", "private_key_encrypted") == "true";
  c.verify_flags = parse_verify_flags(get("ssl", "verify_flags"));
  c.min_protocol_version = get("ssl", "min_protocol_version");
  c.username = get("auth", "username");
  return c;
}

}  // namespace scb
