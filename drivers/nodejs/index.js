'use strict';
// scbkit loader for Node.js: open and verify an scbkit secure connection
// bundle and turn it into cassandra-driver Client options. node:crypto and
// node:zlib only; no dependencies.

const path = require('node:path');
const archive = require('./lib/archive');
const model = require('./lib/model');
const signing = require('./lib/signing');
const verify = require('./lib/verify');
const errors = require('./lib/errors');

const ENV_USERNAME = 'SCB_USERNAME';
const ENV_PASSWORD = 'SCB_PASSWORD';

/**
 * Opens and verifies a bundle (zip, tar.gz or directory) and returns
 * { cloud, sslOptions, contactPoints, localDataCenter, credentials, metadata, ... }.
 * Throws the first verification failure as a typed ScbError (err.outcome).
 *
 * Options: trustedKeys (then a signature is required), requireSignature,
 * username/password, keyPassphrase, now, limits, env (default process.env).
 * Credentials, first found wins: the options; username/password in the
 * bundle's config.json; SCB_USERNAME/SCB_PASSWORD in env; the username in
 * config/cassandra.yaml (no password).
 */
function loadScbConfig(file, opts = {}) {
  const bundle = archive.readBundle(file, opts.limits);
  const keyPassphrase = opts.keyPassphrase;
  const report = verify.verifyBundle(bundle, opts.trustedKeys, {
    now: opts.now, requireSignature: opts.requireSignature, keyPassphrase,
  });
  report.throwIfFailed();
  const meta = model.parseMetadata(bundle.get(model.P.METADATA));
  const cfg = model.parseClientConfig(bundle.get(model.P.CLIENT_YAML));
  const ccData = bundle.get(model.P.CLOUD_CONFIG);
  const cc = ccData && ccData.length ? model.parseCloudConfig(ccData) : null;
  const endpoints = cfg.contactPoints.map((cp) => model.splitHostPort(cp));

  const env = opts.env || process.env;
  let username = opts.username;
  let password = opts.password;
  if (username === undefined && password === undefined && cc && cc.username && cc.password !== undefined) {
    username = cc.username;
    password = cc.password;
  }
  if (username === undefined && password === undefined && env[ENV_USERNAME]) {
    username = env[ENV_USERNAME];
    password = env[ENV_PASSWORD];
  }
  if (username === undefined && cfg.username) username = cfg.username;

  const keyPem = bundle.get(cfg.clientKey);
  const encrypted = keyPem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  if (encrypted && !keyPassphrase) {
    throw new errors.PassphraseError('the client key is encrypted: pass keyPassphrase', { path: cfg.clientKey });
  }
  const sslOptions = {
    ca: [bundle.get(cfg.caCert).toString('utf8')],
    cert: bundle.get(cfg.clientCert).toString('utf8'),
    rejectUnauthorized: true,
    minVersion: cfg.minTlsVersion === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
  };
  Object.defineProperty(sslOptions, 'key', { value: keyPem.toString('utf8'), enumerable: true });
  if (encrypted) Object.defineProperty(sslOptions, 'passphrase', { value: String(keyPassphrase), enumerable: true });
  if (cfg.serverName) sslOptions.servername = cfg.serverName;
  if (!cfg.hostnameVerification) {
    // INSECURE, tests only: the bundle was generated without host-name checks.
    sslOptions.checkServerIdentity = () => undefined;
  }
  redact(sslOptions, ['key', 'passphrase']);

  const result = {
    cloud: undefined,
    sslOptions,
    contactPoints: endpoints.map(([h, p]) => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`)),
    localDataCenter: cfg.localDatacenter,
    credentials: username !== undefined && password !== undefined ? redact({ username, password }, ['password']) : undefined,
    metadata: meta,
    clientConfig: cfg,
    cloudConfig: cc,
    format: bundle.format,
    hostnameVerification: cfg.hostnameVerification,
    report,
    /** Verifies the loaded bundle against trusted keys (required); throws the first failure. */
    verify(trustedKeys, vopts = {}) {
      if (trustedKeys === undefined || trustedKeys === null) throw new TypeError('trustedKeys is required');
      return verify.verifyBundle(bundle, trustedKeys, { ...vopts, requireSignature: true, keyPassphrase }).throwIfFailed();
    },
    /** cassandra-driver ClientOptions for direct mutual TLS to the nodes; overrides win. */
    clientOptions(overrides = {}) {
      const o = {
        contactPoints: result.contactPoints,
        localDataCenter: result.localDataCenter,
        sslOptions: result.sslOptions,
      };
      const ms = (v) => goDurationMs(v);
      const ct = ms(cfg.connection.connect_timeout);
      const rt = ms(cfg.connection.request_timeout);
      if (ct || rt) o.socketOptions = { ...(ct ? { connectTimeout: ct } : {}), ...(rt ? { readTimeout: rt } : {}) };
      if (result.credentials) o.credentials = result.credentials;
      return { ...o, ...overrides };
    },
  };
  if (bundle.format === 'zip' && cc) result.cloud = { secureConnectBundle: path.resolve(String(file)) };
  Object.defineProperty(result, 'toString', {
    value: () => `ScbConfig{cluster:${meta.clusterName} client:${meta.clientId} contactPoints:${result.contactPoints.join(',')} localDataCenter:${result.localDataCenter} secrets:<redacted>}`,
    enumerable: false,
  });
  Object.defineProperty(result, Symbol.for('nodejs.util.inspect.custom'), { value: () => result.toString(), enumerable: false });
  return result;
}

/** Makes the secret fields print as <redacted> in util.inspect and JSON.stringify. */
function redact(obj, secretKeys) {
  Object.defineProperty(obj, 'toJSON', {
    value() {
      const o = {};
      for (const [k, v] of Object.entries(this)) o[k] = secretKeys.includes(k) ? '<redacted>' : v;
      return o;
    },
    enumerable: false,
  });
  Object.defineProperty(obj, Symbol.for('nodejs.util.inspect.custom'), {
    value() { return this.toJSON(); },
    enumerable: false,
  });
  return obj;
}

function goDurationMs(v) {
  if (typeof v !== 'string' || !v) return undefined;
  const units = { h: 3600000, m: 60000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };
  const parts = [...v.matchAll(/([0-9]+(?:\.[0-9]*)?)(h|ms|us|µs|ns|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== v) return undefined;
  return Math.round(parts.reduce((a, p) => a + Number(p[1]) * units[p[2]], 0));
}

/** Verifies a bundle file, directory or in-memory Bundle; returns the Report. */
function verifyBundle(source, trustedKeys, opts = {}) {
  if (source instanceof archive.Bundle) return verify.verifyBundle(source, trustedKeys, opts);
  return verify.verifyPath(source, trustedKeys, opts);
}

module.exports = {
  loadScbConfig,
  verify: verifyBundle,
  readBundle: archive.readBundle,
  decodeBundle: archive.decodeBundle,
  checkPath: archive.checkPath,
  Bundle: archive.Bundle,
  KeySet: signing.KeySet,
  parseKeySet: signing.parseKeySet,
  keyId: signing.keyId,
  pae: signing.pae,
  Report: verify.Report,
  errors,
  ...errors,
  ENV_USERNAME,
  ENV_PASSWORD,
};
