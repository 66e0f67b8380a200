'use strict';
// Test helpers: bundles from the real CLI, hostile archive builders, an
// independent signer on node:crypto, and the shared Cassandra test cluster.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync, spawnSync } = require('node:child_process');
const scbkit = require('..');

function repoRoot() {
  let p = __dirname;
  while (p !== path.dirname(p)) {
    if (fs.existsSync(path.join(p, 'go.mod')) && fs.existsSync(path.join(p, 'cmd', 'scb'))) return p;
    p = path.dirname(p);
  }
  throw new Error(`repository root (go.mod) not found above ${__dirname}`);
}

/** A private temporary directory (mkdtemp: 0700, unpredictable name), removed at exit. */
function tmpDir(prefix = 'scbkit-node-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

let scbBinCache;
function scbBin() {
  if (process.env.SCB_BIN) return process.env.SCB_BIN;
  if (!scbBinCache) {
    scbBinCache = path.join(tmpDir('scbkit-bin-'), 'scb');
    execFileSync('go', ['build', '-o', scbBinCache, './cmd/scb'], { cwd: repoRoot(), stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return scbBinCache;
}

function generate(out, args, { home, format = 'zip' } = {}) {
  const env = { ...process.env };
  delete env.SCB_CA_PASSPHRASE;
  if (home) env.SCB_HOME = home;
  // Unsigned: the tests sign bundles themselves, with independent signers.
  const r = spawnSync(scbBin(), ['generate', '--format', format, '--out', out, '--force', '--no-sign', ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scb generate failed (${r.status}): ${r.stderr}`);
  return out;
}

let devCache;
/** One development bundle (new CA in a private SCB_HOME) in each format. */
function devBundles() {
  if (!devCache) {
    const d = tmpDir();
    const home = path.join(d, 'home');
    const args = ['--cluster', 'unit', '--client', 'nodetest'];
    devCache = {
      zip: generate(path.join(d, 'b.zip'), args, { home }),
      'tar.gz': generate(path.join(d, 'b.tar.gz'), args, { home, format: 'tar.gz' }),
      dir: generate(path.join(d, 'b.dir'), args, { home, format: 'dir' }),
      home,
      dirRoot: d,
    };
  }
  return devCache;
}

function filesOf(p) { return new Map(scbkit.readBundle(p).entries()); }

// --- archive builders ---------------------------------------------------------

function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

/** entries: { name, data, method = 8, unixMode, usize (lie), crc (lie) } */
function makeZip(entries) {
  const locals = [];
  const centrals = [];
  let off = 0;
  for (const e of entries) {
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data || '');
    const method = e.method === undefined ? 8 : e.method;
    const comp = method === 8 ? zlib.deflateRawSync(data) : data;
    const crc = e.crc === undefined ? crc32(data) : e.crc;
    const usize = e.usize === undefined ? data.length : e.usize;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0x800, 6); lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(usize, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE((3 << 8) | 20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(0x800, 8);
    ch.writeUInt16LE(method, 10); ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(usize, 24);
    ch.writeUInt16LE(name.length, 28); ch.writeUInt32LE(((e.unixMode === undefined ? 0o100600 : e.unixMode) << 16) >>> 0, 38);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, name, comp);
    centrals.push(ch, name);
    off += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(entries.length, 8); eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** members: { name, data, type = '0', linkname } → tar.gz (ustar) */
function makeTarGz(members, { trailing } = {}) {
  const blocks = [];
  for (const m of members) {
    const h = Buffer.alloc(512);
    const data = Buffer.from(m.data || '');
    h.write(m.name, 0, 100, 'utf8');
    h.write('0000600\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write(m.type || '0', 156);
    if (m.linkname) h.write(m.linkname, 157, 100);
    h.write('ustar\0', 257); h.write('00', 263);
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const c of h) sum += c;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  if (trailing) blocks.push(Buffer.from(trailing));
  return zlib.gzipSync(Buffer.concat(blocks));
}

// --- signing (test side) ------------------------------------------------------

function genKey(kind) {
  switch (kind) {
    case 'p256': return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'p384': return crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ed25519': return crypto.generateKeyPairSync('ed25519');
    case 'rsa3072': return crypto.generateKeyPairSync('rsa', { modulusLength: 3072 });
    default: throw new Error(kind);
  }
}

function rawSign(kp, msg) {
  const t = kp.publicKey.asymmetricKeyType;
  if (t === 'ed25519') return crypto.sign(null, msg, kp.privateKey);
  if (t === 'rsa') return crypto.sign('sha256', msg, { key: kp.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  const h = kp.publicKey.asymmetricKeyDetails.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  return crypto.sign(h, msg, { key: kp.privateKey, dsaEncoding: 'der' });
}

const PT = 'application/vnd.scbkit.manifest+json';

function envelope(manifest, kps, { payloadType = PT, tamper } = {}) {
  const msg = scbkit.pae(payloadType, manifest);
  const signatures = kps.map((kp) => {
    let s = rawSign(kp, msg);
    if (tamper) s = tamper(s);
    return { keyid: scbkit.keyId(kp.publicKey), sig: s.toString('base64') };
  });
  return Buffer.from(`${JSON.stringify({ payloadType, payload: manifest.toString('base64'), signatures }, null, 2)}\n`);
}

function jwks(kps, extra = {}) {
  return Buffer.from(JSON.stringify({
    keys: kps.map((kp) => ({ ...kp.publicKey.export({ format: 'jwk' }), kid: scbkit.keyId(kp.publicKey), ...extra })),
  }));
}

function signed(files, ...kps) {
  const f = new Map(files);
  f.set('signatures/manifest.dsse.json', envelope(f.get('manifest.json'), kps));
  return new scbkit.Bundle(f);
}

function remanifest(files) {
  const model = require('../lib/model');
  files.set('manifest.json', model.encodeManifest(model.newManifest(new scbkit.Bundle(files))));
  return files;
}

function writeDir(dir, files) {
  for (const [p, data] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, p), data, { mode: 0o600 });
  }
  return dir;
}

// --- the shared test cluster --------------------------------------------------

/** The cluster state, or null (the caller skips, or fails under CI). */
function clusterState() {
  const p = process.env.SCB_TEST_STATE;
  if (!p) return null;
  return JSON.parse(fs.readFileSync(p, 'utf8'));
}

function openssl(args, opts = {}) {
  const r = spawnSync('openssl', args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * An scb CA directory whose root is the cluster's test CA and whose
 * intermediate is made here (Node has no X.509 writer, so openssl signs it),
 * so that 'scb generate --dir' issues client certificates the nodes accept.
 */
function clusterCADir(state) {
  const d = path.join(tmpDir(), 'ca');
  fs.mkdirSync(d, { mode: 0o700 });
  const w = (n, data) => fs.writeFileSync(path.join(d, n), data, { mode: 0o600, flag: 'wx' });
  w('root-cert.pem', fs.readFileSync(state.ca_cert));
  w('root-key.pem', fs.readFileSync(state.ca_key));
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  w('intermediate-key.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const ext = path.join(d, 'ext.cnf');
  fs.writeFileSync(ext, '[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n', { mode: 0o600 });
  const csr = openssl(['req', '-new', '-key', path.join(d, 'intermediate-key.pem'), '-subj', '/O=scbkit test/CN=scbkit node intermediate']);
  const cert = openssl(['x509', '-req', '-CA', state.ca_cert, '-CAkey', state.ca_key, '-set_serial', `0x${crypto.randomBytes(12).toString('hex')}`,
    '-days', '2', '-extfile', ext, '-extensions', 'v3', '-sha256'], { input: csr });
  fs.rmSync(ext);
  w('intermediate-cert.pem', cert);
  w('ca.json', `${JSON.stringify({ version: 1, key_type: 'ecdsa-p256', encrypted: false, created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') })}\n`);
  return d;
}

/** A server certificate for localhost/127.0.0.1 from the cluster CA (for the gateway). */
function issueServer(state, dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPath = path.join(dir, 'server-key.pem');
  fs.writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  const ext = path.join(dir, 'ext.cnf');
  fs.writeFileSync(ext, '[v3]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid:always\n');
  const csr = openssl(['req', '-new', '-key', keyPath, '-subj', '/CN=localhost']);
  const cert = openssl(['x509', '-req', '-CA', state.ca_cert, '-CAkey', state.ca_key, '-set_serial', `0x${crypto.randomBytes(12).toString('hex')}`,
    '-days', '2', '-extfile', ext, '-extensions', 'v3', '-sha256'], { input: csr });
  const certPath = path.join(dir, 'server-cert.pem');
  fs.writeFileSync(certPath, cert);
  return { certPath, keyPath };
}

module.exports = {
  repoRoot, tmpDir, scbBin, generate, devBundles, filesOf, makeZip, makeTarGz, genKey, envelope, jwks, signed, remanifest,
  writeDir, clusterState, clusterCADir, issueServer, crc32,
};
