'use strict';
// Connect to Cassandra over mutual TLS with the bundle's Node.js configuration.
//
// Usage: node example.js [BUNDLE]   (the extracted bundle directory; default
// $SCB_BUNDLE, else "."; for a zip, extract it first: unzip -d DIR bundle.zip)
// Credentials come from SCB_USERNAME and SCB_PASSWORD.
// Exit codes: 0 ok, 1 other error, 2 bad bundle or usage, 3 authentication
// failed, 4 TLS failed, 5 no host available, 6 timed out.
const fs = require('fs');
const path = require('path');
const tls = require('tls');
const cassandra = require('cassandra-driver');

const { policies, errors, auth } = cassandra;
const CONF = 'config/driver-configs/nodejs/cassandra-config.json';

function clientOptions(root, username, password) {
  const c = JSON.parse(fs.readFileSync(path.join(root, CONF), 'utf8'));
  const file = (p) => fs.readFileSync(path.join(root, p)); // paths are relative to the bundle root
  const s = c.sslOptions;
  const sslOptions = {
    ca: [file(s.ca)],
    cert: file(s.cert),
    key: file(s.key),
    passphrase: process.env.SCB_KEY_PASSPHRASE,
    // The driver leaves rejectUnauthorized off unless it is set: always set it.
    rejectUnauthorized: s.rejectUnauthorized === true,
    minVersion: s.minVersion,
  };
  if (s.servername) sslOptions.servername = s.servername;
  if (c.scb.hostnameVerification === false) {
    // INSECURE, tests only: the chain is still verified, the name is not.
    sslOptions.checkServerIdentity = () => undefined;
  } else if (s.servername) {
    sslOptions.checkServerIdentity = (host, cert) => tls.checkServerIdentity(s.servername, cert);
  }
  const lb = c.policies.loadBalancing === 'DefaultLoadBalancingPolicy'
    ? new policies.loadBalancing.DefaultLoadBalancingPolicy({ localDc: c.localDataCenter })
    : new policies.loadBalancing.DCAwareRoundRobinPolicy(c.localDataCenter);
  const retry = c.policies.retry === 'RetryPolicy'
    ? new policies.retry.RetryPolicy()
    : new policies.retry.FallthroughRetryPolicy();
  return {
    contactPoints: c.contactPoints,
    localDataCenter: c.localDataCenter,
    socketOptions: c.socketOptions,
    queryOptions: { consistency: c.queryOptions.consistency, prepare: true },
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: c.pooling.coreConnectionsPerHost['0'] } },
    policies: { loadBalancing: lb, retry },
    sslOptions,
    authProvider: new auth.PlainTextAuthProvider(username, password),
  };
}

// withRetry retries idempotent requests on timeouts with exponential backoff.
async function withRetry(fn, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const transient = e instanceof errors.OperationTimedOutError ||
        (e instanceof errors.ResponseError && [0x1000, 0x1100, 0x1200].includes(e.code));
      if (!transient || attempt === attempts) throw e;
      console.error(`attempt ${attempt} failed (${e.name}), retrying`);
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

function classify(err) {
  const inner = err instanceof errors.NoHostAvailableError ? Object.values(err.innerErrors || {}) : [err];
  for (const e of inner) {
    if (e instanceof errors.AuthenticationError || /authentication|password/i.test(String(e && e.message))) {
      return [3, 'authentication failed: check SCB_USERNAME / SCB_PASSWORD'];
    }
    if (e && (/certificate|SSL|TLS|self.signed|altnames/i.test(String(e.message)) || String(e.code).startsWith('ERR_TLS') || /CERT|SSL/.test(String(e.code)))) {
      return [4, "TLS failed: server certificate not from this bundle's CA, wrong host name, or client certificate refused"];
    }
  }
  if (err instanceof errors.NoHostAvailableError) return [5, 'no host available: check contact points, datacenter and network'];
  if (err instanceof errors.OperationTimedOutError) return [6, 'timed out'];
  return [1, 'error'];
}

async function main() {
  const { SCB_USERNAME: user, SCB_PASSWORD: password } = process.env;
  const ks = process.env.SCB_KEYSPACE || 'scb_examples';
  if (!user || password === undefined || !/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(ks)) {
    console.error('set SCB_USERNAME and SCB_PASSWORD (and a plain SCB_KEYSPACE)');
    return 2;
  }
  let options;
  try {
    options = clientOptions(path.resolve(process.argv[2] || process.env.SCB_BUNDLE || '.'), user, password);
  } catch (e) {
    console.error(`bundle: ${e.message}`);
    return 2;
  }
  const client = new cassandra.Client(options);
  try {
    await client.connect();
    await withRetry(() => client.execute(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ` +
      `{'class': 'NetworkTopologyStrategy', '${options.localDataCenter}': 1}`));
    await withRetry(() => client.execute(`CREATE TABLE IF NOT EXISTS ${ks}.messages ` +
      '(driver text PRIMARY KEY, message text, written_at timestamp)'));
    await withRetry(() => client.execute(`INSERT INTO ${ks}.messages (driver, message, written_at) VALUES (?, ?, ?)`,
      ['nodejs', 'hello from the Node.js driver', new Date()], { isIdempotent: true }));
    const rs = await withRetry(() => client.execute(`SELECT driver, message, written_at FROM ${ks}.messages WHERE driver = ?`,
      ['nodejs'], { isIdempotent: true }));
    const row = rs.first();
    if (!row) {
      console.error('row not found after write');
      return 1;
    }
    console.log(`read back: driver=${row.driver} message="${row.message}" written_at=${row.written_at.toISOString()}`);
    return 0;
  } catch (e) {
    const [code, what] = classify(e);
    console.error(`${what}: ${e.message}`);
    return code;
  } finally {
    await client.shutdown();
  }
}

main().then((code) => { process.exitCode = code; });
