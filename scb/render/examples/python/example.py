#!/usr/bin/env python3
"""Connect to Cassandra over mutual TLS with the bundle's Python configuration.

Usage: example.py [BUNDLE]   (the bundle zip or its extracted directory;
default $SCB_BUNDLE, else ".").  Credentials come from SCB_USERNAME and
SCB_PASSWORD.  Exit codes: 0 ok, 1 other error, 2 bad bundle or usage,
3 authentication failed, 4 TLS failed, 5 no host available, 6 timed out.
"""
import atexit
import configparser
import os
import re
import shutil
import ssl
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone

from cassandra import AuthenticationFailed, ConsistencyLevel, OperationTimedOut, Timeout, Unavailable
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import (DCAwareRoundRobinPolicy, FallthroughRetryPolicy, RetryPolicy,
                                TokenAwarePolicy)

CONF = "config/driver-configs/python/cassandra.conf"


def open_bundle(path):
    """Return the bundle directory; a zip is extracted to a private temp dir."""
    if os.path.isdir(path):
        return os.path.abspath(path)
    tmp = tempfile.mkdtemp(prefix="scb-bundle-")  # created 0700
    atexit.register(shutil.rmtree, tmp, True)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            dest = os.path.realpath(os.path.join(tmp, name))
            if not dest.startswith(os.path.realpath(tmp) + os.sep):
                raise ValueError("zip entry outside the bundle: " + name)
        z.extractall(tmp)
    return tmp


def build_cluster(root, username, password):
    conf = configparser.ConfigParser(interpolation=None)
    if not conf.read(os.path.join(root, CONF)):
        raise ValueError("missing " + CONF)
    c, s = conf["connection"], conf["ssl"]
    path = lambda key: os.path.join(root, s[key])  # paths are relative to the bundle root

    # Build the SSLContext ourselves: certificate and host name checks stay on
    # unless the bundle says otherwise (tests only).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion[s["minimum_version"]]
    ctx.load_verify_locations(path("ca_certs"))
    ctx.load_cert_chain(path("certfile"), path("keyfile"), password=os.environ.get("SCB_KEY_PASSPHRASE"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = s.getboolean("check_hostname")
    ssl_options = {"server_hostname": s["server_hostname"]} if s.get("server_hostname") else None

    dc = c["local_datacenter"]
    lb = DCAwareRoundRobinPolicy(local_dc=dc)
    if c["load_balancing"].startswith("TokenAware"):
        lb = TokenAwarePolicy(lb)
    retry = RetryPolicy() if c["retry_policy"] == "RetryPolicy" else FallthroughRetryPolicy()
    profile = ExecutionProfile(
        load_balancing_policy=lb, retry_policy=retry,
        consistency_level=ConsistencyLevel.name_to_value[c["consistency"]],
        request_timeout=c.getfloat("request_timeout"))
    points = []
    for cp in c["contact_points"].split(","):
        host, _, port = cp.strip().rpartition(":")
        points.append((host.strip("[]"), int(port)))
    compression = {"none": False}.get(c["compression"], c["compression"])
    return Cluster(
        contact_points=points, ssl_context=ctx, ssl_options=ssl_options,
        auth_provider=PlainTextAuthProvider(username, password),
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=c.getfloat("connect_timeout"), compression=compression,
        protocol_version=5), dc


def with_retry(fn, attempts=3):
    """Retry idempotent requests on timeouts with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except (OperationTimedOut, Timeout, Unavailable) as e:
            if attempt == attempts:
                raise
            print("attempt %d failed (%s), retrying" % (attempt, type(e).__name__), file=sys.stderr)
            time.sleep(0.2 * 2 ** attempt)


def classify(err):
    """Exit code and message for a failure: tell login, TLS and network problems apart."""
    errors = list(err.errors.values()) if isinstance(err, NoHostAvailable) else [err]
    for e in errors:
        text = repr(e)
        if isinstance(e, AuthenticationFailed) or "AuthenticationFailed" in text:
            return 3, "authentication failed: check SCB_USERNAME / SCB_PASSWORD"
        if isinstance(e, ssl.SSLError) or "SSL" in text or "certificate" in text:
            return 4, "TLS failed: server certificate not from this bundle's CA, wrong host name, or client certificate refused"
    if isinstance(err, NoHostAvailable):
        return 5, "no host available: check contact points, datacenter and network"
    if isinstance(err, (OperationTimedOut, Timeout)):
        return 6, "timed out"
    return 1, "error"


def main(argv):
    user, password = os.environ.get("SCB_USERNAME"), os.environ.get("SCB_PASSWORD")
    ks = os.environ.get("SCB_KEYSPACE", "scb_examples")
    if not user or password is None or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,47}", ks):
        print("set SCB_USERNAME and SCB_PASSWORD (and a plain SCB_KEYSPACE)", file=sys.stderr)
        return 2
    try:
        root = open_bundle(argv[1] if len(argv) > 1 else os.environ.get("SCB_BUNDLE", "."))
        cluster, dc = build_cluster(root, user, password)
    except (OSError, ValueError, KeyError, configparser.Error, ssl.SSLError) as e:
        print("bundle: %s" % e, file=sys.stderr)
        return 2
    try:
        session = cluster.connect()
        with_retry(lambda: session.execute(
            "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
            "{'class': 'NetworkTopologyStrategy', '%s': 1}" % (ks, dc)))
        with_retry(lambda: session.execute(
            "CREATE TABLE IF NOT EXISTS %s.messages "
            "(driver text PRIMARY KEY, message text, written_at timestamp)" % ks))
        insert = session.prepare("INSERT INTO %s.messages (driver, message, written_at) VALUES (?, ?, ?)" % ks)
        select = session.prepare("SELECT driver, message, written_at FROM %s.messages WHERE driver = ?" % ks)
        insert.is_idempotent = select.is_idempotent = True
        with_retry(lambda: session.execute(insert, ("python", "hello from the Python driver", datetime.now(timezone.utc))))
        row = with_retry(lambda: session.execute(select, ("python",)).one())
        if row is None:
            print("row not found after write", file=sys.stderr)
            return 1
        print('read back: driver=%s message="%s" written_at=%s' % (row.driver, row.message, row.written_at))
        return 0
    except Exception as e:  # noqa: BLE001 - map every failure to an exit code
        code, what = classify(e)
        print("%s: %r" % (what, e), file=sys.stderr)
        return code
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
