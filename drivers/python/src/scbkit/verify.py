"""Check a bundle, check by check, as the Go reference (``scb/verify``) does.

Checks, in order; the first failure decides the report's outcome:

=================  ============================================================
archive            safe paths, no links or devices, size limits (read_bundle)
completeness       every required file present and non-empty, metadata parses
signature          signatures/manifest.dsse.json by a trusted key
manifest           every file matches manifest.json, nothing uncovered
chain              client certificate -> certificates/ca-cert.pem, clientAuth
validity           certificate lifetimes at the verification time
consistency        certificates, key, config.json, metadata and PKCS#12 agree
=================  ============================================================

Checksums catch accidents; signatures catch attackers: they are reported
separately. Without trusted keys the signature is not checked (a warning if
the bundle is signed) unless ``require_signature`` is set.

Not yet compared here (reported in the consistency message): the JKS
stores identity.jks and trustStore.jks. Their SHA-256 is still checked
against the manifest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from . import model
import os

from .archive import Bundle, Limits, decode_bundle, read_bundle
from .errors import (
    ChainInvalidError,
    DigestMismatchError,
    ExpiredError,
    InconsistentError,
    IncompleteError,
    MalformedManifestError,
    NoTrustedKeysError,
    NotYetValidError,
    ScbError,
    SignatureError,
    TooLargeError,
    UnsignedError,
)
from .signing import (
    MAX_ENVELOPE_SIZE,
    PAYLOAD_TYPE_ARCHIVE,
    PAYLOAD_TYPE_MANIFEST,
    BadSignatureError,
    as_key_set,
    parse_archive_statement,
    parse_envelope,
)

__all__ = ["CheckResult", "Report", "verify_bundle", "verify_path", "CHECKS", "DEFAULT_EXPIRY_WARNING"]

CHECKS = ("detached_signature", "archive", "completeness", "signature", "manifest", "chain", "validity", "consistency")
DEFAULT_EXPIRY_WARNING = timedelta(days=30)


@dataclass
class CheckResult:
    """One check: status is pass, warn, fail or skip; outcome is set on failure."""

    check: str
    status: str
    message: str
    outcome: str = ""
    path: str = ""
    key_ids: List[str] = field(default_factory=list)
    error: Optional[ScbError] = field(default=None, repr=False)


@dataclass
class Report:
    """The results of every check that ran, in order."""

    time: datetime
    results: List[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status != "fail" for r in self.results)

    @property
    def outcome(self) -> str:
        """"valid", or the outcome of the first failure."""
        for r in self.results:
            if r.status == "fail":
                return r.outcome
        return "valid"

    def first_failure(self) -> Optional[CheckResult]:
        return next((r for r in self.results if r.status == "fail"), None)

    def error(self) -> Optional[ScbError]:
        """The first failure as a typed ScbError, or None."""
        r = self.first_failure()
        return None if r is None else r.error

    def raise_for_failure(self) -> "Report":
        e = self.error()
        if e is not None:
            raise e
        return self

    def result(self, check: str) -> Optional[CheckResult]:
        return next((r for r in self.results if r.check == check), None)

    def failed(self, check: str) -> bool:
        r = self.result(check)
        return r is not None and r.status == "fail"

    def add(self, check: str, status: str, message: str, *, error: Optional[ScbError] = None,
            path: str = "", key_ids: Sequence[str] = ()) -> None:
        if error is not None:
            error.check = check
            if not error.path and path:
                error.path = path
        self.results.append(CheckResult(check, status, message, error.outcome if (error and status == "fail") else "",
                                        path or (error.path if error and error.path else "") or "", list(key_ids), error))

    def fail(self, check: str, error: ScbError) -> None:
        self.add(check, "fail", error.message, error=error, path=error.path or "")

    def __str__(self) -> str:
        lines = ["%-13s %-5s %s" % (r.check, r.status, r.message) for r in self.results]
        return "\n".join(lines + ["outcome: " + self.outcome])


_PEM_CERT = re.compile(rb"-----BEGIN ([^\r\n-]*)-----\r?\n(.*?)-----END \1-----", re.S)


def parse_certificates_pem(data: bytes) -> List[x509.Certificate]:
    """Every CERTIFICATE block of data, in order; ValueError when there is none or one is malformed."""
    certs = []
    for m in _PEM_CERT.finditer(data):
        if m.group(1) != b"CERTIFICATE":
            continue
        try:
            import base64

            der = base64.b64decode(re.sub(rb"\s+", b"", m.group(2)), validate=True)
            certs.append(x509.load_der_x509_certificate(der))
        except Exception:
            raise ValueError("malformed certificate %d" % (len(certs) + 1)) from None
    if not certs:
        raise ValueError("no PEM certificate found")
    return certs


def fingerprint(c: x509.Certificate) -> str:
    return hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()


def _eku_allows_client(c: x509.Certificate) -> bool:
    try:
        eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    except ValueError:
        return False
    oids = list(eku)
    if not oids:
        return True
    return ExtendedKeyUsageOID.CLIENT_AUTH in oids or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in oids


def _is_ca(c: x509.Certificate) -> bool:
    try:
        return bool(c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
        return True
    except Exception:
        return False


def _valid_at(c: x509.Certificate, t: datetime) -> bool:
    return c.not_valid_before_utc <= t <= c.not_valid_after_utc


def build_chain(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate],
                roots: Sequence[x509.Certificate], at: datetime) -> List[x509.Certificate]:
    """A verified path leaf -> ... -> root at time ``at`` for client authentication.

    Like Go's x509 Verify: intermediates must be CAs, every certificate
    must be valid at ``at``, and every certificate with an extended key
    usage must allow clientAuth. Raises ValueError with the reason."""
    root_der = {r.public_bytes(serialization.Encoding.DER) for r in roots}
    last_err = "no path to a trusted root"

    def extend(path: List[x509.Certificate], depth: int) -> Optional[List[x509.Certificate]]:
        nonlocal last_err
        cur = path[-1]
        if not _valid_at(cur, at):
            last_err = "certificate %r is not valid at %s" % (cur.subject.rfc4514_string()[:80], at.isoformat())
            return None
        if not _eku_allows_client(cur):
            last_err = "certificate specifies an incompatible key usage"
            return None
        if cur.public_bytes(serialization.Encoding.DER) in root_der:
            return path
        if depth > 8:
            return None
        for cand, is_root in [(r, True) for r in roots] + [(i, False) for i in intermediates]:
            if any(cand == p for p in path):
                continue
            if not _issued_by(cur, cand):
                continue
            if not is_root and not _is_ca(cand):
                last_err = "intermediate %r is not a CA" % cand.subject.rfc4514_string()[:80]
                continue
            got = extend(path + [cand], depth + 1)
            if got:
                return got
        return None

    got = extend([leaf], 0)
    if not got:
        raise ValueError(last_err)
    return got


class _Verifier:
    def __init__(self, b: Bundle, keys: Any, now: datetime, require_signature: bool, threshold: int,
                 expiry_warning: timedelta, key_passphrase: Optional[bytes], report: Report):
        self.b, self.keys, self.now = b, keys, now
        self.require_signature, self.threshold = require_signature, threshold
        self.expiry_warning, self.key_passphrase = expiry_warning, key_passphrase
        self.r = report
        self.meta: Optional[model.Metadata] = None
        self.path: Optional[List[x509.Certificate]] = None

    def run(self) -> None:
        self.completeness()
        self.signature()
        self.manifest()
        self.chain()
        self.validity()
        self.consistency()

    def completeness(self) -> None:
        errs: List[str] = []

        def need(p: str) -> None:
            d = self.b.get(p)
            if d is None:
                errs.append(p + ": required file missing")
            elif len(d) == 0:
                errs.append(p + ": required file is empty")

        for p in model.REQUIRED_PATHS:
            need(p)
        if model.METADATA_PATH in self.b:
            try:
                self.meta = model.parse_metadata(self.b.get(model.METADATA_PATH) or b"")
            except ScbError as e:
                self.r.fail("completeness", e)
                return
            need(model.connection_profile_path(self.meta.environment))
        stock = sum(1 for p in model.STOCK_DRIVER_PATHS if p in self.b)
        if stock:
            for p in model.STOCK_DRIVER_PATHS:
                need(p)
        if errs:
            msg = errs[0] if len(errs) == 1 else "%d problems: %s" % (len(errs), "; ".join(errs[:3]))
            self.r.fail("completeness", IncompleteError(msg, path=errs[0].split(":")[0]))
            return
        msg = "%d files, every required file present" % len(self.b)
        if stock:
            msg += ", with the stock-driver files"
        self.r.add("completeness", "pass", msg)

    def signature(self) -> None:
        c = "signature"
        signed = model.SIGNATURE_PATH in self.b
        if self.keys is None or len(self.keys) == 0:
            if self.require_signature:
                self.r.fail(c, NoTrustedKeysError("a signature is required but no trusted keys were given"))
            elif signed:
                self.r.add(c, "warn", "signed, but no trusted keys were given: the signature was not checked",
                           path=model.SIGNATURE_PATH)
            else:
                self.r.add(c, "skip", "not signed, and no trusted keys were given")
            return
        manifest = self.b.get(model.MANIFEST_PATH)
        if manifest is None:
            self.r.add(c, "skip", "no manifest.json to verify")
            return
        if not signed:
            self.r.fail(c, UnsignedError("the bundle is not signed, and trusted keys were given", path=model.SIGNATURE_PATH))
            return
        try:
            env = parse_envelope(self.b.get(model.SIGNATURE_PATH) or b"")
            if env.payload_type != PAYLOAD_TYPE_MANIFEST:
                raise BadSignatureError("signature does not verify: payloadType is not %r" % PAYLOAD_TYPE_MANIFEST)
            if env.payload != manifest:
                raise BadSignatureError("signature does not verify: the signed payload is not this bundle's manifest.json")
            ok = env.verify(self.keys, self.now, self.threshold)
        except SignatureError as e:
            e.path = model.SIGNATURE_PATH
            self.r.fail(c, e)
            return
        msg = "signed by %d trusted key(s): %s" % (len(ok.key_ids), ", ".join(ok.key_ids))
        if ok.expired:
            msg += "; %d more outside their validity window" % len(ok.expired)
        if ok.unknown:
            msg += "; %d by unknown keys (ignored)" % len(ok.unknown)
        self.r.add(c, "pass", msg, path=model.SIGNATURE_PATH, key_ids=ok.key_ids)

    def manifest(self) -> None:
        c = "manifest"
        if model.MANIFEST_PATH not in self.b:
            self.r.add(c, "skip", "no manifest.json")
            return
        try:
            m, errs = model.check_manifest(self.b)
        except MalformedManifestError as e:
            self.r.fail(c, e)
            return
        for p in self.b.paths():
            if not model.in_manifest(p) and p not in (model.MANIFEST_PATH, model.SIGNATURE_PATH):
                errs.append(DigestMismatchError("file not covered by the manifest", path=p))
        if errs:
            first = errs[0]
            if len(errs) > 1:
                first.message = "%d problems: %s" % (len(errs), "; ".join("%s: %s" % (e.path, e.message) for e in errs[:3]))
            self.r.fail(c, first)
            return
        self.r.add(c, "pass", "%d files match manifest.json" % len(m.files))

    def chain(self) -> None:
        c = "chain"
        roots_pem, chain_pem = self.b.get(model.CA_CERT_PATH), self.b.get(model.CLIENT_CERT_PATH)
        if not roots_pem or not chain_pem:
            self.r.add(c, "skip", "certificate files missing")
            return
        try:
            roots = parse_certificates_pem(roots_pem)
        except ValueError as e:
            self.r.fail(c, ChainInvalidError("certificate chain does not verify: %s" % e, path=model.CA_CERT_PATH))
            return
        try:
            chain = parse_certificates_pem(chain_pem)
        except ValueError as e:
            self.r.fail(c, ChainInvalidError("certificate chain does not verify: %s" % e, path=model.CLIENT_CERT_PATH))
            return
        leaf = chain[0]
        at = min(max(self.now, leaf.not_valid_before_utc), leaf.not_valid_after_utc)
        try:
            self.path = build_chain(leaf, chain[1:], roots, at)
        except ValueError as e:
            self.r.fail(c, ChainInvalidError(
                "certificate chain does not verify: not issued by %s for client authentication: %s" % (model.CA_CERT_PATH, e),
                path=model.CLIENT_CERT_PATH))
            return
        if self.meta is not None and self.meta.ca_fingerprint_sha256 != fingerprint(roots[0]):
            self.path = None
            self.r.fail(c, ChainInvalidError(
                "certificate chain does not verify: ca.fingerprint_sha256 is not the fingerprint of the first certificate in %s" % model.CA_CERT_PATH,
                path=model.METADATA_PATH))
            return
        self.r.add(c, "pass", "client certificate chains to %s for client authentication" % model.CA_CERT_PATH,
                   path=model.CLIENT_CERT_PATH)

    def validity(self) -> None:
        c = "validity"
        certs = self.path
        verified = certs is not None
        if certs is None:
            try:
                certs = parse_certificates_pem(self.b.get(model.CLIENT_CERT_PATH) or b"")[:1]
            except ValueError:
                self.r.add(c, "skip", "no readable client certificate")
                return

        def name(i: int) -> str:
            if i == 0:
                return "client certificate"
            if i == len(certs) - 1 and verified:
                return "CA certificate"
            return "intermediate certificate"

        def path_of(i: int) -> str:
            return model.CA_CERT_PATH if (i == len(certs) - 1 and verified and i > 0) else model.CLIENT_CERT_PATH

        for i, cert in enumerate(certs):
            if self.now < cert.not_valid_before_utc:
                self.r.fail(c, NotYetValidError("%s valid from %s" % (name(i), cert.not_valid_before_utc.isoformat()), path=path_of(i)))
                return
            if self.now > cert.not_valid_after_utc:
                self.r.fail(c, ExpiredError("%s expired at %s" % (name(i), cert.not_valid_after_utc.isoformat()), path=path_of(i)))
                return
        first = min(range(len(certs)), key=lambda i: certs[i].not_valid_after_utc)
        left = certs[first].not_valid_after_utc - self.now
        msg = "%s expires at %s, in %s" % (name(first), certs[first].not_valid_after_utc.isoformat(), _days(left))
        warn = self.expiry_warning
        status = "warn" if (warn > timedelta(0) and left < warn) else "pass"
        self.r.add(c, status, msg, path=path_of(first))

    def consistency(self) -> None:
        c = "consistency"
        if self.r.failed("completeness"):
            self.r.add(c, "skip", "the bundle is incomplete")
            return
        problems: List[InconsistentError] = []

        def fail(p: str, msg: str) -> None:
            problems.append(InconsistentError(msg, path=p))

        note = self._consistency(fail)
        if problems:
            first = problems[0]
            if len(problems) > 1:
                first.message = "%d problems: %s" % (len(problems), "; ".join("%s: %s" % (e.path, e.message) for e in problems[:3]))
            self.r.fail(c, first)
            return
        self.r.add(c, "warn" if note.startswith("the client key is encrypted") else "pass", note)

    def _consistency(self, fail) -> str:
        b = self.b
        meta = self.meta
        if meta is None:
            fail(model.METADATA_PATH, "metadata.json does not parse")
            return ""
        cfg = None
        try:
            cfg = model.parse_client_config(b.get(model.CLIENT_YAML_PATH) or b"")
        except ScbError as e:
            fail(model.CLIENT_YAML_PATH, e.message)
        try:
            roots = parse_certificates_pem(b.get(model.CA_CERT_PATH) or b"")
        except ValueError as e:
            fail(model.CA_CERT_PATH, str(e))
            return ""
        chain_pem = b.get(model.CLIENT_CERT_PATH) or b""
        try:
            leaf = parse_certificates_pem(chain_pem)[0]
        except ValueError as e:
            fail(model.CLIENT_CERT_PATH, str(e))
            return ""
        if leaf.not_valid_after_utc != meta.expires_at:
            fail(model.METADATA_PATH, "expires_at differs from the client certificate's")
        key_pem = b.get(model.CLIENT_KEY_PATH) or b""
        encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in key_pem
        if cfg is not None and cfg.client_key_encrypted != encrypted:
            fail(model.CLIENT_YAML_PATH, "client_key_encrypted does not match %s" % model.CLIENT_KEY_PATH)
        if encrypted and not self.key_passphrase:
            self._check_stock(fail, leaf, chain_pem, roots)
            return "the client key is encrypted and no passphrase was given: it was not compared with the certificate"
        try:
            key = serialization.load_pem_private_key(key_pem, self.key_passphrase if encrypted else None)
        except (ValueError, TypeError):
            fail(model.CLIENT_KEY_PATH, "the private key does not parse (or the passphrase is wrong)")
            return ""
        except Exception:  # cryptography raises various types on garbage
            fail(model.CLIENT_KEY_PATH, "the private key does not parse")
            return ""
        if not _same_public(key.public_key(), leaf.public_key()):
            fail(model.CLIENT_KEY_PATH, "private key does not match the client certificate")
        self._check_stock(fail, leaf, chain_pem, roots)
        return "certificates, keys, config.json and cert.pfx agree (identity.jks and trustStore.jks: digests only)"

    def _check_stock(self, fail, leaf, chain_pem: bytes, roots) -> None:
        b = self.b
        if not any(p in b for p in model.STOCK_DRIVER_PATHS):
            return
        cc_data = b.get(model.CLOUD_CONFIG_PATH)
        if not cc_data:
            return
        try:
            cc = model.parse_cloud_config(cc_data)
        except ScbError as e:
            fail(model.CLOUD_CONFIG_PATH, e.message)
            return
        ca = b.get(model.CLOUD_CA_PATH)
        if ca is not None:
            try:
                cas = parse_certificates_pem(ca)
                if len(cas) != 1:
                    fail(model.CLOUD_CA_PATH, "must hold exactly one certificate, holds %d" % len(cas))
                elif cas[0] != roots[0]:
                    fail(model.CLOUD_CA_PATH, "differs from the first certificate of %s" % model.CA_CERT_PATH)
                elif not _issued_by(cas[0], cas[0]) or not _is_ca(cas[0]):
                    fail(model.CLOUD_CA_PATH, "is not a self-signed root")
            except ValueError as e:
                fail(model.CLOUD_CA_PATH, str(e))
        cert = b.get(model.CLOUD_CERT_PATH)
        if cert is not None and cert != chain_pem:
            fail(model.CLOUD_CERT_PATH, "differs from %s" % model.CLIENT_CERT_PATH)
        key = b.get(model.CLOUD_KEY_PATH)
        if key:
            try:
                k = serialization.load_pem_private_key(key, None)
                if not _same_public(k.public_key(), leaf.public_key()):
                    fail(model.CLOUD_KEY_PATH, "does not match the client certificate")
            except Exception:
                fail(model.CLOUD_KEY_PATH, "the private key does not parse (it must be unencrypted PKCS#8)")
        pfx = b.get(model.CLOUD_PFX_PATH)
        if pfx:
            pw = (cc.pfx_cert_password or "").encode("utf-8")
            try:
                pkey, pcert, _extra = pkcs12.load_key_and_certificates(pfx, pw)
            except Exception:
                fail(model.CLOUD_PFX_PATH, "cannot be opened with pfxCertPassword from config.json")
            else:
                if pcert is None or pcert != leaf:
                    fail(model.CLOUD_PFX_PATH, "holds a different certificate than %s" % model.CLIENT_CERT_PATH)
                elif pkey is None or not _same_public(pkey.public_key(), leaf.public_key()):
                    fail(model.CLOUD_PFX_PATH, "holds a different private key than %s" % model.CLIENT_KEY_PATH)


def _days(d: timedelta) -> str:
    if d < timedelta(hours=48):
        return "%dm" % round(d.total_seconds() / 60)
    return "%d days" % d.days


def _same_public(a: Any, b: Any) -> bool:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        return a.public_bytes(serialization.Encoding.DER, fmt) == b.public_bytes(serialization.Encoding.DER, fmt)
    except Exception:
        return False


def verify_bundle(bundle: Bundle, trusted_keys: Any = None, *, now: Optional[datetime] = None,
                  require_signature: bool = False, threshold: int = 1,
                  expiry_warning: timedelta = DEFAULT_EXPIRY_WARNING,
                  key_passphrase: Optional[bytes] = None) -> Report:
    """Verify an in-memory bundle and return a Report (never raises for bad content).

    trusted_keys: anything :func:`scbkit.signing.as_key_set` accepts, or
    None. now: the verification time (default: the current time)."""
    now = _aware(now)
    keys = as_key_set(trusted_keys) if trusted_keys is not None else None
    r = Report(time=now)
    _Verifier(bundle, keys, now, require_signature, threshold, expiry_warning, key_passphrase, r).run()
    return r


def verify_path(path: Any, trusted_keys: Any = None, *, limits: Optional[Limits] = None,
                detached_signature: Any = None, require_detached_signature: bool = False, **kw: Any) -> Report:
    """Read a bundle (zip, tar.gz or directory) safely and verify it.

    detached_signature: a detached signature (bytes, or a path to one) over
    the archive bytes, checked before the archive is opened; only the one
    given is checked, never one found next to the file. Archive problems
    give a failed ``archive`` check and nothing after it."""
    now = _aware(kw.pop("now", None))
    keys = as_key_set(trusted_keys) if trusted_keys is not None else None
    r = Report(time=now)
    lim = (limits or Limits()).normalized()
    sig: Optional[bytes] = None
    if detached_signature is not None:
        if isinstance(detached_signature, (bytes, bytearray)):
            sig = bytes(detached_signature)
        else:
            try:
                with open(detached_signature, "rb") as f:
                    sig = f.read(MAX_ENVELOPE_SIZE + 1)
            except OSError as e:
                r.fail("detached_signature", ScbError("cannot read the detached signature: %s" % e.strerror))
                return r
    try:
        if os.path.isdir(path):
            if sig is not None or require_detached_signature:
                r.fail("detached_signature", ScbError("a directory cannot carry a detached signature"))
                return r
            b = read_bundle(path, lim)
        else:
            size = os.path.getsize(path)
            if size > lim.max_archive_size:
                r.fail("archive", TooLargeError("archive is %d bytes, more than %d" % (size, lim.max_archive_size)))
                return r
            with open(path, "rb") as f:
                data = f.read(lim.max_archive_size + 1)
            if not _detached(r, data, sig, keys, now, kw.get("threshold", 1), require_detached_signature,
                             kw.get("require_signature", False)):
                return r
            b = decode_bundle(data, lim, source=os.fspath(path))
    except ScbError as e:
        r.fail("archive", e)
        return r
    except OSError as e:
        r.fail("archive", ScbError("cannot read the bundle: %s" % e.strerror))
        return r
    r.add("archive", "pass", "%s with %d files, every path safe" % (b.format, len(b)))
    sub = verify_bundle(b, keys, now=now, **kw)
    r.results.extend(sub.results)
    return r


def _detached(r: Report, archive: bytes, sig: Optional[bytes], keys: Any, now: datetime, threshold: int,
              required: bool, require_signature: bool) -> bool:
    """The detached_signature check; whether the archive may be opened."""
    c = "detached_signature"
    if sig is None:
        if required:
            r.fail(c, UnsignedError("a detached signature is required and there is none"))
            return False
        r.add(c, "skip", "no detached signature")
        return True
    if keys is None or len(keys) == 0:
        if require_signature:
            r.fail(c, NoTrustedKeysError("a signature is required but no trusted keys were given"))
            return False
        r.add(c, "warn", "detached signature present, but no trusted keys were given: it was not checked")
        return True
    try:
        env = parse_envelope(sig)
        if env.payload_type != PAYLOAD_TYPE_ARCHIVE:
            raise BadSignatureError("signature does not verify: payloadType is not %r" % PAYLOAD_TYPE_ARCHIVE)
        st = parse_archive_statement(env.payload)
        if not st.matches(archive):
            r.fail(c, DigestMismatchError("archive does not match its detached signature: signed for %d bytes with SHA-256 %s"
                                          % (st.size, st.sha256)))
            return False
        ok = env.verify(keys, now, threshold)
    except SignatureError as e:
        r.fail(c, e)
        return False
    r.add(c, "pass", "archive %r (%d bytes) signed by %d trusted key(s)" % (st.name, st.size, len(ok.key_ids)),
          key_ids=ok.key_ids)
    return True


def _aware(t: Optional[datetime]) -> datetime:
    if t is None:
        return datetime.now(timezone.utc)
    if t.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return t.astimezone(timezone.utc)
