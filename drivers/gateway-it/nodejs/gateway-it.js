'use strict';
// Connects with the stock Node.js cassandra-driver in secure-connect-bundle
// mode, exactly as an application would, and prints one JSON object: every
// node the driver discovered, the host_id that system.local returns when the
// query is sent to that node, and a data round trip.
//
// Usage: node gateway-it.js BUNDLE USERNAME KEYSPACE   (password in SCB_IT_PASSWORD)
const cassandra = require('cassandra-driver');
const crypto = require('crypto');

async function main() {
  const [bundle, username, keyspace] = process.argv.slice(2);
  const client = new cassandra.Client({
    cloud: { secureConnectBundle: bundle },
    credentials: { username, password: process.env.SCB_IT_PASSWORD },
  });
  await client.connect();
  try {
    const nodes = [];
    for (const host of client.hosts.values()) {
      let got = null;
      let last = null;
      for (let i = 0; i < 50 && got === null; i++) {
        try {
          const rs = await client.execute('SELECT host_id FROM system.local', [], { host });
          got = rs.first().host_id.toString();
        } catch (e) {
          last = e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      if (got === null) throw new Error(`no answer from ${host.address}: ${last}`);
      nodes.push({ host_id: host.hostId.toString(), system_local: got, dc: host.datacenter, endpoint: host.address });
    }
    const key = `nodejs-${crypto.randomUUID()}`;
    await client.execute(`INSERT INTO ${keyspace}.kv (k, v) VALUES (?, ?)`, [key, 'from nodejs'], { prepare: true });
    const rs = await client.execute(`SELECT v FROM ${keyspace}.kv WHERE k = ?`, [key], { prepare: true });
    console.log(JSON.stringify({
      driver: 'nodejs', version: cassandra.version,
      local_dc: client.options.localDataCenter || '', nodes, roundtrip: rs.first().v,
    }));
  } finally {
    await client.shutdown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
