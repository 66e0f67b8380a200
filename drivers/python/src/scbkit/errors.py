"""Typed errors.

Every error raised for a bad bundle is a :class:`ScbError` whose ``outcome``
is the language-neutral class shared with the other scbkit loaders
(``spec/vectors/vectors.json``): ``unsafe_path``, ``digest_mismatch``,
``bad_signature``, ``expired`` and so on. Callers branch on the class or on
``outcome``; messages are for people and never quote secret content.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "ScbError",
    "ArchiveError",
    "MalformedArchiveError",
    "UnsafePathError",
    "TooLargeError",
    "UnsupportedEntryError",
    "BundleError",
    "IncompleteError",
    "MalformedMetadataError",
    "MalformedManifestError",
    "DigestMismatchError",
    "InconsistentError",
    "SignatureError",
    "UnsignedError",
    "MalformedSignatureError",
    "BadSignatureError",
    "UnknownSignerError",
    "KeyOutsideValidityError",
    "CertificateError",
    "ChainInvalidError",
    "ExpiredError",
    "NotYetValidError",
    "KeySetError",
    "UnsupportedKeyError",
    "NoTrustedKeysError",
    "PassphraseError",
    "UnsupportedFormatError",
]


class ScbError(Exception):
    """Base class of every scbkit error.

    ``outcome`` is the outcome class of the error, ``path`` the bundle path
    it concerns (or ``None``) and ``check`` the verification check that
    raised it (or ``None``).
    """

    outcome = "error"

    def __init__(self, message: str, *, path: Optional[str] = None, check: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.check = check

    def __str__(self) -> str:
        parts = []
        if self.check:
            parts.append(self.check)
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


class ArchiveError(ScbError):
    """The archive could not be read safely."""


class MalformedArchiveError(ArchiveError):
    """Not a readable zip, tar.gz or bundle directory (also duplicate entries)."""

    outcome = "malformed_archive"


class UnsafePathError(ArchiveError):
    """An entry name is absolute, has ``..``, a backslash, a NUL, or is not clean."""

    outcome = "unsafe_path"


class TooLargeError(ArchiveError):
    """A size or count limit was exceeded."""

    outcome = "too_large"


class UnsupportedEntryError(ArchiveError):
    """An entry is a link, device, pipe or other non-regular file."""

    outcome = "unsupported_entry"


class BundleError(ScbError):
    """The bundle's content is wrong."""


class IncompleteError(BundleError):
    """A required file is missing or empty."""

    outcome = "incomplete"


class MalformedMetadataError(BundleError):
    """metadata.json does not parse or lacks required fields."""

    outcome = "malformed_metadata"


class MalformedManifestError(BundleError):
    """manifest.json is not a canonical scbkit manifest."""

    outcome = "malformed_manifest"


class DigestMismatchError(BundleError):
    """A file does not match manifest.json, or is not covered by it."""

    outcome = "digest_mismatch"


class InconsistentError(BundleError):
    """Files that hold the same certificate, key or setting disagree."""

    outcome = "inconsistent"


class SignatureError(ScbError):
    """A problem with signatures/manifest.dsse.json; ``key_id`` names the key when known."""

    def __init__(self, message: str, *, key_id: Optional[str] = None, **kw):
        super().__init__(message, **kw)
        self.key_id = key_id


class UnsignedError(SignatureError):
    """Trusted keys were given but the bundle carries no signature."""

    outcome = "unsigned"


class MalformedSignatureError(SignatureError):
    """The DSSE envelope is not well-formed."""

    outcome = "malformed_signature"


class BadSignatureError(SignatureError):
    """A signature by a trusted key does not verify, or covers another payload."""

    outcome = "bad_signature"


class UnknownSignerError(SignatureError):
    """No signature is by a trusted key."""

    outcome = "unknown_signer"


class KeyOutsideValidityError(SignatureError):
    """The only trusted keys that signed are outside their nbf/exp window."""

    outcome = "key_outside_validity"


class CertificateError(ScbError):
    """A certificate problem."""


class ChainInvalidError(CertificateError):
    """The client certificate does not chain to certificates/ca-cert.pem for client auth."""

    outcome = "chain_invalid"


class ExpiredError(CertificateError):
    """A certificate of the chain has expired."""

    outcome = "expired"


class NotYetValidError(CertificateError):
    """A certificate of the chain is not valid yet."""

    outcome = "not_yet_valid"


class KeySetError(ScbError, ValueError):
    """A trusted key set (JWKS or PEM) could not be parsed."""


class UnsupportedKeyError(KeySetError):
    """A key of a type, curve or size that may not sign bundles."""


class NoTrustedKeysError(ScbError, ValueError):
    """A signature was required but no trusted keys were given."""


class PassphraseError(ScbError):
    """The client key is encrypted and the passphrase is missing or wrong."""


class UnsupportedFormatError(ScbError, ValueError):
    """The operation needs another bundle format (the stock driver's bundle mode reads zip only)."""
