'use strict';
// The shared vector corpus (spec/vectors/vectors.json): every vector must
// reach its expected outcome, first failing check and signers.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const scbkit = require('..');
const h = require('./helpers');

const dir = process.env.SCB_VECTORS_DIR || path.join(h.repoRoot(), 'spec', 'vectors');
const indexPath = path.join(dir, 'vectors.json');
const index = fs.existsSync(indexPath) ? JSON.parse(fs.readFileSync(indexPath, 'utf8')) : null;

test('the corpus is present (a missing vectors.json fails, it is not skipped)', () => {
  assert.ok(index, `${indexPath} not found`);
  assert.equal(index.format, 'scbkit-test-vectors/1');
  assert.ok(index.vectors.length >= 20);
  const algs = new Set(index.keys.map((k) => k.alg));
  assert.ok(algs.has('ES256') && algs.has('EdDSA'));
});

for (const v of index ? index.vectors : []) {
  test(`vector ${v.name}`, () => {
    const lim = v.limits || index.defaults.limits;
    const r = scbkit.verify(path.join(dir, v.file), v.trusted_keys ? fs.readFileSync(path.join(dir, v.trusted_keys)) : null, {
      now: new Date(v.verify_at),
      threshold: v.threshold || 1,
      limits: { maxFiles: lim.max_files, maxFileSize: lim.max_file_size, maxTotalSize: lim.max_total_size },
      detachedSignature: v.detached_signature ? fs.readFileSync(path.join(dir, v.detached_signature)) : undefined,
    });
    const first = r.firstFailure();
    assert.deepEqual([r.outcome, first ? first.check : null], [v.expect.outcome, v.expect.check], `${v.description}\n${r}`);
    if (v.expect.signers) assert.deepEqual(r.result('signature').keyIds, v.expect.signers);
    if (v.expect.outcome !== 'valid') {
      const e = r.error();
      assert.ok(e instanceof scbkit.ScbError && e.outcome === v.expect.outcome);
    }
  });
}

test('key ids match the corpus', { skip: !index }, () => {
  for (const k of index.keys) {
    assert.deepEqual(scbkit.parseKeySet(fs.readFileSync(path.join(dir, k.public_pem))).keyIds(), [k.keyid], k.name);
  }
});

test('the published test-only private keys sign a bundle this loader accepts', { skip: !index }, () => {
  const files = h.filesOf(path.join(dir, 'bundles', 'unsigned.zip'));
  for (const k of index.keys.filter((x) => ['signer-p256', 'signer-ed25519'].includes(x.name))) {
    const privateKey = crypto.createPrivateKey(fs.readFileSync(path.join(dir, k.private_pem_test_only)));
    const kp = { privateKey, publicKey: crypto.createPublicKey(privateKey) };
    const r = scbkit.verify(h.signed(files, kp), fs.readFileSync(path.join(dir, 'keys', 'trusted.jwks.json')), { now: new Date('2025-06-01T00:00:00Z') });
    assert.equal(r.outcome, 'valid', String(r));
    assert.deepEqual(r.result('signature').keyIds, [k.keyid]);
  }
});
