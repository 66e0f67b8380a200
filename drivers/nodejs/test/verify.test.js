'use strict';
// Verification outcomes: the classes the Go reference reports.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const scbkit = require('..');
const { Bundle, verify } = scbkit;
const { isDERSignature } = require('../lib/signing');
const model = require('../lib/model');
const h = require('./helpers');

const files = () => h.filesOf(h.devBundles().zip);
const keys = {};
const key = (k) => { keys[k] = keys[k] || h.genKey(k); return keys[k]; };
const outcome = (b, t, o) => verify(b, t, o).outcome;

test('PAE matches the DSSE specification', () => {
  assert.equal(scbkit.pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
});

for (const alg of ['p256', 'p384', 'ed25519', 'rsa3072']) {
  test(`valid signature: ${alg}`, () => {
    const k = key(alg);
    const r = verify(h.signed(files(), k), h.jwks([k]));
    assert.equal(r.outcome, 'valid', String(r));
    assert.deepEqual(r.result('signature').keyIds, [scbkit.keyId(k.publicKey)]);
  });
}

test('trusted keys in every accepted form', () => {
  const k = key('p256');
  const b = h.signed(files(), k);
  const pem = k.publicKey.export({ type: 'spki', format: 'pem' });
  const p = require('node:path').join(h.tmpDir(), 'keys.pem');
  require('node:fs').writeFileSync(p, pem);
  for (const t of [pem, Buffer.from(pem), p, [k.publicKey], [pem], new scbkit.KeySet([k.publicKey]), JSON.parse(h.jwks([k]))]) {
    assert.equal(outcome(b, t), 'valid');
  }
});

test('unsigned, no keys, required signature', () => {
  const b = new Bundle(files());
  assert.equal(outcome(b, h.jwks([key('p256')])), 'unsigned');
  assert.equal(verify(b).result('signature').status, 'skip');
  assert.equal(verify(h.signed(files(), key('p256'))).result('signature').status, 'warn');
  assert.equal(outcome(b, null, { requireSignature: true }), 'error');
});

test('unknown signer; untrusted extra signatures are ignored', () => {
  assert.equal(outcome(h.signed(files(), key('p256')), h.jwks([key('ed25519')])), 'unknown_signer');
  const r = verify(h.signed(files(), key('ed25519'), key('p256')), h.jwks([key('p256')]));
  assert.ok(r.ok && r.result('signature').message.includes('1 by unknown keys'));
});

test('bad signatures', () => {
  const k = key('p256');
  const trust = h.jwks([k]);
  let f = files();
  f.set('signatures/manifest.dsse.json', h.envelope(f.get('manifest.json'), [k], { tamper: (s) => { const c = Buffer.from(s); c[c.length - 1] ^= 1; return c; } }));
  assert.ok(['bad_signature', 'malformed_signature'].includes(outcome(new Bundle(f), trust)));
  f = new Map(h.signed(files(), k).entries());
  f.set('README.md', Buffer.from('changed'));
  h.remanifest(f);
  assert.equal(outcome(new Bundle(f), trust), 'bad_signature');
  f = files();
  f.set('signatures/manifest.dsse.json', h.envelope(f.get('manifest.json'), [k], { payloadType: 'text/plain' }));
  assert.equal(outcome(new Bundle(f), trust), 'bad_signature');
  const e = key('ed25519');
  f = files();
  f.set('signatures/manifest.dsse.json', h.envelope(f.get('manifest.json'), [e], { tamper: (s) => { const c = Buffer.from(s); c[0] ^= 1; return c; } }));
  assert.equal(outcome(new Bundle(f), h.jwks([e])), 'bad_signature');
});

test('key validity windows', () => {
  const k = key('p256');
  const b = h.signed(files(), k);
  const now = Math.floor(Date.now() / 1000);
  assert.equal(outcome(b, h.jwks([k], { exp: now - 86400 })), 'key_outside_validity');
  assert.equal(outcome(b, h.jwks([k], { nbf: now + 86400 })), 'key_outside_validity');
  assert.equal(outcome(b, h.jwks([k], { nbf: now - 86400, exp: now + 86400 })), 'valid');
});

test('malformed envelopes', () => {
  const k = key('p256');
  const mutations = [
    () => Buffer.from('not json'),
    (e) => Buffer.from(JSON.stringify({ ...JSON.parse(e), extra: 1 })),
    (e) => Buffer.from(JSON.stringify({ ...JSON.parse(e), signatures: [] })),
    (e) => Buffer.from(JSON.stringify({ ...JSON.parse(e), payload: '***' })),
    (e) => Buffer.from(e.toString().replace('"keyid": "', '"keyid": "AB')),
    (e) => Buffer.from(e.toString().replace('"payloadType"', '"payloadType": "x", "payloadType"')),
    () => Buffer.from('['.repeat(100000)),
  ];
  for (const m of mutations) {
    const f = new Map(h.signed(files(), k).entries());
    f.set('signatures/manifest.dsse.json', m(f.get('signatures/manifest.dsse.json')));
    assert.equal(outcome(new Bundle(f), h.jwks([k])), 'malformed_signature');
  }
});

test('ECDSA signatures must be strict DER', () => {
  const { privateKey } = key('p256');
  const sig = crypto.sign('sha256', Buffer.from('m'), { key: privateKey, dsaEncoding: 'der' });
  assert.ok(isDERSignature(sig));
  assert.ok(!isDERSignature(Buffer.concat([sig, Buffer.from([0])])));
  assert.ok(!isDERSignature(Buffer.alloc(64)));
  assert.ok(!isDERSignature(crypto.sign('sha256', Buffer.from('m'), { key: privateKey, dsaEncoding: 'ieee-p1363' })));
});

test('digest mismatch, also under a valid signature', () => {
  for (const [p, v] of [['README.md', 'tampered'], ['extra.txt', 'x'], ['signatures/other.json', '{}']]) {
    const f = files();
    f.set(p, Buffer.from(v));
    assert.equal(outcome(new Bundle(f)), 'digest_mismatch', p);
  }
  const k = key('p256');
  const f = new Map(h.signed(files(), k).entries());
  f.set('config.json', Buffer.from(f.get('config.json').toString().replace('127.0.0.1', '10.6.6.6')));
  const r = verify(new Bundle(f), h.jwks([k]));
  assert.equal(r.outcome, 'digest_mismatch');
  assert.equal(r.result('signature').status, 'pass');
});

test('malformed manifest; canonical round trip', () => {
  const m0 = files().get('manifest.json');
  for (const mut of [(m) => m.toString().replace(/ {2}/g, ' '), (m) => m.toString().replace('"sha256",', '"md5",'), () => '{}', (m) => m.toString().replace('"size": ', '"size": 1.5, "x": ')]) {
    const f = files();
    f.set('manifest.json', Buffer.from(mut(m0)));
    assert.equal(outcome(new Bundle(f)), 'malformed_manifest');
  }
  assert.ok(model.encodeManifest(model.parseManifest(m0).files).equals(m0));
});

test('incomplete and malformed metadata', () => {
  let f = files();
  f.delete('certificates/client-key.pem');
  assert.equal(outcome(new Bundle(f)), 'incomplete');
  f = files();
  f.set('README.md', Buffer.alloc(0));
  assert.equal(outcome(new Bundle(h.remanifest(f))), 'incomplete');
  f = files();
  f.delete('cert.pfx');
  assert.equal(outcome(new Bundle(h.remanifest(f))), 'incomplete');
  const meta = JSON.parse(files().get('metadata.json'));
  for (const bad of ['{', '[]', '{"bundle_version": "2.0"}', '{"bundle_version": 1}', JSON.stringify({ ...meta, expires_at: 'yesterday' })]) {
    f = files();
    f.set('metadata.json', Buffer.from(bad));
    assert.equal(outcome(new Bundle(h.remanifest(f))), 'malformed_metadata', bad.slice(0, 30));
  }
});

test('expired, not yet valid, expiry warning', () => {
  const b = new Bundle(files());
  assert.equal(outcome(b, null, { now: new Date('2099-01-01T00:00:00Z') }), 'expired');
  assert.equal(outcome(b, null, { now: new Date('2001-01-01T00:00:00Z') }), 'not_yet_valid');
  const exp = new Date(JSON.parse(files().get('metadata.json')).expires_at);
  const r = verify(b, null, { now: new Date(exp - 3 * 86400000) });
  assert.ok(r.ok);
  assert.equal(r.result('validity').status, 'warn');
});

test('chain invalid: another CA', () => {
  const d = h.tmpDir();
  const other = h.filesOf(h.generate(require('node:path').join(d, 'o.zip'), ['--cluster', 'x', '--client', 'y'], { home: require('node:path').join(d, 'h') }));
  const f = files();
  f.set('certificates/ca-cert.pem', other.get('certificates/ca-cert.pem'));
  assert.equal(outcome(new Bundle(h.remanifest(f))), 'chain_invalid');
});

test('inconsistent files', () => {
  const other = h.filesOf(h.devBundles()['tar.gz']);
  for (const p of ['cert', 'key', 'ca.crt', 'certificates/client-key.pem']) {
    const f = files();
    f.set(p, p === 'ca.crt' ? Buffer.concat([other.get(p), other.get(p)]) : other.get(p));
    assert.equal(outcome(new Bundle(h.remanifest(f))), 'inconsistent', p);
  }
});

test('key set parsing', () => {
  const p = key('p256');
  assert.equal(scbkit.parseKeySet(h.jwks([p, key('ed25519')])).size, 2);
  const j = JSON.parse(h.jwks([p])).keys[0];
  const bad = ['', 'nonsense', '{"keys": 1}', '{}', '{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}',
    JSON.stringify({ keys: [{ ...j, d: 'secret' }] }), JSON.stringify({ keys: [{ ...j, kid: '0'.repeat(64) }] }),
    JSON.stringify({ keys: [{ ...j, use: 'enc' }] }), JSON.stringify({ keys: [{ ...j, exp: 1.5 }] }), JSON.stringify({ keys: [j, j] }),
    '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'];
  for (const b of bad) assert.throws(() => scbkit.parseKeySet(b), scbkit.KeySetError, b.slice(0, 40));
  assert.throws(() => scbkit.parseKeySet('{"keys": [{"kty": "oct"}]}'), scbkit.UnsupportedKeyError);
  const small = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.throws(() => scbkit.parseKeySet(small.publicKey.export({ type: 'spki', format: 'pem' })), scbkit.UnsupportedKeyError);
});

test('errors are typed and carry outcomes', () => {
  const k = key('p256');
  const f = new Map(h.signed(files(), k).entries());
  f.set('README.md', Buffer.from('x'));
  h.remanifest(f);
  const r = verify(new Bundle(f), h.jwks([k]));
  const e = r.error();
  assert.ok(e instanceof scbkit.BadSignatureError && e.outcome === 'bad_signature' && e.check === 'signature');
  assert.throws(() => r.throwIfFailed(), scbkit.BadSignatureError);
});
