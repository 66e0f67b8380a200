'use strict';
// Bundle signatures with node:crypto only: DSSE envelopes over manifest.json
// and trusted key sets (JWKS or PEM), by the rules of the Go reference
// (scb/signing): ES256/ES384 with ASN.1 DER signatures, pure Ed25519,
// RSA-PSS SHA-256/MGF1-SHA-256/32-byte salt with 3072/4096-bit keys; key id =
// lower-case hex SHA-256 of the DER SubjectPublicKeyInfo.

const crypto = require('node:crypto');
const fs = require('node:fs');
const json = require('./json');
const {
  BadSignatureError, KeyOutsideValidityError, KeySetError, MalformedSignatureError, NoTrustedKeysError,
  UnknownSignerError, UnsupportedKeyError,
} = require('./errors');

const PAYLOAD_TYPE_MANIFEST = 'application/vnd.scbkit.manifest+json';
const PAYLOAD_TYPE_ARCHIVE = 'application/vnd.scbkit.archive+json';
const ARCHIVE_STATEMENT_TYPE = 'scbkit.archive/1';
const MAX_ENVELOPE_SIZE = 4 << 20;
const MAX_SIGNATURES = 32;
const MAX_SIGNATURE_SIZE = 1024;
const MAX_KEY_SET_SIZE = 1 << 20;
const MAX_NUMERIC_DATE = 253402300799;

/** DSSE v1 pre-authentication encoding. */
function pae(payloadType, payload) {
  const t = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

/** 'ES256' | 'ES384' | 'EdDSA' | 'PS256'; UnsupportedKeyError otherwise. */
function algorithmOf(key) {
  if (!(key instanceof crypto.KeyObject) || key.type !== 'public') throw new UnsupportedKeyError('unsupported signing key: not a public KeyObject');
  const d = key.asymmetricKeyDetails || {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (d.namedCurve === 'prime256v1') return 'ES256';
      if (d.namedCurve === 'secp384r1') return 'ES384';
      throw new UnsupportedKeyError(`unsupported signing key: ECDSA curve ${d.namedCurve} (use P-256 or P-384)`);
    case 'ed25519':
      return 'EdDSA';
    case 'rsa':
      if (d.modulusLength !== 3072 && d.modulusLength !== 4096) throw new UnsupportedKeyError(`unsupported signing key: ${d.modulusLength}-bit RSA key (use 3072 or 4096 bits)`);
      return 'PS256';
    default:
      throw new UnsupportedKeyError(`unsupported signing key: ${key.asymmetricKeyType}`);
  }
}

function keyId(key) {
  algorithmOf(key);
  return crypto.createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

class KeySet {
  constructor(keys = []) {
    this._keys = new Map();
    for (const k of keys) this.add(k);
  }
  /** Adds a KeyObject, a PEM/DER public key, or { key, notBefore, expires }. */
  add(k) {
    let tk = k;
    if (!(k && typeof k === 'object' && 'key' in k && !(k instanceof crypto.KeyObject))) tk = { key: k };
    const key = tk.key instanceof crypto.KeyObject ? tk.key : crypto.createPublicKey(tk.key);
    const alg = algorithmOf(key);
    const id = keyId(key);
    if (this._keys.has(id)) throw new KeySetError(`malformed key set: key ${id} listed twice`);
    const notBefore = tk.notBefore || null;
    const expires = tk.expires || null;
    if (notBefore && expires && !(notBefore < expires)) throw new KeySetError(`malformed key set: key ${id}: nbf is not before exp`);
    const entry = Object.freeze({ key, id, alg, notBefore, expires });
    this._keys.set(id, entry);
    return entry;
  }
  lookup(id) { return this._keys.get(id); }
  keyIds() { return [...this._keys.keys()]; }
  get size() { return this._keys.size; }
  toString() { return `KeySet(${this.keyIds().join(', ')})`; }
}

const validAt = (k, t) => (!k.notBefore || t >= k.notBefore) && (!k.expires || t < k.expires);

function b64url(v, name) {
  if (typeof v !== 'string') throw new TypeError(v === undefined || v === null ? `${name} missing` : `${name} is not a string`);
  if (!/^[A-Za-z0-9_-]*$/.test(v) || v.length % 4 === 1) throw new TypeError(`${name} is not unpadded base64url`);
  const raw = Buffer.from(v, 'base64url');
  if (raw.toString('base64url') !== v) throw new TypeError(`${name} is not unpadded base64url`);
  return raw;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function parseJWK(i, m) {
  const bad = (msg) => new KeySetError(`malformed key set: key ${i + 1}: ${msg}`);
  for (const n of ['kty', 'crv', 'kid', 'alg', 'use']) if (n in m && typeof m[n] !== 'string') throw bad(`${n} is not a string`);
  const kty = m.kty || '';
  const crv = m.crv || '';
  let key;
  try {
    if (kty === 'EC') {
      const size = { 'P-256': 32, 'P-384': 48 }[crv];
      if (!size) throw new UnsupportedKeyError(`unsupported signing key: key ${i + 1}: EC curve ${JSON.stringify(crv.slice(0, 64))} (use P-256 or P-384)`);
      const x = b64url(m.x, 'x');
      const y = b64url(m.y, 'y');
      if (x.length !== size || y.length !== size) throw bad(`x and y must be ${size} bytes each`);
      try {
        key = crypto.createPublicKey({ key: { kty: 'EC', crv, x: m.x, y: m.y }, format: 'jwk' });
      } catch {
        throw bad(`not a point on ${crv}`);
      }
    } else if (kty === 'OKP') {
      if (crv !== 'Ed25519') throw new UnsupportedKeyError(`unsupported signing key: key ${i + 1}: OKP curve ${JSON.stringify(crv.slice(0, 64))} (use Ed25519)`);
      if (b64url(m.x, 'x').length !== 32) throw bad('x must be 32 bytes');
      key = crypto.createPublicKey({ key: { kty: 'OKP', crv, x: m.x }, format: 'jwk' });
    } else if (kty === 'RSA') {
      const n = b64url(m.n, 'n');
      const e = b64url(m.e, 'e');
      if (n.length > 1024 || e.length === 0 || e.length > 4) throw bad('RSA parameters out of range');
      const ev = e.readUIntBE(0, e.length);
      if (ev < 3 || ev > 2 ** 31 - 1 || ev % 2 === 0) throw bad('RSA exponent out of range');
      let start = 0;
      while (start < n.length && n[start] === 0) start++;
      const nTrim = n.subarray(start);
      const bits = nTrim.length ? (nTrim.length - 1) * 8 + (32 - Math.clz32(nTrim[0])) : 0;
      if (bits !== 3072 && bits !== 4096) throw new UnsupportedKeyError(`unsupported signing key: key ${i + 1}: ${bits}-bit RSA key (use 3072 or 4096 bits)`);
      try {
        key = crypto.createPublicKey({ key: { kty: 'RSA', n: nTrim.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
      } catch {
        throw bad('malformed RSA key');
      }
    } else {
      throw new UnsupportedKeyError(`unsupported signing key: key ${i + 1}: kty ${JSON.stringify(String(kty).slice(0, 64))} (use EC, OKP or RSA)`);
    }
  } catch (err) {
    if (err instanceof KeySetError) throw err;
    throw bad(err.message);
  }
  const id = keyId(key);
  const alg = algorithmOf(key);
  if ('kid' in m && m.kid !== id) throw bad(`kid is not the key's id ${id}`);
  if ('alg' in m && m.alg !== alg) throw bad(`alg does not match the key (${alg})`);
  if ('use' in m && m.use !== 'sig') throw bad('use is not "sig"');
  if ('key_ops' in m) {
    if (!Array.isArray(m.key_ops) || !m.key_ops.every((o) => typeof o === 'string')) throw bad('key_ops is not an array of strings');
    if (!m.key_ops.includes('verify')) throw bad('key_ops does not allow "verify"');
  }
  const date = (name) => {
    if (!(name in m)) return null;
    const v = m[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_NUMERIC_DATE) throw bad(`${name} is not an integer number of seconds since the epoch`);
    return new Date(v * 1000);
  };
  return { key, notBefore: date('nbf'), expires: date('exp') };
}

const PEM_BLOCK = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----[ \t]*(?:\r?\n|$)/y;

function parsePemKeys(text) {
  const s = new KeySet();
  let pos = 0;
  let i = 0;
  for (;;) {
    const start = text.indexOf('-----BEGIN', pos);
    if (start < 0) break;
    PEM_BLOCK.lastIndex = start;
    const m = PEM_BLOCK.exec(text);
    if (!m) break;
    i++;
    if (m[1] !== 'PUBLIC KEY') {
      if (m[1].includes('PRIVATE')) throw new KeySetError(`malformed key set: PEM block ${i} is a private key; a key set must hold public keys only`);
      throw new KeySetError(`malformed key set: PEM block ${i} is ${JSON.stringify(m[1].slice(0, 64))}, not PUBLIC KEY`);
    }
    let key;
    try {
      key = crypto.createPublicKey({ key: Buffer.from(m[2].replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    } catch {
      throw new KeySetError(`malformed key set: PEM block ${i}: malformed public key`);
    }
    try {
      s.add(key);
    } catch (err) {
      if (err instanceof KeySetError) err.message = `PEM block ${i}: ${err.message}`;
      throw err;
    }
    pos = PEM_BLOCK.lastIndex;
  }
  if (text.slice(pos).trim() !== '') throw new KeySetError('malformed key set: data after the last PEM block');
  return s;
}

/** Reads trusted keys from a JWKS or from PEM "PUBLIC KEY" blocks (Buffer or string). */
function parseKeySet(data) {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
  if (buf.length > MAX_KEY_SET_SIZE) throw new KeySetError(`malformed key set: larger than ${MAX_KEY_SET_SIZE} bytes`);
  const t = buf.toString('utf8').trim();
  let s;
  if (t.startsWith('{')) {
    let top;
    try {
      top = json.parse(t);
    } catch (err) {
      throw new KeySetError(`malformed key set: ${err.message}`);
    }
    if (top.keys === undefined || top.keys === null) throw new KeySetError('malformed key set: no "keys" array');
    if (!Array.isArray(top.keys)) throw new KeySetError('malformed key set: "keys" is not an array');
    s = new KeySet();
    top.keys.forEach((m0, i) => {
      const m = m0 === null ? {} : m0;
      if (!json.isObj(m)) throw new KeySetError(`malformed key set: key ${i + 1} is not an object`);
      for (const p of PRIVATE_MEMBERS) {
        if (p in m) throw new KeySetError(`malformed key set: key ${i + 1}: holds private key material (${JSON.stringify(p)}); a key set must hold public keys only`);
      }
      const k = parseJWK(i, m);
      try {
        s.add(k);
      } catch (err) {
        if (err instanceof KeySetError) err.message = `key ${i + 1}: ${err.message}`;
        throw err;
      }
    });
  } else if (t.startsWith('-----BEGIN')) {
    s = parsePemKeys(t);
  } else {
    throw new KeySetError('malformed key set: neither a JWKS nor PEM public keys');
  }
  if (s.size === 0) throw new KeySetError('malformed key set: no keys');
  return s;
}

/**
 * Coerces trusted keys into a KeySet: a KeySet; a Buffer or a string holding a
 * JWKS or PEM; a file path string; a parsed JWKS object ({keys: [...]}); an
 * array of KeyObjects, PEM strings or {key, notBefore, expires}.
 */
function asKeySet(keys) {
  if (keys instanceof KeySet) return keys;
  if (Buffer.isBuffer(keys)) return parseKeySet(keys);
  if (typeof keys === 'string') {
    const t = keys.trimStart();
    if (t.startsWith('{') || t.startsWith('-----BEGIN')) return parseKeySet(keys);
    const fd = fs.openSync(keys, 'r');
    try {
      const buf = Buffer.alloc(MAX_KEY_SET_SIZE + 1);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return parseKeySet(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  }
  if (Array.isArray(keys)) return new KeySet(keys);
  if (keys && typeof keys === 'object' && 'keys' in keys) return parseKeySet(JSON.stringify(keys));
  throw new TypeError('trusted keys: expected a KeySet, JWKS or PEM data, a file path, or an array of public keys');
}

// --- envelopes ----------------------------------------------------------------

function strictB64(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) return null;
  const raw = Buffer.from(s, 'base64');
  return raw.toString('base64') === s ? raw : null;
}

function parseEnvelope(data) {
  const bad = (m) => new MalformedSignatureError(`malformed signature envelope: ${m}`);
  if (data.length > MAX_ENVELOPE_SIZE) throw bad(`envelope larger than ${MAX_ENVELOPE_SIZE} bytes`);
  let obj;
  try {
    obj = json.parse(data);
  } catch (err) {
    throw bad(err.message);
  }
  if (!json.isObj(obj)) throw bad('not a JSON object');
  if (Object.keys(obj).some((k) => !['payloadType', 'payload', 'signatures'].includes(k))) throw bad('unknown member');
  const pt = obj.payloadType;
  if (pt !== undefined && pt !== null && typeof pt !== 'string') throw bad('payloadType has the wrong type');
  if (!pt) throw bad('payloadType missing');
  const payload = strictB64(obj.payload === undefined || obj.payload === null ? '' : obj.payload);
  if (payload === null) throw bad('payload is not standard base64');
  const sigs = obj.signatures;
  if (sigs !== undefined && sigs !== null && !Array.isArray(sigs)) throw bad('signatures has the wrong type');
  if (!sigs || !sigs.length) throw bad('no signatures');
  if (sigs.length > MAX_SIGNATURES) throw bad(`more than ${MAX_SIGNATURES} signatures`);
  const seen = new Set();
  const signatures = sigs.map((s0, idx) => {
    const i = idx + 1;
    const s = s0 === null ? {} : s0;
    if (!json.isObj(s) || Object.keys(s).some((k) => k !== 'keyid' && k !== 'sig')) throw bad(`signature ${i} is malformed`);
    const kid = s.keyid === undefined || s.keyid === null ? '' : s.keyid;
    if (typeof kid !== 'string' || !/^[0-9a-f]{64}$/.test(kid)) throw bad(`signature ${i}: keyid is not 64 lower-case hexadecimal digits`);
    if (seen.has(kid)) throw bad(`signature ${i}: key ${kid} signed twice`);
    seen.add(kid);
    const raw = strictB64(s.sig === undefined || s.sig === null ? '' : s.sig);
    if (!raw || raw.length === 0 || raw.length > MAX_SIGNATURE_SIZE) throw bad(`signature ${i}: sig is not a non-empty standard base64 signature`);
    return { keyId: kid, sig: raw };
  });
  return { payloadType: pt, payload, signatures };
}

function derLen(b, i) {
  if (i >= b.length) return null;
  const first = b[i];
  if (first < 0x80) return [first, i + 1];
  const n = first & 0x7f;
  if (n === 0 || n > 2 || i + 1 + n > b.length) return null;
  const v = n === 1 ? b[i + 1] : b.readUInt16BE(i + 1);
  if (v < 0x80 || (n === 2 && v < 0x100)) return null;
  return [v, i + 1 + n];
}

/** Exactly a DER SEQUENCE of two positive, minimally encoded INTEGERs. */
function isDERSignature(sig) {
  if (sig.length < 8 || sig[0] !== 0x30) return false;
  let r = derLen(sig, 1);
  if (!r || r[0] + r[1] !== sig.length) return false;
  let i = r[1];
  for (let k = 0; k < 2; k++) {
    if (i >= sig.length || sig[i] !== 0x02) return false;
    r = derLen(sig, i + 1);
    if (!r || r[0] === 0) return false;
    const [n, j] = r;
    const v = sig.subarray(j, j + n);
    if (v.length !== n || v[0] & 0x80 || (n > 1 && v[0] === 0 && !(v[1] & 0x80)) || v.every((c) => c === 0)) return false;
    i = j + n;
  }
  return i === sig.length;
}

function verifyRaw(k, msg, sig) {
  try {
    switch (k.alg) {
      case 'ES256':
      case 'ES384':
        if (!isDERSignature(sig)) return 'ECDSA signature is not ASN.1 DER';
        return crypto.verify(k.alg === 'ES256' ? 'sha256' : 'sha384', msg, { key: k.key, dsaEncoding: 'der' }, sig) ? '' : 'invalid signature';
      case 'EdDSA':
        if (sig.length !== 64) return 'Ed25519 signature has the wrong length';
        return crypto.verify(null, msg, k.key, sig) ? '' : 'invalid signature';
      case 'PS256':
        if (sig.length !== k.key.asymmetricKeyDetails.modulusLength / 8) return 'RSA signature has the wrong length';
        return crypto.verify('sha256', msg, { key: k.key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig) ? '' : 'invalid signature';
      default:
        return 'unsupported algorithm';
    }
  } catch {
    return 'invalid signature';
  }
}

/** Checks envelope signatures against keys at time now; returns {keyIds, expired, unknown}. */
function verifyEnvelope(env, keys, now = new Date(), threshold = 1) {
  if (!keys || keys.size === 0) throw new NoTrustedKeysError('no trusted keys given');
  const need = Math.max(threshold, 1);
  const msg = pae(env.payloadType, env.payload);
  const keyIds = [];
  const expired = [];
  const unknown = [];
  for (const s of env.signatures) {
    const k = keys.lookup(s.keyId);
    if (!k) { unknown.push(s.keyId); continue; }
    const why = verifyRaw(k, msg, s.sig);
    if (why) throw new BadSignatureError(`signature does not verify: ${why}`, { keyId: s.keyId });
    if (!validAt(k, now)) { expired.push(s.keyId); continue; }
    if (!keyIds.includes(s.keyId)) keyIds.push(s.keyId);
  }
  if (keyIds.length >= need) return { keyIds, expired, unknown };
  if (expired.length) throw new KeyOutsideValidityError('signing key is outside its validity window', { keyId: expired[0] });
  if (keyIds.length) throw new UnknownSignerError(`not signed by a trusted key: ${keyIds.length} of ${need} required trusted keys signed`);
  throw new UnknownSignerError(`not signed by a trusted key: signed by ${unknown.length} key(s), none of them trusted`);
}

/** The statement of a detached signature: { type, name, size, sha256 }. */
function parseArchiveStatement(data) {
  const bad = (m) => new MalformedSignatureError(`malformed signature envelope: archive statement: ${m}`);
  let obj;
  try {
    obj = json.parse(data);
  } catch (err) {
    throw bad(err.message);
  }
  if (!json.isObj(obj)) throw bad('not a JSON object');
  for (const m of ['type', 'name', 'size', 'sha256']) if (!(m in obj)) throw bad(`${m} missing`);
  if (Object.keys(obj).length !== 4) throw bad('unknown member');
  const { type, name, size, sha256 } = obj;
  if (typeof type !== 'string' || typeof name !== 'string' || typeof sha256 !== 'string' || !json.isInt(size)) throw bad('member has the wrong type');
  if (type !== ARCHIVE_STATEMENT_TYPE) throw bad(`type is not ${JSON.stringify(ARCHIVE_STATEMENT_TYPE)}`);
  if (!name || Buffer.byteLength(name) > 255 || /[/\\\x00-\x1f\x7f]/.test(name)) throw bad('name is not a plain file name');
  if (size < 0 || typeof size === 'bigint') throw bad('negative or oversized size');
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad('sha256 is not 64 lower-case hexadecimal digits');
  return {
    type, name, size, sha256,
    matches: (archive) => archive.length === size && crypto.createHash('sha256').update(archive).digest('hex') === sha256,
  };
}

module.exports = {
  PAYLOAD_TYPE_ARCHIVE, parseArchiveStatement,
  PAYLOAD_TYPE_MANIFEST, pae, algorithmOf, keyId, KeySet, parseKeySet, asKeySet, parseEnvelope, verifyEnvelope, isDERSignature,
};
