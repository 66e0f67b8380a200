'use strict';
// loadScbConfig: credentials, sslOptions, bundle mode, secrets.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const tls = require('node:tls');
const scbkit = require('..');
const h = require('./helpers');

test('loads zip, tar.gz and directory bundles', () => {
  const b = h.devBundles();
  for (const f of ['zip', 'tar.gz', 'dir']) {
    const c = scbkit.loadScbConfig(b[f], { env: {} });
    assert.equal(c.format, f);
    assert.deepEqual(c.contactPoints, ['127.0.0.1:9042']);
    assert.equal(c.localDataCenter, 'datacenter1');
    assert.equal(c.metadata.clusterName, 'unit');
    assert.equal(c.sslOptions.rejectUnauthorized, true);
    assert.equal(c.sslOptions.checkServerIdentity, undefined); // Node's default host-name check
    assert.equal(c.sslOptions.ca.length, 1);
    assert.match(c.sslOptions.key, /BEGIN PRIVATE KEY/);
    tls.createSecureContext(c.sslOptions); // key and certificate load and match
    assert.ok(c.report.ok);
    assert.deepEqual(c.cloud, f === 'zip' ? { secureConnectBundle: path.resolve(b.zip) } : undefined);
  }
});

test('credentials: options > config.json > environment', () => {
  const b = h.devBundles();
  let c = scbkit.loadScbConfig(b.zip, { env: { SCB_USERNAME: 'envuser', SCB_PASSWORD: 'envpass' } });
  assert.deepEqual({ ...c.credentials }, { username: 'envuser', password: 'envpass' });
  c = scbkit.loadScbConfig(b.zip, { username: 'arg', password: 'argpass', env: { SCB_USERNAME: 'e', SCB_PASSWORD: 'x' } });
  assert.deepEqual({ ...c.credentials }, { username: 'arg', password: 'argpass' });
  assert.equal(scbkit.loadScbConfig(b.zip, { env: {} }).credentials, undefined);
  const f = h.filesOf(b.zip);
  const cc = JSON.parse(f.get('config.json'));
  f.set('config.json', Buffer.from(`${JSON.stringify({ ...cc, username: 'bundleuser', password: 'bundlepass' }, null, 2)}\n`));
  const d = h.writeDir(path.join(h.tmpDir(), 'withcreds'), h.remanifest(f));
  c = scbkit.loadScbConfig(d, { env: { SCB_USERNAME: 'envuser', SCB_PASSWORD: 'envpass' } });
  assert.deepEqual({ ...c.credentials }, { username: 'bundleuser', password: 'bundlepass' });
});

test('secrets never print', () => {
  const b = h.devBundles();
  const c = scbkit.loadScbConfig(b.zip, { username: 'u', password: 's3cr3t-pw', env: {} });
  const cc = JSON.parse(h.filesOf(b.zip).get('config.json'));
  const shown = [String(c), util.inspect(c), util.inspect(c.sslOptions), JSON.stringify(c.sslOptions), util.inspect(c.credentials),
    JSON.stringify(c.credentials), util.inspect(c.cloudConfig), JSON.stringify(c.cloudConfig), String(c.report), JSON.stringify(c.report)].join('\n');
  for (const secret of ['s3cr3t-pw', 'PRIVATE KEY', cc.keyStorePassword, cc.pfxCertPassword]) assert.ok(!shown.includes(secret), secret);
});

test('a tampered bundle is refused', () => {
  const f = h.filesOf(h.devBundles().zip);
  f.set('config/cassandra.yaml', Buffer.from(f.get('config/cassandra.yaml').toString().replace('127.0.0.1', '10.9.9.9')));
  const d = h.writeDir(path.join(h.tmpDir(), 't'), f);
  assert.throws(() => scbkit.loadScbConfig(d, { env: {} }), scbkit.DigestMismatchError);
});

test('trusted keys on load, and verify()', () => {
  const k = h.genKey('p256');
  const d = h.writeDir(path.join(h.tmpDir(), 'signed'), new Map(h.signed(h.filesOf(h.devBundles().zip), k).entries()));
  const trust = h.jwks([k]);
  const c = scbkit.loadScbConfig(d, { trustedKeys: trust, env: {} });
  assert.ok(c.verify(trust).ok);
  assert.throws(() => c.verify(h.jwks([h.genKey('ed25519')])), scbkit.UnknownSignerError);
  assert.throws(() => scbkit.loadScbConfig(h.devBundles().zip, { trustedKeys: trust, env: {} }), scbkit.UnsignedError);
});

test('encrypted client key needs its passphrase', () => {
  const d = h.tmpDir();
  const pw = path.join(d, 'pw');
  fs.writeFileSync(pw, 'correct horse battery staple');
  const p = h.generate(path.join(d, 'enc.zip'), ['--cluster', 'unit', '--client', 'enc', '--key-passphrase-file', pw], { home: path.join(d, 'h') });
  assert.throws(() => scbkit.loadScbConfig(p, { env: {} }), scbkit.PassphraseError);
  const c = scbkit.loadScbConfig(p, { keyPassphrase: 'correct horse battery staple', env: {} });
  tls.createSecureContext(c.sslOptions);
  assert.equal(c.report.result('consistency').status, 'pass');
});

test('clientOptions for cassandra-driver', () => {
  const c = scbkit.loadScbConfig(h.devBundles().zip, { username: 'u', password: 'p', env: {} });
  const o = c.clientOptions({ keyspace: 'ks' });
  assert.deepEqual(o.contactPoints, ['127.0.0.1:9042']);
  assert.equal(o.localDataCenter, 'datacenter1');
  assert.equal(o.sslOptions, c.sslOptions);
  assert.deepEqual(o.socketOptions, { connectTimeout: 5000, readTimeout: 12000 });
  assert.equal(o.credentials.username, 'u');
  assert.equal(o.keyspace, 'ks');
});
