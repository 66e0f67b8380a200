'use strict';
// Test-environment shim, preloaded with `node --require ./dns-hosts.js`.
//
// In bundle mode the Node.js driver resolves the sni_proxy_address host with
// dns.resolve4(), which asks a DNS server and never reads /etc/hosts
// (lib/utils.js AddressResolver). The test machines have no DNS server, and
// the tests use H = "localhost", so a name the stock driver would need from
// DNS is answered here from the system resolver (getaddrinfo) instead, as a
// DNS server holding an A record for H would. The driver and the bundle are
// untouched. In production, H must have a real A record.
const dns = require('dns');

const resolve4 = dns.resolve4;
dns.resolve4 = function patchedResolve4(name, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  resolve4.call(dns, name, options, (err, addresses) => {
    if (!err) {
      callback(null, addresses);
      return;
    }
    dns.lookup(name, { family: 4, all: true }, (lookupErr, results) => {
      if (lookupErr) callback(err);
      else callback(null, results.map((r) => r.address));
    });
  });
};
