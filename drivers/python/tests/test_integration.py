"""Round trips against the real Cassandra 5.0 test cluster (mTLS required +
PasswordAuthenticator) with the stock Python cassandra-driver:

* direct mode: Cluster(ssl_context=cfg.ssl_context, contact points, local DC);
* bundle ("cloud") mode: Cluster(cloud=cfg.cloud_config) through a real
  scbkit gateway (scb gateway) started by the test.

Bundles are made with the real CLI (scb generate --dir) from a CA whose root
is the cluster's test CA. Needs SCB_TEST_STATE (fails under CI without it).
"""

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest

cassandra = pytest.importorskip("cassandra")
from cassandra.cluster import Cluster, NoHostAvailable  # noqa: E402

import scbkit  # noqa: E402

from conftest import generate, repo_root  # noqa: E402

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def direct_bundle(scb_bin, test_ca, primary, tmp_path_factory):
    d = tmp_path_factory.mktemp("direct")
    return generate(scb_bin, d / "direct.zip", "--dir", str(test_ca.dir), "--cluster", primary["name"],
                    "--client", "pytest-direct", "--contact-point", "%s:%d" % (primary["host"], primary["port"]),
                    "--datacenter", primary["dc"], "--validity", "1d")


def round_trip(session, dc):
    ks = "scbkit_py_" + secrets.token_hex(4)
    session.execute("CREATE KEYSPACE %s WITH replication = {'class': 'NetworkTopologyStrategy', '%s': 1}" % (ks, dc))
    try:
        session.execute("CREATE TABLE %s.kv (k uuid PRIMARY KEY, v text)" % ks)
        rows = {uuid.uuid4(): "value-%d" % i for i in range(5)}
        ins = session.prepare("INSERT INTO %s.kv (k, v) VALUES (?, ?)" % ks)
        for k, v in rows.items():
            session.execute(ins, (k, v))
        got = {r.k: r.v for r in session.execute("SELECT k, v FROM %s.kv" % ks)}
        assert got == rows
    finally:
        session.execute("DROP KEYSPACE IF EXISTS %s" % ks)


def test_direct_mtls_round_trip(direct_bundle, primary):
    cfg = scbkit.load_scb_config(direct_bundle, username=primary["username"], password=primary["password"], environ={})
    assert cfg.report.ok and cfg.local_dc == primary["dc"]
    assert cfg.ssl_context.check_hostname  # hostname verification stays on
    cluster = Cluster(**cfg.cluster_kwargs(connect_timeout=20))
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local").one()
        assert row.release_version.startswith("5.0")
        round_trip(session, cfg.local_dc)
    finally:
        cluster.shutdown()


def test_direct_credentials_from_environment(direct_bundle, primary):
    cfg = scbkit.load_scb_config(direct_bundle, environ={"SCB_USERNAME": primary["username"], "SCB_PASSWORD": primary["password"]})
    cluster = Cluster(contact_points=cfg.contact_points, port=cfg.port, ssl_context=cfg.ssl_context,
                      auth_provider=cfg.auth_provider(), connect_timeout=20)
    try:
        assert cluster.connect().execute("SELECT key FROM system.local").one().key == "local"
    finally:
        cluster.shutdown()


def test_direct_rejected_with_foreign_ca(scb_bin, primary, tmp_path):
    """A bundle from another CA: the node does not accept its certificate and
    the client does not trust the node; nothing connects."""
    p = generate(scb_bin, tmp_path / "foreign.zip", "--cluster", primary["name"], "--client", "intruder",
                 "--contact-point", "%s:%d" % (primary["host"], primary["port"]), "--datacenter", primary["dc"],
                 home=tmp_path / "home")
    cfg = scbkit.load_scb_config(p, username=primary["username"], password=primary["password"], environ={})
    cluster = Cluster(**cfg.cluster_kwargs(connect_timeout=10))
    try:
        with pytest.raises(NoHostAvailable):
            cluster.connect()
    finally:
        cluster.shutdown()


@pytest.fixture(scope="module")
def gateway(scb_bin, test_ca, primary, tmp_path_factory):
    """A real scbkit gateway (scb gateway) in front of the primary cluster."""
    probe = subprocess.run([scb_bin, "gateway", "--help"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail("the scb CLI has no working 'gateway' command: %s" % probe.stderr.decode(errors="replace"))
    d = tmp_path_factory.mktemp("gateway")
    cert, key = test_ca.issue_server(d / "tls")
    gw_bundle = generate(scb_bin, d / "gateway-scb.zip", "--dir", str(test_ca.dir), "--cluster", primary["name"],
                         "--client", "gateway", "--contact-point", "%s:%d" % (primary["host"], primary["port"]),
                         "--datacenter", primary["dc"], "--validity", "1d")
    meta, cql, admin = free_port(), free_port(), free_port()
    conf = d / "gateway.yaml"
    conf.write_text(
        "public_host: localhost\n"
        "listen:\n  metadata: \"127.0.0.1:%d\"\n  cql: \"127.0.0.1:%d\"\n  admin: \"127.0.0.1:%d\"\n"
        "tls:\n  cert_file: %s\n  key_file: %s\n  client_ca_file: %s\n"
        "cluster:\n  bundle: %s\n  username: %s\n  password_env: SCB_PYTEST_GATEWAY_PASSWORD\n  local_dc: %s\n"
        "refresh_interval: 2s\nshutdown_timeout: 2s\n"
        % (meta, cql, admin, cert, key, write_client_ca(test_ca, d), gw_bundle,
           primary["username"], primary["dc"])
    )
    env = dict(os.environ, SCB_PYTEST_GATEWAY_PASSWORD=primary["password"])
    log = open(d / "gateway.log", "wb")
    proc = subprocess.Popen([scb_bin, "gateway", "--config", str(conf)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=str(repo_root()))
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError("scb gateway exited %s: %s" % (proc.returncode, (d / "gateway.log").read_text()[-2000:]))
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % admin, timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if time.time() > deadline:
                raise AssertionError("scb gateway not ready after 60 s: %s" % (d / "gateway.log").read_text()[-2000:])
            time.sleep(0.5)
        yield {"host": "localhost", "cql": cql, "meta": meta, "dir": d}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def write_client_ca(test_ca, d):
    p = d / "client-ca.pem"
    p.write_bytes(test_ca.root_pem)
    return str(p)


@pytest.mark.gateway
def test_bundle_mode_through_gateway(scb_bin, test_ca, primary, gateway, tmp_path):
    p = generate(scb_bin, tmp_path / "cloud.zip", "--dir", str(test_ca.dir), "--cluster", primary["name"],
                 "--client", "pytest-cloud", "--contact-point", "%s:%d" % (primary["host"], primary["port"]),
                 "--datacenter", primary["dc"], "--validity", "1d",
                 "--gateway", "%s:%d,%d" % (gateway["host"], gateway["cql"], gateway["meta"]))
    cfg = scbkit.load_scb_config(p, username=primary["username"], password=primary["password"], environ={})
    assert cfg.cloud.host == "localhost" and cfg.cloud.port == gateway["meta"]
    cluster = Cluster(cloud=cfg.cloud_config, auth_provider=cfg.auth_provider(), connect_timeout=20)
    try:
        session = cluster.connect()
        round_trip(session, primary["dc"])
    finally:
        cluster.shutdown()
    # The driver unpacks the zip into a private temporary directory next to
    # it and removes it again: nothing is left behind.
    assert sorted(x.name for x in tmp_path.iterdir()) == ["cloud.zip"]
