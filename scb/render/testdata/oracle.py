#!/usr/bin/env python3
"""Parse-back oracle for the rendered driver configurations of one bundle.

Reads every file under config/driver-configs/ with each ecosystem's own
parser (configparser for INI, json, PyYAML, xml.etree) plus the outputs of
the Java driver's config loader (java-check), the Node.js driver's
consistency table, the C# bundle check (Mono) and the C++ config check, and
compares them with the bundle's neutral config/cassandra.yaml. Run by
scripts/test-examples.sh; exits 1 on any mismatch.

usage: oracle.py BUNDLE_DIR --java FILE --node-consistencies FILE --dotnet FILE --cpp FILE
"""
import argparse
import configparser
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

import yaml

failures, checks = [], 0


def eq(what, got, want):
    global checks
    checks += 1
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))


def go_ms(d):
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", d):
        total += float(num) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}[unit]
    return int(total)


def kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def ini(path, sectionless=False):
    p = configparser.ConfigParser(interpolation=None)
    with open(path) as f:
        text = f.read()
    p.read_string("[root]\n" + text if sectionless else text)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--java")
    ap.add_argument("--node-consistencies")
    ap.add_argument("--dotnet")
    ap.add_argument("--cpp")
    a = ap.parse_args()
    r = lambda *p: os.path.join(a.root, *p)
    d = lambda drv, f: r("config", "driver-configs", drv, f)
    n = yaml.safe_load(open(r("config", "cassandra.yaml")))
    cps, dc, t, c = n["contact_points"], n["local_datacenter"], n["tls"], n["connection"]
    hv = t["hostname_verification"]
    cms, rms = go_ms(c["connect_timeout"]), go_ms(c["request_timeout"])
    hosts = [cp.rpartition(":")[0].strip("[]") for cp in cps]
    port = cps[0].rpartition(":")[2]
    cons = c["consistency"]
    pascal = "".join(w.capitalize() for w in cons.split("_"))

    if a.java:  # the Java driver's own loader
        j = kv(a.java)
        eq("java contact points", j["contact_points"], ",".join(cps))
        eq("java local dc", j["local_datacenter"], dc)
        eq("java request timeout", int(j["request_timeout_ms"]), rms)
        eq("java connect timeout", int(j["connect_timeout_ms"]), cms)
        eq("java consistency", j["consistency"], cons)
        eq("java pool size", int(j["pool_local_size"]), c["connections_per_host"])
        eq("java ssl class", j["ssl_class"], "DefaultSslEngineFactory")
        eq("java hostname validation", j["hostname_validation"], str(hv).lower())
        eq("java truststore", j["truststore_path"], r("trustStore.jks"))
        eq("java keystore", j["keystore_path"], r("identity.jks"))
        for k in ("truststore_password_set", "keystore_password_set", "auth_password_set"):
            eq("java " + k, j[k], "true")
        eq("java auth", j["auth_class"], "PlainTextAuthProvider")
    if os.path.exists(d("java", "cassandra.yaml")):
        s = yaml.safe_load(open(d("java", "cassandra.yaml")))["spring"]["cassandra"]
        eq("spring contact points", s["contact-points"], cps)
        eq("spring dc", s["local-datacenter"], dc)
        eq("spring connect timeout", s["connection"]["connect-timeout"], "%dms" % cms)
        eq("spring request timeout", s["request"]["timeout"], "%dms" % rms)
        eq("spring has no ssl override", "ssl" in s, False)

    if os.path.exists(d("python", "cassandra.conf")):
        p = ini(d("python", "cassandra.conf"))
        eq("python contact points", [x.strip() for x in p["connection"]["contact_points"].split(",")], cps)
        eq("python dc", p["connection"]["local_datacenter"], dc)
        eq("python connect timeout", float(p["connection"]["connect_timeout"]), cms / 1000)
        eq("python request timeout", float(p["connection"]["request_timeout"]), rms / 1000)
        eq("python consistency", p["connection"]["consistency"], cons)
        eq("python verify mode", p["ssl"]["verify_mode"], "CERT_REQUIRED")
        eq("python check_hostname", p["ssl"].getboolean("check_hostname"), hv)
        for k, want in (("ca_certs", t["ca_cert"]), ("certfile", t["client_cert"]), ("keyfile", t["client_key"])):
            eq("python " + k, p["ssl"][k], want)
        y = yaml.safe_load(open(d("python", "connection.yaml")))
        eq("python yaml contact points", ["%s:%s" % (("[%s]" % e["host"]) if ":" in e["host"] else e["host"], e["port"]) for e in y["contact_points"]], cps)
        eq("python yaml check_hostname", y["ssl"]["check_hostname"], hv)
        eq("python yaml ca", y["ssl"]["ca_certs"], t["ca_cert"])

    if os.path.exists(d("nodejs", "cassandra-config.json")):
        j = json.load(open(d("nodejs", "cassandra-config.json")))
        eq("node contact points", j["contactPoints"], cps)
        eq("node dc", j["localDataCenter"], dc)
        eq("node connect timeout", j["socketOptions"]["connectTimeout"], cms)
        eq("node read timeout", j["socketOptions"]["readTimeout"], rms)
        eq("node rejectUnauthorized", j["sslOptions"]["rejectUnauthorized"], True)
        eq("node hostname", j["scb"]["hostnameVerification"], hv)
        eq("node ca", j["sslOptions"]["ca"], t["ca_cert"])
        if a.node_consistencies:  # the driver's own types.consistencies
            table = json.load(open(a.node_consistencies))
            camel = pascal[0].lower() + pascal[1:]
            eq("node consistency", j["queryOptions"]["consistency"], table[camel])

    if os.path.exists(d("go", "config.yaml")):
        y = yaml.safe_load(open(d("go", "config.yaml")))
        eq("go hosts", y["hosts"], cps)
        eq("go timeout", go_ms(y["timeout"]), rms)
        eq("go connect timeout", go_ms(y["connect_timeout"]), cms)
        eq("go hostname", y["tls"]["hostname_verification"], hv)
        eq("go ca", y["tls"]["ca_path"], t["ca_cert"])
        j = json.load(open(d("go", "connection-params.json")))
        eq("go json timeout", j["timeout_ms"], rms)
        eq("go json hostname", j["tls"]["hostname_verification"], hv)
        eq("go json consistency", j["consistency"], cons)

    if os.path.exists(d("dotnet", "appsettings.json")):
        j = json.load(open(d("dotnet", "appsettings.json")))["Cassandra"]
        eq("dotnet contact points", j["ContactPoints"], hosts)
        eq("dotnet port", str(j["Port"]), port)
        eq("dotnet read timeout", j["ReadTimeoutMillis"], rms)
        eq("dotnet consistency", j["ConsistencyLevel"], pascal)
        eq("dotnet hostname", j["Ssl"]["HostnameVerification"], hv)
        x = {e.get("key"): e.get("value") for e in ET.parse(d("dotnet", "cassandra.config")).getroot().iter("add")}
        eq("dotnet xml hostname", x["Cassandra:Ssl:HostnameVerification"], str(hv).lower())
        eq("dotnet xml ca", x["Cassandra:Ssl:CaCertificate"], t["ca_cert"])
        eq("dotnet xml connect timeout", x["Cassandra:ConnectTimeoutMillis"], str(cms))
        if a.dotnet:  # ScbBundle.cs run under Mono
            m = kv(a.dotnet)
            eq("mono contact points", m["contact_points"], ",".join(hosts))
            eq("mono connect timeout", m["connect_timeout_ms"], str(cms))
            eq("mono read timeout", m["read_timeout_ms"], str(rms))
            eq("mono consistency", m["consistency"], pascal)
            eq("mono hostname", m["hostname_verification"], str(hv).lower())
            eq("mono client key", m["client_has_key"], "true")

    if os.path.exists(d("cpp", "connection.ini")):
        p = ini(d("cpp", "connection.ini"))
        eq("cpp connect timeout", p["cluster"]["connect_timeout_ms"], str(cms))
        eq("cpp contact points", p["cluster"]["contact_points"], ",".join(hosts))
        flags = {f.strip() for f in p["ssl"]["verify_flags"].split("|")}
        eq("cpp peer cert", "CASS_SSL_VERIFY_PEER_CERT" in flags, True)
        eq("cpp identity", bool(flags & {"CASS_SSL_VERIFY_PEER_IDENTITY", "CASS_SSL_VERIFY_PEER_IDENTITY_DNS"}), hv)
        f = ini(d("cpp", "cassandra.conf"), sectionless=True)["root"]
        eq("cpp conf request timeout", f["request_timeout"], str(rms))
        eq("cpp conf trusted cert", f["ssl_add_trusted_cert"], t["ca_cert"])
        if a.cpp:  # scb_config.hpp
            m = kv(a.cpp)
            eq("c++ parser request timeout", m["request_timeout_ms"], str(rms))
            eq("c++ parser peer identity", m["verify_peer_identity"], str(hv).lower())
            eq("c++ parser peer cert", m["verify_peer_cert"], "true")
            eq("c++ parser dc", m["local_datacenter"], dc)

    for f in failures:
        print("oracle: " + f, file=sys.stderr)
    print("oracle: %d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
