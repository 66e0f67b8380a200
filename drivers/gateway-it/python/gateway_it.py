"""Connects with the stock Python cassandra-driver in secure-connect-bundle mode,
exactly as an application would, and prints one JSON object: every node the
driver discovered, the host_id that system.local returns when the query is
sent to that node, and a data round trip.

Usage: python gateway_it.py BUNDLE USERNAME KEYSPACE   (password in SCB_IT_PASSWORD)
"""
import json
import os
import sys
import time
import uuid

import cassandra
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement


def main():
    bundle, user, keyspace = sys.argv[1:4]
    cluster = Cluster(
        cloud={"secure_connect_bundle": bundle},
        auth_provider=PlainTextAuthProvider(user, os.environ["SCB_IT_PASSWORD"]),
    )
    session = cluster.connect()
    try:
        nodes = []
        for host in cluster.metadata.all_hosts():
            got, last = None, None
            for _ in range(50):
                try:
                    row = session.execute(SimpleStatement("SELECT host_id FROM system.local"), host=host).one()
                    got = str(row.host_id)
                    break
                except Exception as e:  # the pool may still be connecting
                    last = e
                    time.sleep(0.2)
            if got is None:
                raise RuntimeError("no answer from %s: %r" % (host, last))
            nodes.append({"host_id": str(host.host_id), "system_local": got,
                          "dc": host.datacenter, "endpoint": str(host.endpoint)})
        key = "python-%s" % uuid.uuid4()
        session.execute("INSERT INTO %s.kv (k, v) VALUES (%%s, %%s)" % keyspace, (key, "from python"))
        v = session.execute("SELECT v FROM %s.kv WHERE k = %%s" % keyspace, (key,)).one().v
        print(json.dumps({"driver": "python", "version": cassandra.__version__,
                          "local_dc": cluster.load_balancing_policy._child_policy.local_dc
                          if hasattr(cluster.load_balancing_policy, "_child_policy") else "",
                          "nodes": nodes, "roundtrip": v}))
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
