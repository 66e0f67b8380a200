"""Connects the way cqlsh does with the bundle's cqlshrc pointed at the
gateway: plain (non-cloud) TLS with ca.crt, cert and key, no hostname check
and therefore no SNI. The gateway must route such a connection to some live
node. Prints {"host_id": ...} of the node reached.

Usage: python cqlsh_like.py BUNDLE_DIR HOST PORT USERNAME   (password in SCB_IT_PASSWORD)
"""
import json
import os
import ssl
import sys

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from cassandra.policies import WhiteListRoundRobinPolicy


def main():
    bundle_dir, host, port, user = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # as cqlsh: validate = true checks the chain only
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(bundle_dir, "ca.crt"))
    ctx.load_cert_chain(os.path.join(bundle_dir, "cert"), os.path.join(bundle_dir, "key"))
    cluster = Cluster(
        contact_points=[host], port=int(port), ssl_context=ctx,
        auth_provider=PlainTextAuthProvider(user, os.environ["SCB_IT_PASSWORD"]),
        load_balancing_policy=WhiteListRoundRobinPolicy([host]),
    )
    session = cluster.connect()
    try:
        row = session.execute("SELECT host_id FROM system.local").one()
        print(json.dumps({"driver": "python-cqlsh-like", "host_id": str(row.host_id)}))
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
