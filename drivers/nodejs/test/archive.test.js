'use strict';
// Hostile archives: each rejection carries its documented error type.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const scbkit = require('..');
const { decodeBundle, readBundle, checkPath } = scbkit;
const h = require('./helpers');

const throwsOutcome = (fn, outcome, cls) => assert.throws(fn, (e) => e instanceof scbkit.ScbError && e.outcome === outcome && (!cls || e instanceof cls));

test('checkPath rejects unsafe names', () => {
  for (const n of ['../evil', 'a/../../evil', '/etc/passwd', 'a\\b', 'C:/x', 'a//b', './a', 'a/./b', 'a/', '', 'a\0b', 'tab\there', 'x'.repeat(600)]) {
    throwsOutcome(() => checkPath(n), 'unsafe_path', scbkit.UnsafePathError);
  }
  for (const n of ['metadata.json', 'config/cassandra.yaml', '.hidden', 'a..b', 'ünïcode']) checkPath(n);
});

test('zip: unsafe paths', () => {
  for (const n of ['../evil.txt', '/abs.txt', 'a/../../b', 'dir\\file']) {
    throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'ok', data: '1' }, { name: n, data: '2' }])), 'unsafe_path');
  }
});

test('zip: links and special files', () => {
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'link', data: '/etc/passwd', unixMode: 0o120777 }])), 'unsupported_entry', scbkit.UnsupportedEntryError);
  for (const mode of [0o010600, 0o020600, 0o060600, 0o140600]) {
    throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'special', data: '', unixMode: mode }])), 'unsupported_entry');
  }
});

test('zip: directories skipped but checked; duplicates rejected', () => {
  const b = decodeBundle(h.makeZip([{ name: 'certificates/', unixMode: 0o040700 }, { name: 'certificates/a', data: 'x' }]));
  assert.deepEqual(b.paths(), ['certificates/a']);
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: '../up/', unixMode: 0o040700 }])), 'unsafe_path');
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'a', data: '1' }, { name: 'a', data: '2' }])), 'malformed_archive', scbkit.MalformedArchiveError);
});

test('zip: limits, including a lying size header (bomb)', () => {
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'a', data: 'x'.repeat(2000) }]), { maxFileSize: 1000 }), 'too_large', scbkit.TooLargeError);
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'a', data: 'x'.repeat(600) }, { name: 'b', data: 'y'.repeat(600) }]), { maxTotalSize: 1000 }), 'too_large');
  throwsOutcome(() => decodeBundle(h.makeZip([0, 1, 2, 3, 4].map((i) => ({ name: `f${i}`, data: '' }))), { maxFiles: 4 }), 'too_large');
  const bomb = h.makeZip([{ name: 'bomb', data: Buffer.alloc(20 << 20), usize: 10 }]);
  assert.throws(() => decodeBundle(bomb, { maxFileSize: 1 << 20 }), (e) => ['too_large', 'malformed_archive'].includes(e.outcome));
});

test('zip: checksum, truncation, garbage, unsupported method', () => {
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'a', data: 'hello', method: 0, crc: 1234 }])), 'malformed_archive');
  const good = h.makeZip([{ name: 'a', data: 'hello' }]);
  throwsOutcome(() => decodeBundle(good.subarray(0, good.length >> 1)), 'malformed_archive');
  throwsOutcome(() => decodeBundle(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)])), 'malformed_archive');
  throwsOutcome(() => decodeBundle(Buffer.from('not an archive at all')), 'malformed_archive');
  throwsOutcome(() => decodeBundle(h.makeZip([{ name: 'a', data: 'x', method: 12 }])), 'malformed_archive');
  const b = decodeBundle(h.makeZip([{ name: 'a', data: 'alpha', method: 0 }, { name: 'd/b', data: 'beta'.repeat(100) }]));
  assert.equal(b.get('a').toString(), 'alpha');
  assert.equal(b.get('d/b').toString(), 'beta'.repeat(100));
});

test('zip: reads what Python zipfile and Go write', () => {
  const d = h.tmpDir();
  const py = path.join(d, 'py.zip');
  try {
    execFileSync('python3', ['-c', `import zipfile\nwith zipfile.ZipFile(${JSON.stringify(py)}, "w", zipfile.ZIP_DEFLATED) as z:\n  z.writestr("a/b.txt", "x"*1000)\n  z.writestr("c", "")`]);
  } catch { return; }
  const b = readBundle(py);
  assert.deepEqual(b.paths(), ['a/b.txt', 'c']);
});

test('tar.gz: unsafe paths, links, devices, duplicates, limits, trailing data', () => {
  for (const n of ['../evil', '/abs', 'a/../../b']) throwsOutcome(() => decodeBundle(h.makeTarGz([{ name: n, data: 'x' }])), 'unsafe_path');
  for (const t of ['1', '2', '3', '4', '6']) throwsOutcome(() => decodeBundle(h.makeTarGz([{ name: 'x', type: t, linkname: '/etc/passwd' }])), 'unsupported_entry');
  throwsOutcome(() => decodeBundle(h.makeTarGz([{ name: 'a', data: '1' }, { name: 'a', data: '2' }])), 'malformed_archive');
  throwsOutcome(() => decodeBundle(h.makeTarGz([{ name: 'a', data: 'x'.repeat(5000) }]), { maxFileSize: 4096 }), 'too_large');
  throwsOutcome(() => decodeBundle(h.makeTarGz([{ name: 'a', data: '1' }], { trailing: 'garbage' })), 'malformed_archive');
  const tgz = h.makeTarGz([{ name: 'a', data: '1' }]);
  throwsOutcome(() => decodeBundle(tgz.subarray(0, tgz.length - 10)), 'malformed_archive');
  throwsOutcome(() => decodeBundle(Buffer.concat([tgz, Buffer.from('junk after the gzip stream')])), 'malformed_archive');
  const ok = decodeBundle(h.makeTarGz([{ name: 'd', type: '5' }, { name: 'd/x', data: 'z' }]));
  assert.deepEqual(ok.paths(), ['d/x']);
});

test('directory: links and special files rejected', () => {
  const d = path.join(h.tmpDir(), 'b');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'a.txt'), '1');
  fs.symlinkSync('a.txt', path.join(d, 'link'));
  throwsOutcome(() => readBundle(d), 'unsupported_entry');
  fs.rmSync(path.join(d, 'link'));
  execFileSync('mkfifo', [path.join(d, 'fifo')]);
  throwsOutcome(() => readBundle(d), 'unsupported_entry');
  fs.rmSync(path.join(d, 'fifo'));
  fs.mkdirSync(path.join(d, 'sub'));
  fs.writeFileSync(path.join(d, 'sub', 'b.txt'), '2');
  assert.deepEqual(readBundle(d).paths(), ['a.txt', 'sub/b.txt']);
  throwsOutcome(() => readBundle(d, { maxFiles: 1 }), 'too_large');
});

test('archive larger than the limit is refused before reading', () => {
  const p = path.join(h.tmpDir(), 'big.zip');
  fs.writeFileSync(p, '');
  fs.truncateSync(p, 3 << 20);
  throwsOutcome(() => readBundle(p, { maxTotalSize: 1 << 20 }), 'too_large');
});

test('real bundles: all three formats hold the same paths; nothing prints content', () => {
  const b = h.devBundles();
  const zip = readBundle(b.zip);
  assert.equal(zip.format, 'zip');
  for (const f of ['tar.gz', 'dir']) assert.deepEqual(readBundle(b[f]).paths(), zip.paths());
  const shown = `${zip} ${require('node:util').inspect(zip)} ${JSON.stringify(zip)}`;
  assert.ok(!shown.includes('PRIVATE'));
});

test('gzip bomb is bounded', () => {
  const big = zlib.gzipSync(Buffer.alloc(40 << 20));
  throwsOutcome(() => decodeBundle(big, { maxTotalSize: 1 << 20 }), 'too_large');
});
