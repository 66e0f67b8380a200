'use strict';
// Check a bundle, check by check, as the Go reference (scb/verify) does. The
// first failure decides the report's outcome. Checks, in order:
//   archive, completeness, signature, manifest, chain, validity, consistency.
// Not compared here: the JKS stores (identity.jks, trustStore.jks), and
// cert.pfx is only opened with pfxCertPassword (Node cannot list its
// contents); their SHA-256 is still checked against the manifest.

const crypto = require('node:crypto');
const tls = require('node:tls');
const model = require('./model');
const { P } = model;
const fs = require('node:fs');
const { readBundle, decodeBundle, normalizeLimits, maxArchiveSize } = require('./archive');
const signing = require('./signing');
const E = require('./errors');

const CHECKS = ['detached_signature', 'archive', 'completeness', 'signature', 'manifest', 'chain', 'validity', 'consistency'];
const DEFAULT_EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

class Report {
  constructor(time) { this.time = time; this.results = []; }
  get ok() { return this.results.every((r) => r.status !== 'fail'); }
  get outcome() { const f = this.firstFailure(); return f ? f.outcome : 'valid'; }
  firstFailure() { return this.results.find((r) => r.status === 'fail'); }
  /** The first failure as a typed ScbError, or null. */
  error() { const f = this.firstFailure(); return f ? f.error : null; }
  throwIfFailed() { const e = this.error(); if (e) throw e; return this; }
  result(check) { return this.results.find((r) => r.check === check); }
  failed(check) { const r = this.result(check); return !!r && r.status === 'fail'; }
  add(check, status, message, { error, path, keyIds } = {}) {
    if (error) { error.check = check; if (!error.path && path) error.path = path; }
    const r = { check, status, message, outcome: error && status === 'fail' ? error.outcome : '', path: path || (error && error.path) || '', keyIds: keyIds || [] };
    Object.defineProperty(r, 'error', { value: error || null, enumerable: false });
    this.results.push(r);
  }
  fail(check, error) { this.add(check, 'fail', error.message, { error, path: error.path }); }
  toString() { return [...this.results.map((r) => `${r.check.padEnd(13)} ${r.status.padEnd(5)} ${r.message}`), `outcome: ${this.outcome}`].join('\n'); }
  toJSON() { return { time: this.time.toISOString(), ok: this.ok, outcome: this.outcome, results: this.results }; }
}

const PEM_CERT = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every CERTIFICATE block, in order; throws when there is none or one is malformed. */
function parseCertificatesPEM(data) {
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : String(data);
  const certs = [];
  for (const m of text.matchAll(PEM_CERT)) {
    if (m[1] !== 'CERTIFICATE') continue;
    try {
      certs.push(new crypto.X509Certificate(Buffer.from(m[2].replace(/\s+/g, ''), 'base64')));
    } catch {
      throw new Error(`malformed certificate ${certs.length + 1}`);
    }
  }
  if (!certs.length) throw new Error('no PEM certificate found');
  return certs;
}

const notBefore = (c) => new Date(c.validFrom);
const notAfter = (c) => new Date(c.validTo);
const fingerprint = (c) => crypto.createHash('sha256').update(c.raw).digest('hex');
const spki = (k) => k.export({ type: 'spki', format: 'der' });
const samePublic = (a, b) => { try { return spki(a).equals(spki(b)); } catch { return false; } };

function ekuAllowsClient(c) {
  const eku = c.keyUsage; // extended key usage OIDs; undefined when absent
  if (!eku || !eku.length) return true;
  return eku.includes(CLIENT_AUTH) || eku.includes(ANY_EKU);
}

function issuedBy(child, parent) {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** A verified path leaf → … → root at time `at` for client authentication (as Go's x509 Verify). */
function buildChain(leaf, intermediates, roots, at) {
  const rootDer = roots.map((r) => r.raw);
  let lastErr = 'no path to a trusted root';
  const extend = (path, depth) => {
    const cur = path[path.length - 1];
    if (at < notBefore(cur) || at > notAfter(cur)) { lastErr = `certificate ${JSON.stringify(cur.subject.slice(0, 80))} is not valid at ${at.toISOString()}`; return null; }
    if (!ekuAllowsClient(cur)) { lastErr = 'certificate specifies an incompatible key usage'; return null; }
    if (rootDer.some((d) => d.equals(cur.raw))) return path;
    if (depth > 8) return null;
    const cands = [...roots.map((c) => [c, true]), ...intermediates.map((c) => [c, false])];
    for (const [cand, isRoot] of cands) {
      if (path.some((p) => p.raw.equals(cand.raw))) continue;
      if (!issuedBy(cur, cand)) continue;
      if (!isRoot && !cand.ca) { lastErr = `intermediate ${JSON.stringify(cand.subject.slice(0, 80))} is not a CA`; continue; }
      const got = extend([...path, cand], depth + 1);
      if (got) return got;
    }
    return null;
  };
  const got = extend([leaf], 0);
  if (!got) throw new Error(lastErr);
  return got;
}

function days(ms) {
  if (ms < 48 * 3600 * 1000) return `${Math.round(ms / 60000)}m`;
  return `${Math.floor(ms / 86400000)} days`;
}

class Verifier {
  constructor(b, keys, opts, report) {
    this.b = b; this.keys = keys; this.r = report; this.now = report.time;
    this.requireSignature = !!opts.requireSignature;
    this.threshold = opts.threshold || 1;
    this.expiryWarningMs = opts.expiryWarningMs === undefined ? DEFAULT_EXPIRY_WARNING_MS : opts.expiryWarningMs;
    this.keyPassphrase = opts.keyPassphrase;
    this.meta = null; this.path = null;
  }

  run() { this.completeness(); this.signature(); this.manifest(); this.chain(); this.validity(); this.consistency(); }

  completeness() {
    const errs = [];
    const need = (p) => {
      const d = this.b.get(p);
      if (d === undefined) errs.push([p, 'required file missing']);
      else if (!d.length) errs.push([p, 'required file is empty']);
    };
    model.REQUIRED_PATHS.forEach(need);
    if (this.b.has(P.METADATA)) {
      try {
        this.meta = model.parseMetadata(this.b.get(P.METADATA));
      } catch (err) {
        this.r.fail('completeness', err);
        return;
      }
      need(model.connectionProfilePath(this.meta.environment));
    }
    const stock = model.STOCK_DRIVER_PATHS.filter((p) => this.b.has(p)).length;
    if (stock) model.STOCK_DRIVER_PATHS.forEach(need);
    if (errs.length) {
      const msg = errs.length === 1 ? `${errs[0][0]}: ${errs[0][1]}` : `${errs.length} problems: ${errs.slice(0, 3).map((e) => e.join(': ')).join('; ')}`;
      this.r.fail('completeness', new E.IncompleteError(msg, { path: errs[0][0] }));
      return;
    }
    this.r.add('completeness', 'pass', `${this.b.size} files, every required file present${stock ? ', with the stock-driver files' : ''}`);
  }

  signature() {
    const c = 'signature';
    const signed = this.b.has(P.SIGNATURE);
    if (!this.keys || this.keys.size === 0) {
      if (this.requireSignature) this.r.fail(c, new E.NoTrustedKeysError('a signature is required but no trusted keys were given'));
      else if (signed) this.r.add(c, 'warn', 'signed, but no trusted keys were given: the signature was not checked', { path: P.SIGNATURE });
      else this.r.add(c, 'skip', 'not signed, and no trusted keys were given');
      return;
    }
    const manifest = this.b.get(P.MANIFEST);
    if (manifest === undefined) { this.r.add(c, 'skip', 'no manifest.json to verify'); return; }
    if (!signed) { this.r.fail(c, new E.UnsignedError('the bundle is not signed, and trusted keys were given', { path: P.SIGNATURE })); return; }
    let ok;
    try {
      const env = signing.parseEnvelope(this.b.get(P.SIGNATURE));
      if (env.payloadType !== signing.PAYLOAD_TYPE_MANIFEST) throw new E.BadSignatureError(`signature does not verify: payloadType is not ${JSON.stringify(signing.PAYLOAD_TYPE_MANIFEST)}`);
      if (!env.payload.equals(manifest)) throw new E.BadSignatureError("signature does not verify: the signed payload is not this bundle's manifest.json");
      ok = signing.verifyEnvelope(env, this.keys, this.now, this.threshold);
    } catch (err) {
      if (!(err instanceof E.SignatureError)) throw err;
      err.path = P.SIGNATURE;
      this.r.fail(c, err);
      return;
    }
    let msg = `signed by ${ok.keyIds.length} trusted key(s): ${ok.keyIds.join(', ')}`;
    if (ok.expired.length) msg += `; ${ok.expired.length} more outside their validity window`;
    if (ok.unknown.length) msg += `; ${ok.unknown.length} by unknown keys (ignored)`;
    this.r.add(c, 'pass', msg, { path: P.SIGNATURE, keyIds: ok.keyIds });
  }

  manifest() {
    const c = 'manifest';
    if (!this.b.has(P.MANIFEST)) { this.r.add(c, 'skip', 'no manifest.json'); return; }
    let res;
    try {
      res = model.checkManifest(this.b);
    } catch (err) {
      this.r.fail(c, err);
      return;
    }
    const errs = res.errors;
    for (const p of this.b.paths()) {
      if (!model.inManifest(p) && p !== P.MANIFEST && p !== P.SIGNATURE) errs.push(new E.DigestMismatchError('file not covered by the manifest', { path: p }));
    }
    if (errs.length) {
      const first = errs[0];
      if (errs.length > 1) first.message = `${errs.length} problems: ${errs.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ')}`;
      this.r.fail(c, first);
      return;
    }
    this.r.add(c, 'pass', `${res.manifest.files.length} files match manifest.json`);
  }

  chain() {
    const c = 'chain';
    const rootsPem = this.b.get(P.CA_CERT);
    const chainPem = this.b.get(P.CLIENT_CERT);
    if (!rootsPem || !rootsPem.length || !chainPem || !chainPem.length) { this.r.add(c, 'skip', 'certificate files missing'); return; }
    let roots;
    let chain;
    try { roots = parseCertificatesPEM(rootsPem); } catch (err) {
      this.r.fail(c, new E.ChainInvalidError(`certificate chain does not verify: ${err.message}`, { path: P.CA_CERT })); return;
    }
    try { chain = parseCertificatesPEM(chainPem); } catch (err) {
      this.r.fail(c, new E.ChainInvalidError(`certificate chain does not verify: ${err.message}`, { path: P.CLIENT_CERT })); return;
    }
    const leaf = chain[0];
    const at = new Date(Math.min(Math.max(this.now, notBefore(leaf)), notAfter(leaf)));
    try {
      this.path = buildChain(leaf, chain.slice(1), roots, at);
    } catch (err) {
      this.r.fail(c, new E.ChainInvalidError(`certificate chain does not verify: not issued by ${P.CA_CERT} for client authentication: ${err.message}`, { path: P.CLIENT_CERT }));
      return;
    }
    if (this.meta && this.meta.caFingerprintSha256 !== fingerprint(roots[0])) {
      this.path = null;
      this.r.fail(c, new E.ChainInvalidError(`certificate chain does not verify: ca.fingerprint_sha256 is not the fingerprint of the first certificate in ${P.CA_CERT}`, { path: P.METADATA }));
      return;
    }
    this.r.add(c, 'pass', `client certificate chains to ${P.CA_CERT} for client authentication`, { path: P.CLIENT_CERT });
  }

  validity() {
    const c = 'validity';
    let certs = this.path;
    const verified = !!certs;
    if (!certs) {
      try { certs = parseCertificatesPEM(this.b.get(P.CLIENT_CERT) || '').slice(0, 1); } catch {
        this.r.add(c, 'skip', 'no readable client certificate'); return;
      }
    }
    const name = (i) => (i === 0 ? 'client certificate' : i === certs.length - 1 && verified ? 'CA certificate' : 'intermediate certificate');
    const pathOf = (i) => (i === certs.length - 1 && verified && i > 0 ? P.CA_CERT : P.CLIENT_CERT);
    for (let i = 0; i < certs.length; i++) {
      if (this.now < notBefore(certs[i])) { this.r.fail(c, new E.NotYetValidError(`${name(i)} valid from ${notBefore(certs[i]).toISOString()}`, { path: pathOf(i) })); return; }
      if (this.now > notAfter(certs[i])) { this.r.fail(c, new E.ExpiredError(`${name(i)} expired at ${notAfter(certs[i]).toISOString()}`, { path: pathOf(i) })); return; }
    }
    let first = 0;
    certs.forEach((x, i) => { if (notAfter(x) < notAfter(certs[first])) first = i; });
    const left = notAfter(certs[first]) - this.now;
    const msg = `${name(first)} expires at ${notAfter(certs[first]).toISOString()}, in ${days(left)}`;
    this.r.add(c, this.expiryWarningMs > 0 && left < this.expiryWarningMs ? 'warn' : 'pass', msg, { path: pathOf(first) });
  }

  consistency() {
    const c = 'consistency';
    if (this.r.failed('completeness')) { this.r.add(c, 'skip', 'the bundle is incomplete'); return; }
    const problems = [];
    const fail = (p, msg) => problems.push(new E.InconsistentError(msg, { path: p }));
    const note = this.consistencyChecks(fail);
    if (problems.length) {
      const first = problems[0];
      if (problems.length > 1) first.message = `${problems.length} problems: ${problems.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ')}`;
      this.r.fail(c, first);
      return;
    }
    this.r.add(c, note.startsWith('the client key is encrypted') ? 'warn' : 'pass', note);
  }

  consistencyChecks(fail) {
    const b = this.b;
    if (!this.meta) { fail(P.METADATA, 'metadata.json does not parse'); return ''; }
    let cfg = null;
    try { cfg = model.parseClientConfig(b.get(P.CLIENT_YAML) || Buffer.alloc(0)); } catch (err) { fail(P.CLIENT_YAML, err.message); }
    let roots;
    let leaf;
    try { roots = parseCertificatesPEM(b.get(P.CA_CERT) || ''); } catch (err) { fail(P.CA_CERT, err.message); return ''; }
    const chainPem = b.get(P.CLIENT_CERT) || Buffer.alloc(0);
    try { leaf = parseCertificatesPEM(chainPem)[0]; } catch (err) { fail(P.CLIENT_CERT, err.message); return ''; }
    if (Math.floor(notAfter(leaf) / 1000) !== Math.floor(this.meta.expiresAt / 1000)) fail(P.METADATA, "expires_at differs from the client certificate's");
    const keyPem = b.get(P.CLIENT_KEY) || Buffer.alloc(0);
    const encrypted = keyPem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    if (cfg && cfg.clientKeyEncrypted !== encrypted) fail(P.CLIENT_YAML, `client_key_encrypted does not match ${P.CLIENT_KEY}`);
    if (encrypted && !this.keyPassphrase) {
      this.checkStock(fail, leaf, chainPem, roots);
      return 'the client key is encrypted and no passphrase was given: it was not compared with the certificate';
    }
    let key;
    try {
      key = crypto.createPrivateKey(encrypted ? { key: keyPem, passphrase: this.keyPassphrase } : { key: keyPem });
    } catch {
      fail(P.CLIENT_KEY, 'the private key does not parse (or the passphrase is wrong)');
      return '';
    }
    if (!samePublic(crypto.createPublicKey(key), leaf.publicKey)) fail(P.CLIENT_KEY, 'private key does not match the client certificate');
    this.checkStock(fail, leaf, chainPem, roots);
    return 'certificates, keys and config.json agree; cert.pfx opens (its contents and the JKS stores: digests only)';
  }

  checkStock(fail, leaf, chainPem, roots) {
    const b = this.b;
    if (!model.STOCK_DRIVER_PATHS.some((p) => b.has(p))) return;
    const ccData = b.get(P.CLOUD_CONFIG);
    if (!ccData || !ccData.length) return;
    let cc;
    try { cc = model.parseCloudConfig(ccData); } catch (err) { fail(P.CLOUD_CONFIG, err.message); return; }
    const ca = b.get(P.CLOUD_CA);
    if (ca !== undefined) {
      try {
        const cas = parseCertificatesPEM(ca);
        if (cas.length !== 1) fail(P.CLOUD_CA, `must hold exactly one certificate, holds ${cas.length}`);
        else if (!cas[0].raw.equals(roots[0].raw)) fail(P.CLOUD_CA, `differs from the first certificate of ${P.CA_CERT}`);
        else if (!issuedBy(cas[0], cas[0]) || !cas[0].ca) fail(P.CLOUD_CA, 'is not a self-signed root');
      } catch (err) { fail(P.CLOUD_CA, err.message); }
    }
    const cert = b.get(P.CLOUD_CERT);
    if (cert !== undefined && !cert.equals(chainPem)) fail(P.CLOUD_CERT, `differs from ${P.CLIENT_CERT}`);
    const key = b.get(P.CLOUD_KEY);
    if (key && key.length) {
      try {
        if (!samePublic(crypto.createPublicKey(crypto.createPrivateKey(key)), leaf.publicKey)) fail(P.CLOUD_KEY, 'does not match the client certificate');
      } catch { fail(P.CLOUD_KEY, 'the private key does not parse (it must be unencrypted PKCS#8)'); }
    }
    const pfx = b.get(P.CLOUD_PFX);
    if (pfx && pfx.length) {
      try { tls.createSecureContext({ pfx, passphrase: cc.pfxCertPassword || '' }); } catch {
        fail(P.CLOUD_PFX, 'cannot be opened with pfxCertPassword from config.json');
      }
    }
  }
}

/** Verifies an in-memory Bundle and returns a Report (never throws for bad content). */
function verifyBundle(bundle, trustedKeys, opts = {}) {
  const now = opts.now ? new Date(opts.now) : new Date();
  const keys = trustedKeys === undefined || trustedKeys === null ? null : signing.asKeySet(trustedKeys);
  const r = new Report(now);
  new Verifier(bundle, keys, opts, r).run();
  return r;
}

/**
 * Reads a bundle (zip, tar.gz or directory) safely and verifies it. A
 * detached signature (opts.detachedSignature: Buffer or path) is checked over
 * the archive bytes before the archive is opened; only the one given is
 * checked, never one found next to the file.
 */
function verifyPath(file, trustedKeys, opts = {}) {
  const now = opts.now ? new Date(opts.now) : new Date();
  const keys = trustedKeys === undefined || trustedKeys === null ? null : signing.asKeySet(trustedKeys);
  const r = new Report(now);
  const lim = normalizeLimits(opts.limits);
  let sig = null;
  if (opts.detachedSignature !== undefined && opts.detachedSignature !== null) {
    try {
      sig = Buffer.isBuffer(opts.detachedSignature) ? opts.detachedSignature : fs.readFileSync(opts.detachedSignature);
    } catch (err) {
      r.fail('detached_signature', new E.ScbError(`cannot read the detached signature: ${err.code || err.message}`));
      return r;
    }
  }
  let b;
  try {
    if (fs.statSync(file).isDirectory()) {
      if (sig || opts.requireDetachedSignature) {
        r.fail('detached_signature', new E.ScbError('a directory cannot carry a detached signature'));
        return r;
      }
      b = readBundle(file, lim);
    } else {
      const size = fs.statSync(file).size;
      if (size > maxArchiveSize(lim)) {
        r.fail('archive', new E.TooLargeError(`archive is ${size} bytes, more than ${maxArchiveSize(lim)}`));
        return r;
      }
      const data = fs.readFileSync(file);
      if (!detached(r, data, sig, keys, now, opts)) return r;
      b = decodeBundle(data, lim, { source: file });
    }
  } catch (err) {
    r.fail('archive', err instanceof E.ScbError ? err : new E.ScbError(`cannot read the bundle: ${err.code || err.message}`));
    return r;
  }
  r.add('archive', 'pass', `${b.format} with ${b.size} files, every path safe`);
  const sub = verifyBundle(b, keys, { ...opts, now });
  r.results.push(...sub.results);
  return r;
}

function detached(r, archive, sig, keys, now, opts) {
  const c = 'detached_signature';
  if (!sig) {
    if (opts.requireDetachedSignature) { r.fail(c, new E.UnsignedError('a detached signature is required and there is none')); return false; }
    r.add(c, 'skip', 'no detached signature');
    return true;
  }
  if (!keys || keys.size === 0) {
    if (opts.requireSignature) { r.fail(c, new E.NoTrustedKeysError('a signature is required but no trusted keys were given')); return false; }
    r.add(c, 'warn', 'detached signature present, but no trusted keys were given: it was not checked');
    return true;
  }
  let st;
  let ok;
  try {
    const env = signing.parseEnvelope(sig);
    if (env.payloadType !== signing.PAYLOAD_TYPE_ARCHIVE) throw new E.BadSignatureError(`signature does not verify: payloadType is not ${JSON.stringify(signing.PAYLOAD_TYPE_ARCHIVE)}`);
    st = signing.parseArchiveStatement(env.payload);
    if (!st.matches(archive)) {
      r.fail(c, new E.DigestMismatchError(`archive does not match its detached signature: signed for ${st.size} bytes with SHA-256 ${st.sha256}`));
      return false;
    }
    ok = signing.verifyEnvelope(env, keys, now, opts.threshold || 1);
  } catch (err) {
    if (!(err instanceof E.SignatureError)) throw err;
    r.fail(c, err);
    return false;
  }
  r.add(c, 'pass', `archive ${JSON.stringify(st.name)} (${st.size} bytes) signed by ${ok.keyIds.length} trusted key(s)`, { keyIds: ok.keyIds });
  return true;
}

module.exports = { Report, CHECKS, verifyBundle, verifyPath, parseCertificatesPEM, buildChain, fingerprint };
