'use strict';
// The bundle's wire formats (manifest.json, metadata.json,
// config/cassandra.yaml, config.json) parsed by the rules of the Go reference.

const crypto = require('node:crypto');
const net = require('node:net');
const json = require('./json');
const yaml = require('./yaml');
const { checkPath, Bundle } = require('./archive');
const {
  BundleError, MalformedManifestError, MalformedMetadataError, DigestMismatchError, UnsafePathError,
} = require('./errors');

const P = Object.freeze({
  METADATA: 'metadata.json',
  MANIFEST: 'manifest.json',
  SIGNATURE: 'signatures/manifest.dsse.json',
  SIGNATURES_DIR: 'signatures/',
  CA_CERT: 'certificates/ca-cert.pem',
  CLIENT_CERT: 'certificates/client-cert.pem',
  CLIENT_KEY: 'certificates/client-key.pem',
  CLIENT_YAML: 'config/cassandra.yaml',
  README: 'README.md',
  CLOUD_CONFIG: 'config.json',
  CLOUD_CA: 'ca.crt',
  CLOUD_CERT: 'cert',
  CLOUD_KEY: 'key',
  CLOUD_PFX: 'cert.pfx',
  CLOUD_IDENTITY: 'identity.jks',
  CLOUD_TRUSTSTORE: 'trustStore.jks',
  CQLSHRC: 'cqlshrc',
});
const REQUIRED_PATHS = [P.METADATA, P.MANIFEST, P.CA_CERT, P.CLIENT_CERT, P.CLIENT_KEY, P.CLIENT_YAML, P.README];
const STOCK_DRIVER_PATHS = [P.CLOUD_CONFIG, P.CLOUD_CA, P.CLOUD_CERT, P.CLOUD_KEY, P.CQLSHRC, P.CLOUD_PFX, P.CLOUD_IDENTITY, P.CLOUD_TRUSTSTORE];
const MANIFEST_FORMAT = 'scb-manifest/1';
const CLIENT_CONFIG_FORMAT = 'scb-client/1';

const connectionProfilePath = (env) => `config/connection-profiles/${env}.yaml`;
const inManifest = (p) => p !== P.MANIFEST && !p.startsWith(P.SIGNATURES_DIR);
const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');

// --- manifest ----------------------------------------------------------------

function byteCompare(a, b) { return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')); }

/** Canonical encoding: what Go's encoder with SetIndent("", "  ") writes. */
function encodeManifest(files) {
  const sorted = [...files].sort((a, b) => byteCompare(a.path, b.path));
  const obj = { format: MANIFEST_FORMAT, algorithm: 'sha256', files: sorted.map((e) => ({ path: e.path, size: e.size, sha256: e.sha256 })) };
  const s = JSON.stringify(obj, null, 2).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return Buffer.from(`${s}\n`, 'utf8');
}

function newManifest(bundle) {
  return bundle.entries().filter(([p]) => inManifest(p)).map(([p, d]) => ({ path: p, size: d.length, sha256: sha256hex(d) }));
}

function parseManifest(data) {
  const bad = (m) => new MalformedManifestError(m, { path: P.MANIFEST });
  let obj;
  try {
    obj = json.parse(data, { duplicates: 'last' });
  } catch {
    throw bad('malformed manifest');
  }
  if (!json.isObj(obj) || Object.keys(obj).some((k) => !['format', 'algorithm', 'files'].includes(k))) throw bad('malformed manifest');
  if (obj.format !== MANIFEST_FORMAT) throw bad('unsupported manifest format');
  if (obj.algorithm !== 'sha256') throw bad('unsupported digest algorithm');
  const files = obj.files === undefined || obj.files === null ? [] : obj.files;
  if (!Array.isArray(files)) throw bad('malformed manifest');
  const seen = new Set();
  const entries = files.map((e) => {
    if (!json.isObj(e) || Object.keys(e).some((k) => !['path', 'size', 'sha256'].includes(k))) throw bad('malformed manifest entry');
    const p = e.path === undefined ? '' : e.path;
    const size = e.size === undefined ? 0 : e.size;
    const digest = e.sha256 === undefined ? '' : e.sha256;
    if (typeof p !== 'string' || !json.isInt(size) || typeof digest !== 'string') throw bad('malformed manifest entry');
    try {
      checkPath(p);
    } catch (err) {
      throw bad(err.message);
    }
    if (!inManifest(p)) throw bad(`manifest lists ${p}, which it cannot cover`);
    if (seen.has(p)) throw bad(`duplicate entry ${p}`);
    seen.add(p);
    if (typeof size === 'bigint' || size < 0) throw bad(`bad size for ${p}`);
    if (!/^[0-9a-f]{64}$/.test(digest)) throw bad(`malformed sha256 for ${p}`);
    return { path: p, size, sha256: digest };
  });
  if (!encodeManifest(entries).equals(data)) throw bad('manifest is not in canonical form');
  return { format: MANIFEST_FORMAT, algorithm: 'sha256', files: entries };
}

/** Returns { manifest, errors: DigestMismatchError[] }; throws MalformedManifestError. */
function checkManifest(bundle) {
  const data = bundle.get(P.MANIFEST);
  if (!data) throw new MalformedManifestError('required file missing', { path: P.MANIFEST });
  const m = parseManifest(data);
  const errors = [];
  const listed = new Set();
  for (const e of m.files) {
    listed.add(e.path);
    const d = bundle.get(e.path);
    if (d === undefined) { errors.push(new DigestMismatchError('listed in manifest but absent', { path: e.path })); continue; }
    if (d.length !== e.size || sha256hex(d) !== e.sha256) errors.push(new DigestMismatchError('file does not match manifest', { path: e.path }));
  }
  for (const p of bundle.paths()) {
    if (inManifest(p) && !listed.has(p)) errors.push(new DigestMismatchError('file not listed in manifest', { path: p }));
  }
  return { manifest: m, errors };
}

// --- metadata ----------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp into a Date (millisecond precision). */
function parseTime(s) {
  if (typeof s !== 'string') throw new TypeError('not a string');
  const m = RFC3339.exec(s);
  if (!m) throw new TypeError('not an RFC 3339 time');
  const [, y, mo, d, h, mi, se, frac, tz] = m;
  const vals = [+y, +mo, +d, +h, +mi, +se];
  if (vals[1] < 1 || vals[1] > 12 || vals[2] < 1 || vals[2] > 31 || vals[3] > 23 || vals[4] > 59 || vals[5] > 59) throw new TypeError('not an RFC 3339 time');
  let t = Date.UTC(vals[0], vals[1] - 1, vals[2], vals[3], vals[4], vals[5], frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  if (new Date(t).getUTCDate() !== vals[2]) throw new TypeError('not an RFC 3339 time');
  if (tz !== 'Z' && tz !== 'z') {
    const sign = tz[0] === '+' ? 1 : -1;
    t -= sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60000;
  }
  return new Date(t);
}

const SCHEMA = {
  '': { bundle_version: 'str', bundle_id: 'str', cluster_name: 'str', client_id: 'str', environment: 'str', generated_at: 'time', expires_at: 'time', supported_drivers: 'list', clusters: 'list', ca: 'obj', client_certificate: 'obj', gateway: 'obj', generator: 'obj', parameters: 'obj' },
  ca: { subject: 'str', fingerprint_sha256: 'str', not_after: 'time' },
  client_certificate: { subject: 'str', serial: 'str', fingerprint_sha256: 'str', not_before: 'time', not_after: 'time', key_type: 'str', key_encrypted: 'bool' },
  gateway: { host: 'str', metadata_port: 'int', cql_port: 'int' },
  generator: { name: 'str', version: 'str' },
  cluster: { name: 'str', datacenters: 'list', endpoints: 'list', role: 'str' },
};

function typed(obj, schema, where) {
  const out = {};
  for (const [k, kind] of Object.entries(schema)) {
    const v = obj[k];
    if (v === undefined || v === null) { out[k] = null; continue; }
    const ok = { str: typeof v === 'string', int: json.isInt(v), bool: typeof v === 'boolean', list: Array.isArray(v), obj: json.isObj(v), time: typeof v === 'string' }[kind];
    if (!ok) throw new TypeError(`${where}${k} has the wrong type`);
    if (kind === 'time') {
      try { out[k] = parseTime(v); } catch { throw new TypeError(`${where}${k} is not an RFC 3339 time`); }
    } else out[k] = v;
  }
  return out;
}

function parseMetadata(data) {
  const bad = (m) => new MalformedMetadataError(m, { path: P.METADATA });
  let obj;
  try {
    obj = json.parse(data, { duplicates: 'last', trailing: true });
  } catch {
    throw bad('malformed metadata');
  }
  if (!json.isObj(obj)) throw bad('malformed metadata');
  let top;
  const clusters = [];
  try {
    top = typed(obj, SCHEMA[''], '');
    for (const sub of ['ca', 'client_certificate', 'gateway', 'generator']) if (top[sub]) typed(top[sub], SCHEMA[sub], `${sub}.`);
    for (const v of top.supported_drivers || []) if (typeof v !== 'string') throw new TypeError('supported_drivers has the wrong type');
    for (let c of top.clusters || []) {
      if (c === null) c = {};
      if (!json.isObj(c)) throw new TypeError('clusters has the wrong type');
      const v = typed(c, SCHEMA.cluster, 'clusters.');
      for (const k of ['datacenters', 'endpoints']) for (const x of v[k] || []) if (typeof x !== 'string') throw new TypeError(`clusters.${k} has the wrong type`);
      clusters.push({ name: v.name || '', datacenters: v.datacenters || [], endpoints: v.endpoints || [], role: v.role || '' });
    }
  } catch (err) {
    throw bad(`malformed metadata: ${err.message}`);
  }
  const version = top.bundle_version || '';
  if (version === '') throw bad('bundle_version missing');
  if (version[0] !== '1') throw bad('unsupported bundle_version (this reader supports 1.0)');
  if (!top.cluster_name || !top.client_id || !top.expires_at) throw bad('cluster_name, client_id and expires_at are required');
  return {
    bundleVersion: version,
    bundleId: top.bundle_id || '',
    clusterName: top.cluster_name,
    clientId: top.client_id,
    environment: top.environment || '',
    generatedAt: top.generated_at,
    expiresAt: top.expires_at,
    clusters,
    caFingerprintSha256: (top.ca && typeof top.ca.fingerprint_sha256 === 'string' && top.ca.fingerprint_sha256) || '',
    raw: obj,
  };
}

// --- endpoints ---------------------------------------------------------------

function validDNSName(h) {
  if (h.length > 253 || h.startsWith('.') || h.endsWith('.')) return false;
  return h.split('.').every((l) => /^[A-Za-z0-9_-]{1,63}$/.test(l) && l[0] !== '-' && l[l.length - 1] !== '-');
}

/** "host:port" or "[v6]:port" → [host, port]; a bare host gets defaultPort when > 0. */
function splitHostPort(s0, defaultPort = 0) {
  const bad = (why) => new TypeError(`malformed endpoint ${JSON.stringify(String(s0).slice(0, 80))}: ${why} (want HOST:PORT, e.g. 10.0.0.5:9042)`);
  const s = String(s0).trim();
  if (s === '') throw bad('empty');
  let host = null;
  let port = null;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end > 0 && s[end + 1] === ':' && !s.slice(1, end).includes('[') && !s.slice(end + 1).includes(']')) {
      host = s.slice(1, end);
      port = s.slice(end + 2);
    }
  } else if (s.split(':').length === 2) {
    [host, port] = s.split(':');
  }
  if (host === null) {
    if (defaultPort <= 0 || s.split(':').length === 2) throw bad('missing or invalid port');
    host = s;
    port = String(defaultPort);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (host.includes('[') || host.includes(']')) throw bad('unbalanced brackets');
  }
  if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw bad('port must be a number from 1 to 65535');
  if (host === '') throw bad('empty host');
  if (!net.isIP(host) && !validDNSName(host)) throw bad('host is neither an IP address nor a DNS name');
  return [host, Number(port)];
}

// --- config/cassandra.yaml ---------------------------------------------------

const str = (v) => (v === null || v === undefined ? '' : typeof v === 'boolean' ? String(v) : String(v));

function parseClientConfig(data) {
  const bad = (m) => new BundleError(m, { path: P.CLIENT_YAML });
  let doc;
  try {
    doc = yaml.loads(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    throw bad(`malformed YAML: ${err.message}`);
  }
  if (doc === null) doc = {};
  if (!json.isObj(doc)) throw bad('malformed YAML: not a mapping');
  if (doc.format !== CLIENT_CONFIG_FORMAT) throw bad('unsupported format');
  const sub = (name) => {
    const v = doc[name];
    if (v === undefined || v === null) return {};
    if (!json.isObj(v)) throw bad(`${name} is not a mapping`);
    return v;
  };
  const tls = sub('tls');
  const auth = sub('auth');
  const cps = doc.contact_points || [];
  if (!Array.isArray(cps) || !cps.every((c) => typeof c === 'string')) throw bad('contact_points is not a list of HOST:PORT');
  if (!cps.length) throw bad('no contact points');
  for (const cp of cps) {
    try { splitHostPort(cp); } catch (err) { throw bad(err.message); }
  }
  const paths = [str(tls.ca_cert), str(tls.client_cert), str(tls.client_key)];
  for (const p of paths) {
    try { checkPath(p); } catch (err) {
      if (err instanceof UnsafePathError) throw bad('tls path is not a safe bundle path');
      throw err;
    }
  }
  for (const b of ['client_key_encrypted', 'hostname_verification']) {
    if (tls[b] !== undefined && tls[b] !== null && typeof tls[b] !== 'boolean') throw bad(`tls.${b} is not a boolean`);
  }
  return {
    clusterName: str(doc.cluster_name),
    environment: str(doc.environment),
    clientId: str(doc.client_id),
    contactPoints: cps,
    localDatacenter: str(doc.local_datacenter),
    caCert: paths[0],
    clientCert: paths[1],
    clientKey: paths[2],
    clientKeyEncrypted: tls.client_key_encrypted === true,
    hostnameVerification: tls.hostname_verification === true,
    minTlsVersion: str(tls.min_version),
    serverName: str(tls.server_name),
    username: str(auth.username),
    credentialsInConfigJson: auth.credentials_in_config_json === true,
    connection: sub('connection'),
    gateway: sub('gateway'),
  };
}

// --- config.json -------------------------------------------------------------

const CLOUD_FIELDS = {
  host: ['host', 'str'], port: ['port', 'int'], cql_port: ['cqlPort', 'int'], localDC: ['localDC', 'str'],
  caCertLocation: [null, 'str'], keyLocation: [null, 'str'], certLocation: [null, 'str'], keyStoreLocation: [null, 'str'],
  keyStorePassword: ['keyStorePassword', 'str'], trustStoreLocation: [null, 'str'], trustStorePassword: ['trustStorePassword', 'str'],
  pfxCertPassword: ['pfxCertPassword', 'str'], username: ['username', 'str'], password: ['password', 'str'],
};
const SECRET_FIELDS = ['keyStorePassword', 'trustStorePassword', 'pfxCertPassword', 'password'];

/** config.json; passwords are non-enumerable and never print. */
function parseCloudConfig(data) {
  const bad = () => new BundleError('malformed JSON or wrong field type, or host and an integer port missing', { path: P.CLOUD_CONFIG });
  let obj;
  try {
    obj = json.parse(data, { duplicates: 'last' });
  } catch {
    throw bad();
  }
  if (!json.isObj(obj)) throw bad();
  const out = {};
  for (const [key, [attr, kind]] of Object.entries(CLOUD_FIELDS)) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if ((kind === 'str' && typeof v !== 'string') || (kind === 'int' && (!json.isInt(v) || typeof v === 'bigint'))) throw bad();
    if (!attr) continue;
    if (SECRET_FIELDS.includes(attr)) Object.defineProperty(out, attr, { value: v, enumerable: false });
    else out[attr] = v;
  }
  if (!out.host || !out.port || out.port < 1 || out.port > 65535) throw bad();
  Object.defineProperty(out, 'toString', { value: () => `CloudConfig{host:${out.host} port:${out.port} passwords:<redacted>}`, enumerable: false });
  return out;
}

module.exports = {
  P, REQUIRED_PATHS, STOCK_DRIVER_PATHS, MANIFEST_FORMAT, CLIENT_CONFIG_FORMAT, connectionProfilePath, inManifest, sha256hex,
  encodeManifest, newManifest, parseManifest, checkManifest, parseTime, parseMetadata, splitHostPort, parseClientConfig,
  parseCloudConfig, Bundle,
};
