"""Bundle signatures: DSSE envelopes over manifest.json, trusted key sets.

The rules are those of the Go reference (``scb/signing``), so every loader
reaches the same outcome for the same input:

* ``signatures/manifest.dsse.json`` is a DSSE envelope whose payloadType is
  ``application/vnd.scbkit.manifest+json`` and whose payload is
  manifest.json byte for byte; signatures are over the DSSE v1 PAE;
* algorithms: ECDSA P-256/SHA-256 and P-384/SHA-384 (ASN.1 DER signatures
  only), Ed25519 (pure), RSA-PSS SHA-256/MGF1-SHA-256/32-byte salt with
  3072- or 4096-bit keys;
* a key id is the lower-case hex SHA-256 of the DER SubjectPublicKeyInfo;
* trusted keys come from outside the bundle: a JWKS (keys may carry
  ``nbf``/``exp``) or PEM ``PUBLIC KEY`` blocks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .errors import (
    BadSignatureError,
    KeyOutsideValidityError,
    KeySetError,
    MalformedSignatureError,
    NoTrustedKeysError,
    UnknownSignerError,
    UnsupportedKeyError,
)

__all__ = [
    "PAYLOAD_TYPE_MANIFEST",
    "pae",
    "key_id",
    "algorithm_of",
    "TrustedKey",
    "KeySet",
    "parse_key_set",
    "Envelope",
    "parse_envelope",
    "Verified",
]

PAYLOAD_TYPE_MANIFEST = "application/vnd.scbkit.manifest+json"
PAYLOAD_TYPE_ARCHIVE = "application/vnd.scbkit.archive+json"
ARCHIVE_STATEMENT_TYPE = "scbkit.archive/1"
MAX_ENVELOPE_SIZE = 4 << 20
MAX_SIGNATURES = 32
MAX_SIGNATURE_SIZE = 1024
MAX_KEY_SET_SIZE = 1 << 20
_MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z

PublicKey = Union[ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, rsa.RSAPublicKey]


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding: the bytes actually signed."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def algorithm_of(pub: Any) -> str:
    """ES256, ES384, EdDSA or PS256; UnsupportedKeyError for other keys."""
    if isinstance(pub, ec.EllipticCurvePublicKey):
        if isinstance(pub.curve, ec.SECP256R1):
            return "ES256"
        if isinstance(pub.curve, ec.SECP384R1):
            return "ES384"
        raise UnsupportedKeyError("unsupported signing key: ECDSA curve %s (use P-256 or P-384)" % pub.curve.name)
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(pub, rsa.RSAPublicKey):
        if pub.key_size not in (3072, 4096):
            raise UnsupportedKeyError("unsupported signing key: %d-bit RSA key (use 3072 or 4096 bits)" % pub.key_size)
        return "PS256"
    raise UnsupportedKeyError("unsupported signing key: %s" % type(pub).__name__)


def key_id(pub: Any) -> str:
    """Lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo."""
    algorithm_of(pub)
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class TrustedKey:
    """A public key allowed to sign bundles, optionally only in [not_before, expires)."""

    public: Any
    not_before: Optional[datetime] = None
    expires: Optional[datetime] = None
    id: str = field(default="", compare=False)
    alg: str = field(default="", compare=False)

    def valid_at(self, t: datetime) -> bool:
        return (self.not_before is None or t >= self.not_before) and (self.expires is None or t < self.expires)

    def __repr__(self) -> str:
        return "TrustedKey(%s %s)" % (self.alg, self.id)


class KeySet:
    """Trusted public keys by key id. It must come from outside the bundle."""

    def __init__(self, keys: Iterable[Any] = ()):
        self._keys: Dict[str, TrustedKey] = {}
        for k in keys:
            self.add(k)

    def add(self, k: Any) -> TrustedKey:
        """Add a TrustedKey or a bare public key."""
        if not isinstance(k, TrustedKey):
            k = TrustedKey(k)
        alg = algorithm_of(k.public)
        kid = key_id(k.public)
        if kid in self._keys:
            raise KeySetError("malformed key set: key %s listed twice" % kid)
        if k.not_before is not None and k.expires is not None and not k.not_before < k.expires:
            raise KeySetError("malformed key set: key %s: nbf is not before exp" % kid)
        k = TrustedKey(k.public, k.not_before, k.expires, kid, alg)
        self._keys[kid] = k
        return k

    def lookup(self, kid: str) -> Optional[TrustedKey]:
        return self._keys.get(kid)

    def key_ids(self) -> List[str]:
        return list(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return "KeySet(%s)" % ", ".join(self._keys)


# --- key set parsing ---------------------------------------------------------

_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def _no_duplicates(pairs: List[Any]) -> Dict[str, Any]:
    d: Dict[str, Any] = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate member %r" % k[:64])
        d[k] = v
    return d


def strict_json_object(data: bytes) -> Dict[str, Any]:
    """Exactly one JSON object, no duplicate member names at any depth."""
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates,
                         parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ValueError("invalid UTF-8") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError("invalid JSON")


def _b64url(v: Any, name: str) -> bytes:
    if not isinstance(v, str):
        raise ValueError("%s is not a string" % name if v is not None else "%s missing" % name)
    if not re.fullmatch(r"[A-Za-z0-9_-]*", v) or len(v) % 4 == 1:
        raise ValueError("%s is not unpadded base64url" % name)
    raw = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != v:
        raise ValueError("%s is not unpadded base64url" % name)
    return raw


def _jwk(i: int, m: Dict[str, Any]) -> TrustedKey:
    def bad(msg: str) -> KeySetError:
        return KeySetError("malformed key set: key %d: %s" % (i + 1, msg))

    for name in ("kty", "crv", "kid", "alg", "use"):
        if name in m and not isinstance(m[name], str):
            raise bad("%s is not a string" % name)
    kty, crv = m.get("kty", ""), m.get("crv", "")
    try:
        if kty == "EC":
            curves = {"P-256": (ec.SECP256R1(), 32), "P-384": (ec.SECP384R1(), 48)}
            if crv not in curves:
                raise UnsupportedKeyError("unsupported signing key: key %d: EC curve %r (use P-256 or P-384)" % (i + 1, crv[:64]))
            curve, size = curves[crv]
            x, y = _b64url(m.get("x"), "x"), _b64url(m.get("y"), "y")
            if len(x) != size or len(y) != size:
                raise bad("x and y must be %d bytes each" % size)
            try:
                pub: Any = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
            except ValueError:
                raise bad("not a point on %s" % crv) from None
        elif kty == "OKP":
            if crv != "Ed25519":
                raise UnsupportedKeyError("unsupported signing key: key %d: OKP curve %r (use Ed25519)" % (i + 1, crv[:64]))
            x = _b64url(m.get("x"), "x")
            if len(x) != 32:
                raise bad("x must be 32 bytes")
            pub = ed25519.Ed25519PublicKey.from_public_bytes(x)
        elif kty == "RSA":
            n, e = _b64url(m.get("n"), "n"), _b64url(m.get("e"), "e")
            if len(n) > 1024 or len(e) == 0 or len(e) > 4:
                raise bad("RSA parameters out of range")
            ev = int.from_bytes(e, "big")
            if ev < 3 or ev > (1 << 31) - 1 or ev % 2 == 0:
                raise bad("RSA exponent out of range")
            nv = int.from_bytes(n, "big")
            if nv.bit_length() not in (3072, 4096):
                raise UnsupportedKeyError("unsupported signing key: key %d: %d-bit RSA key (use 3072 or 4096 bits)" % (i + 1, nv.bit_length()))
            try:
                pub = rsa.RSAPublicNumbers(ev, nv).public_key()
            except ValueError:
                raise bad("malformed RSA key") from None
        else:
            raise UnsupportedKeyError("unsupported signing key: key %d: kty %r (use EC, OKP or RSA)" % (i + 1, str(kty)[:64]))
    except ValueError as e:
        if isinstance(e, KeySetError):
            raise
        raise bad(str(e)) from None
    kid, alg = key_id(pub), algorithm_of(pub)
    if "kid" in m and m["kid"] != kid:
        raise bad("kid is not the key's id %s" % kid)
    if "alg" in m and m["alg"] != alg:
        raise bad("alg does not match the key (%s)" % alg)
    if "use" in m and m["use"] != "sig":
        raise bad('use is not "sig"')
    if "key_ops" in m:
        ops = m["key_ops"]
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise bad("key_ops is not an array of strings")
        if "verify" not in ops:
            raise bad('key_ops does not allow "verify"')

    def date(name: str) -> Optional[datetime]:
        if name not in m:
            return None
        v = m[name]
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > _MAX_NUMERIC_DATE:
            raise bad("%s is not an integer number of seconds since the epoch" % name)
        return datetime.fromtimestamp(v, tz=timezone.utc)

    return TrustedKey(pub, date("nbf"), date("exp"))


_PEM_BLOCK = re.compile(rb"-----BEGIN ([^\r\n-]*)-----\r?\n(.*?)-----END \1-----[ \t]*(?:\r?\n|\Z)", re.S)


def _parse_pem_keys(data: bytes) -> KeySet:
    s = KeySet()
    pos, i = 0, 0
    while True:
        start = data.find(b"-----BEGIN", pos)
        if start < 0:
            break
        m = _PEM_BLOCK.match(data, start)
        if not m:
            break
        i += 1
        typ = m.group(1).decode("ascii", "replace")
        if typ != "PUBLIC KEY":
            if "PRIVATE" in typ:
                raise KeySetError("malformed key set: PEM block %d is a private key; a key set must hold public keys only" % i)
            raise KeySetError("malformed key set: PEM block %d is %r, not PUBLIC KEY" % (i, typ[:64]))
        try:
            der = base64.b64decode(re.sub(rb"\s+", b"", m.group(2)), validate=True)
            pub = serialization.load_der_public_key(der)
        except (ValueError, binascii.Error, TypeError):
            raise KeySetError("malformed key set: PEM block %d: malformed public key" % i) from None
        try:
            s.add(pub)
        except KeySetError as e:
            raise type(e)("PEM block %d: %s" % (i, e)) from None
        pos = m.end()
    if data[pos:].strip():
        raise KeySetError("malformed key set: data after the last PEM block")
    return s


def parse_key_set(data: Union[bytes, str]) -> KeySet:
    """Read trusted keys from a JSON Web Key Set or PEM "PUBLIC KEY" blocks."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_KEY_SET_SIZE:
        raise KeySetError("malformed key set: larger than %d bytes" % MAX_KEY_SET_SIZE)
    t = data.strip()
    if t.startswith(b"{"):
        try:
            top = strict_json_object(t)
        except ValueError as e:
            raise KeySetError("malformed key set: %s" % e) from None
        keys = top.get("keys")
        if keys is None:
            raise KeySetError('malformed key set: no "keys" array')
        if not isinstance(keys, list):
            raise KeySetError('malformed key set: "keys" is not an array')
        s = KeySet()
        for i, m in enumerate(keys):
            if m is None:
                m = {}
            if not isinstance(m, dict):
                raise KeySetError("malformed key set: key %d is not an object" % (i + 1))
            for p in _PRIVATE_MEMBERS:
                if p in m:
                    raise KeySetError("malformed key set: key %d: holds private key material (%r); a key set must hold public keys only" % (i + 1, p))
            k = _jwk(i, m)
            try:
                s.add(k)
            except KeySetError as e:
                raise type(e)("key %d: %s" % (i + 1, e)) from None
    elif t.startswith(b"-----BEGIN"):
        s = _parse_pem_keys(t)
    else:
        raise KeySetError("malformed key set: neither a JWKS nor PEM public keys")
    if len(s) == 0:
        raise KeySetError("malformed key set: no keys")
    return s


def as_key_set(keys: Any) -> KeySet:
    """Coerce trusted keys given in any accepted form into a KeySet.

    Accepted: a KeySet; JWKS or PEM content as bytes, or as str beginning
    with ``{`` or ``-----BEGIN``; a file path (str or os.PathLike); a parsed
    JWKS dict; an iterable of public keys or TrustedKeys."""
    if isinstance(keys, KeySet):
        return keys
    if isinstance(keys, bytes):
        return parse_key_set(keys)
    if isinstance(keys, str) and keys.lstrip().startswith(("{", "-----BEGIN")):
        return parse_key_set(keys)
    if isinstance(keys, (str, os.PathLike)):
        with open(keys, "rb") as f:
            return parse_key_set(f.read(MAX_KEY_SET_SIZE + 1))
    if isinstance(keys, dict):
        return parse_key_set(json.dumps(keys).encode())
    return KeySet(keys)


# --- envelopes ---------------------------------------------------------------

_B64STD = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")
_KEYID = re.compile(r"\A[0-9a-f]{64}\Z")


def _strict_b64(s: Any) -> Optional[bytes]:
    if not isinstance(s, str) or not _B64STD.match(s) or len(s) % 4:
        return None
    try:
        raw = base64.b64decode(s, validate=True)
    except binascii.Error:
        return None
    if base64.b64encode(raw).decode() != s:
        return None
    return raw


@dataclass(frozen=True)
class Signature:
    key_id: str
    sig: bytes = field(repr=False)


@dataclass(frozen=True)
class Verified:
    """A successful verification: which trusted keys counted, and the rest."""

    key_ids: List[str]
    expired: List[str]
    unknown: List[str]


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes = field(repr=False)
    signatures: Sequence[Signature]

    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def verify(self, keys: KeySet, now: Optional[datetime] = None, threshold: int = 1) -> Verified:
        """Check the signatures against keys at time now (see the module doc)."""
        if keys is None or len(keys) == 0:
            raise NoTrustedKeysError("no trusted keys given")
        now = now or datetime.now(timezone.utc)
        threshold = max(threshold, 1)
        msg = self.pae()
        counted: List[str] = []
        expired: List[str] = []
        unknown: List[str] = []
        for s in self.signatures:
            k = keys.lookup(s.key_id)
            if k is None:
                unknown.append(s.key_id)
                continue
            why = _verify_raw(k, msg, s.sig)
            if why:
                raise BadSignatureError("signature does not verify: " + why, key_id=s.key_id)
            if not k.valid_at(now):
                expired.append(s.key_id)
                continue
            if s.key_id not in counted:
                counted.append(s.key_id)
        if len(counted) >= threshold:
            return Verified(counted, expired, unknown)
        if expired:
            raise KeyOutsideValidityError("signing key is outside its validity window", key_id=expired[0])
        if counted:
            raise UnknownSignerError("not signed by a trusted key: %d of %d required trusted keys signed" % (len(counted), threshold))
        raise UnknownSignerError("not signed by a trusted key: signed by %d key(s), none of them trusted" % len(unknown))


def parse_envelope(data: bytes) -> Envelope:
    """Decode an envelope from untrusted input (MalformedSignatureError)."""

    def bad(msg: str) -> MalformedSignatureError:
        return MalformedSignatureError("malformed signature envelope: " + msg)

    if len(data) > MAX_ENVELOPE_SIZE:
        raise bad("envelope larger than %d bytes" % MAX_ENVELOPE_SIZE)
    try:
        obj = strict_json_object(data)
    except ValueError as e:
        raise bad(str(e)) from None
    if set(obj) - {"payloadType", "payload", "signatures"}:
        raise bad("unknown member")
    pt = obj.get("payloadType")
    if pt is not None and not isinstance(pt, str):
        raise bad("payloadType has the wrong type")
    if not pt:
        raise bad("payloadType missing")
    payload = _strict_b64(obj.get("payload") if obj.get("payload") is not None else "")
    if payload is None:
        raise bad("payload is not standard base64")
    sigs = obj.get("signatures")
    if sigs is not None and not isinstance(sigs, list):
        raise bad("signatures has the wrong type")
    if not sigs:
        raise bad("no signatures")
    if len(sigs) > MAX_SIGNATURES:
        raise bad("more than %d signatures" % MAX_SIGNATURES)
    out: List[Signature] = []
    seen = set()
    for i, s in enumerate(sigs, 1):
        if s is None:
            s = {}
        if not isinstance(s, dict) or set(s) - {"keyid", "sig"}:
            raise bad("signature %d is malformed" % i)
        kid = s.get("keyid")
        if kid is None:
            kid = ""
        if not isinstance(kid, str) or not _KEYID.match(kid):
            raise bad("signature %d: keyid is not 64 lower-case hexadecimal digits" % i)
        if kid in seen:
            raise bad("signature %d: key %s signed twice" % (i, kid))
        seen.add(kid)
        raw = _strict_b64(s.get("sig") if s.get("sig") is not None else "")
        if not raw or len(raw) > MAX_SIGNATURE_SIZE:
            raise bad("signature %d: sig is not a non-empty standard base64 signature" % i)
        out.append(Signature(kid, raw))
    return Envelope(pt, payload, tuple(out))


def _der_len(b: bytes, i: int):
    if i >= len(b):
        return None
    first = b[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n == 0 or n > 2 or i + 1 + n > len(b):
        return None
    v = int.from_bytes(b[i + 1 : i + 1 + n], "big")
    if v < 0x80 or (n == 2 and v < 0x100):
        return None  # not minimal
    return v, i + 1 + n


def is_der_signature(sig: bytes) -> bool:
    """Exactly a DER SEQUENCE of two positive, minimally encoded INTEGERs."""
    if len(sig) < 8 or sig[0] != 0x30:
        return False
    r = _der_len(sig, 1)
    if r is None or r[0] + r[1] != len(sig):
        return False
    i = r[1]
    for _ in range(2):
        if i >= len(sig) or sig[i] != 0x02:
            return False
        r = _der_len(sig, i + 1)
        if r is None or r[0] == 0:
            return False
        n, i = r
        v = sig[i : i + n]
        if len(v) != n or v[0] & 0x80 or (n > 1 and v[0] == 0 and not v[1] & 0x80) or not any(v):
            return False
        i += n
    return i == len(sig)


def _verify_raw(k: TrustedKey, msg: bytes, sig: bytes) -> str:
    """Empty string when sig verifies, else why not."""
    pub = k.public
    try:
        if k.alg in ("ES256", "ES384"):
            if not is_der_signature(sig):
                return "ECDSA signature is not ASN.1 DER"
            h = hashes.SHA256() if k.alg == "ES256" else hashes.SHA384()
            pub.verify(sig, msg, ec.ECDSA(h))
        elif k.alg == "EdDSA":
            if len(sig) != 64:
                return "Ed25519 signature has the wrong length"
            pub.verify(sig, msg)
        elif k.alg == "PS256":
            if len(sig) != (pub.key_size + 7) // 8:
                return "RSA signature has the wrong length"
            pub.verify(sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        else:
            return "unsupported algorithm"
    except InvalidSignature:
        return "invalid signature"
    return ""


@dataclass(frozen=True)
class ArchiveStatement:
    """The payload of a detached signature: which archive bytes were signed."""

    type: str
    name: str
    size: int
    sha256: str

    def matches(self, archive: bytes) -> bool:
        return self.size == len(archive) and self.sha256 == hashlib.sha256(archive).hexdigest()


def parse_archive_statement(data: bytes) -> ArchiveStatement:
    """Decode a detached signature's statement (MalformedSignatureError)."""

    def bad(msg: str) -> MalformedSignatureError:
        return MalformedSignatureError("malformed signature envelope: archive statement: " + msg)

    try:
        obj = strict_json_object(data)
    except ValueError as e:
        raise bad(str(e)) from None
    for m in ("type", "name", "size", "sha256"):
        if m not in obj:
            raise bad("%s missing" % m)
    if set(obj) - {"type", "name", "size", "sha256"}:
        raise bad("unknown member")
    t, name, size, digest = obj["type"], obj["name"], obj["size"], obj["sha256"]
    if not isinstance(t, str) or not isinstance(name, str) or not isinstance(digest, str) \
            or not isinstance(size, int) or isinstance(size, bool):
        raise bad("member has the wrong type")
    if t != ARCHIVE_STATEMENT_TYPE:
        raise bad("type is not %r" % ARCHIVE_STATEMENT_TYPE)
    nb = name.encode("utf-8", "surrogatepass")
    if not name or len(nb) > 255 or "/" in name or "\\" in name or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise bad("name is not a plain file name")
    if size < 0 or size > (1 << 63) - 1:
        raise bad("negative size")
    if not _KEYID.match(digest):
        raise bad("sha256 is not 64 lower-case hexadecimal digits")
    return ArchiveStatement(t, name, size, digest)
