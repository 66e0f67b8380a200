// Parses the bundle's connection.ini with scb_config.hpp alone (no driver)
// and prints what the driver would be given. Build and run:
//   g++ -std=c++17 -o config_check config_check.cpp && ./config_check BUNDLE_DIR
#include <iostream>

#include "scb_config.hpp"

int main(int argc, char** argv) {
  try {
    scb::Config c = scb::load(argc > 1 ? argv[1] : ".");
    // The certificate files must be readable PEM.
    for (const auto& p : {c.trusted_cert, c.cert, c.private_key}) {
      if (scb::read_file(c.root + "/" + p).find("-----BEGIN ") == std::string::npos) throw std::runtime_error(p + " is not PEM");
    }
    std::cout << "contact_points=" << c.contact_points << "\nport=" << c.port
              << "\nlocal_datacenter=" << c.local_datacenter << "\nconnect_timeout_ms=" << c.connect_timeout_ms
              << "\nrequest_timeout_ms=" << c.request_timeout_ms << "\nconsistency=" << c.consistency
              << "\nverify_peer_cert=" << ((c.verify_flags & scb::kPeerCert) ? "true" : "false")
              << "\nverify_peer_identity=" << ((c.verify_flags & (scb::kPeerIdentity | scb::kPeerIdentityDns)) ? "true" : "false")
              << "\ntrusted_cert=" << c.trusted_cert << "\ncert=" << c.cert << "\nprivate_key=" << c.private_key << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bundle: " << e.what() << "\n";
    return 2;
  }
}
