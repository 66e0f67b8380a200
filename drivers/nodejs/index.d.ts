// Type definitions for the scbkit Node.js loader.

/// <reference types="node" />
import type { KeyObject } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';

/** Language-neutral outcome classes shared by every scbkit loader (spec/vectors). */
export type Outcome =
  | 'valid' | 'error' | 'malformed_archive' | 'unsafe_path' | 'too_large' | 'unsupported_entry'
  | 'incomplete' | 'malformed_metadata' | 'unsigned' | 'malformed_signature' | 'bad_signature'
  | 'unknown_signer' | 'key_outside_validity' | 'malformed_manifest' | 'digest_mismatch'
  | 'chain_invalid' | 'expired' | 'not_yet_valid' | 'inconsistent';

export type Check = 'archive' | 'completeness' | 'signature' | 'manifest' | 'chain' | 'validity' | 'consistency';

export interface Limits {
  /** Default 1000. */
  maxFiles?: number;
  /** Default 8 MiB. */
  maxFileSize?: number;
  /** Default 64 MiB; an archive file may be at most this plus 1 MiB. */
  maxTotalSize?: number;
}

/** Trusted signing keys: a KeySet, JWKS or PEM text/Buffer, a file path, a parsed JWKS, or public keys. */
export type TrustedKeys =
  | KeySet | Buffer | string | { keys: unknown[] }
  | Array<KeyObject | string | Buffer | { key: KeyObject | string | Buffer; notBefore?: Date; expires?: Date }>;

export class ScbError extends Error {
  readonly outcome: Outcome;
  path?: string;
  check?: Check;
  keyId?: string;
}
export class ArchiveError extends ScbError {}
export class MalformedArchiveError extends ArchiveError {}
export class UnsafePathError extends ArchiveError {}
export class TooLargeError extends ArchiveError {}
export class UnsupportedEntryError extends ArchiveError {}
export class BundleError extends ScbError {}
export class IncompleteError extends BundleError {}
export class MalformedMetadataError extends BundleError {}
export class MalformedManifestError extends BundleError {}
export class DigestMismatchError extends BundleError {}
export class InconsistentError extends BundleError {}
export class SignatureError extends ScbError {}
export class UnsignedError extends SignatureError {}
export class MalformedSignatureError extends SignatureError {}
export class BadSignatureError extends SignatureError {}
export class UnknownSignerError extends SignatureError {}
export class KeyOutsideValidityError extends SignatureError {}
export class CertificateError extends ScbError {}
export class ChainInvalidError extends CertificateError {}
export class ExpiredError extends CertificateError {}
export class NotYetValidError extends CertificateError {}
export class KeySetError extends ScbError {}
export class UnsupportedKeyError extends KeySetError {}
export class NoTrustedKeysError extends ScbError {}
export class PassphraseError extends ScbError {}
export class UnsupportedFormatError extends ScbError {}

export interface CheckResult {
  check: Check;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  message: string;
  /** Set when status is 'fail'. */
  outcome: Outcome | '';
  path: string;
  keyIds: string[];
  /** The typed error of a failure (non-enumerable). */
  readonly error: ScbError | null;
}

export class Report {
  readonly time: Date;
  readonly results: CheckResult[];
  readonly ok: boolean;
  /** 'valid' or the outcome of the first failure. */
  readonly outcome: Outcome;
  firstFailure(): CheckResult | undefined;
  error(): ScbError | null;
  throwIfFailed(): this;
  result(check: Check): CheckResult | undefined;
}

export interface VerifyOptions {
  /** Verification time (default: now). */
  now?: Date | number | string;
  /** Fail when no trusted keys are given. */
  requireSignature?: boolean;
  /** Distinct trusted keys that must have signed (default 1). */
  threshold?: number;
  /** Opens an encrypted client key for the consistency check. */
  keyPassphrase?: string;
  /** Expiry warning window in ms (default 30 days; <= 0 disables). */
  expiryWarningMs?: number;
  limits?: Limits;
}

export class Bundle {
  readonly format: 'zip' | 'tar.gz' | 'dir' | 'memory';
  readonly source?: string;
  constructor(files?: Map<string, Buffer> | Record<string, Buffer>, opts?: { format?: string; source?: string });
  get(path: string): Buffer | undefined;
  has(path: string): boolean;
  readonly size: number;
  paths(): string[];
  entries(): Array<[string, Buffer]>;
}

export class KeySet {
  constructor(keys?: Array<KeyObject | string | Buffer | { key: KeyObject | string | Buffer; notBefore?: Date; expires?: Date }>);
  add(key: KeyObject | string | Buffer | { key: KeyObject | string | Buffer; notBefore?: Date; expires?: Date }): { id: string; alg: string };
  keyIds(): string[];
  readonly size: number;
}

export interface Metadata {
  bundleVersion: string;
  bundleId: string;
  clusterName: string;
  clientId: string;
  environment: string;
  generatedAt: Date | null;
  expiresAt: Date;
  clusters: Array<{ name: string; datacenters: string[]; endpoints: string[]; role: string }>;
  caFingerprintSha256: string;
  /** The whole decoded metadata.json. */
  raw: Record<string, unknown>;
}

export interface SslOptions extends ConnectionOptions {
  ca: string[];
  cert: string;
  /** PEM; never printed by util.inspect or JSON.stringify. */
  key: string;
  passphrase?: string;
  rejectUnauthorized: true;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  servername?: string;
}

export interface LoadOptions {
  /** Verify the signature against these keys (then a signature is required). */
  trustedKeys?: TrustedKeys;
  requireSignature?: boolean;
  username?: string;
  password?: string;
  /** Passphrase of an encrypted client key. */
  keyPassphrase?: string;
  now?: Date | number | string;
  limits?: Limits;
  /** Where SCB_USERNAME / SCB_PASSWORD are read (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface ScbConfig {
  /** Bundle ("cloud") mode through the scbkit gateway; zip bundles with config.json only. */
  cloud: { secureConnectBundle: string } | undefined;
  /** Direct mutual TLS: pass as ClientOptions.sslOptions. */
  sslOptions: SslOptions;
  /** "host:port" of each node. */
  contactPoints: string[];
  localDataCenter: string;
  credentials: { username: string; password: string } | undefined;
  metadata: Metadata;
  clientConfig: Record<string, unknown>;
  cloudConfig: { host: string; port: number; cqlPort?: number; localDC?: string; username?: string } | null;
  format: 'zip' | 'tar.gz' | 'dir';
  hostnameVerification: boolean;
  /** The verification report of the load. */
  report: Report;
  /** Verifies against trusted keys (required); throws the first failure as a typed ScbError. */
  verify(trustedKeys: TrustedKeys, opts?: { now?: Date | number | string; threshold?: number }): Report;
  /** cassandra-driver ClientOptions for direct mode; overrides win. */
  clientOptions(overrides?: Record<string, unknown>): Record<string, unknown>;
}

export function loadScbConfig(path: string, opts?: LoadOptions): ScbConfig;
/** Verifies a bundle file, directory or Bundle; never throws for bad content. */
export function verify(source: string | Bundle, trustedKeys?: TrustedKeys | null, opts?: VerifyOptions): Report;
export function readBundle(path: string, limits?: Limits): Bundle;
export function decodeBundle(data: Buffer, limits?: Limits, opts?: { source?: string }): Bundle;
export function checkPath(path: string): void;
export function parseKeySet(data: string | Buffer): KeySet;
export function keyId(key: KeyObject): string;
export function pae(payloadType: string, payload: Buffer): Buffer;
export const ENV_USERNAME: 'SCB_USERNAME';
export const ENV_PASSWORD: 'SCB_PASSWORD';
