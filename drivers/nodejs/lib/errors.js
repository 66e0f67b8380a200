'use strict';
// Typed errors. Every error for a bad bundle is an ScbError whose `outcome`
// is the language-neutral class shared with the other scbkit loaders
// (spec/vectors/vectors.json). Messages never quote secret content.

class ScbError extends Error {
  constructor(message, { path, check, keyId, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = new.target.name;
    this.path = path;
    this.check = check;
    if (keyId !== undefined) this.keyId = keyId;
  }
  get outcome() { return 'error'; }
  toString() {
    return [this.name, ...[this.check, this.path].filter(Boolean), this.message].join(': ');
  }
}

const classes = {};
function define(name, parent, outcome) {
  const C = class extends parent {};
  Object.defineProperty(C, 'name', { value: name });
  if (outcome) Object.defineProperty(C.prototype, 'outcome', { get() { return outcome; } });
  classes[name] = C;
  return C;
}

const ArchiveError = define('ArchiveError', ScbError);
define('MalformedArchiveError', ArchiveError, 'malformed_archive');
define('UnsafePathError', ArchiveError, 'unsafe_path');
define('TooLargeError', ArchiveError, 'too_large');
define('UnsupportedEntryError', ArchiveError, 'unsupported_entry');
const BundleError = define('BundleError', ScbError);
define('IncompleteError', BundleError, 'incomplete');
define('MalformedMetadataError', BundleError, 'malformed_metadata');
define('MalformedManifestError', BundleError, 'malformed_manifest');
define('DigestMismatchError', BundleError, 'digest_mismatch');
define('InconsistentError', BundleError, 'inconsistent');
const SignatureError = define('SignatureError', ScbError);
define('UnsignedError', SignatureError, 'unsigned');
define('MalformedSignatureError', SignatureError, 'malformed_signature');
define('BadSignatureError', SignatureError, 'bad_signature');
define('UnknownSignerError', SignatureError, 'unknown_signer');
define('KeyOutsideValidityError', SignatureError, 'key_outside_validity');
const CertificateError = define('CertificateError', ScbError);
define('ChainInvalidError', CertificateError, 'chain_invalid');
define('ExpiredError', CertificateError, 'expired');
define('NotYetValidError', CertificateError, 'not_yet_valid');
const KeySetError = define('KeySetError', ScbError);
define('UnsupportedKeyError', KeySetError);
define('NoTrustedKeysError', ScbError);
define('PassphraseError', ScbError);
define('UnsupportedFormatError', ScbError);

module.exports = { ScbError, ...classes };
