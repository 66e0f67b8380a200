"""The bundle's wire formats: paths, manifest.json, metadata.json,
config/cassandra.yaml and config.json, parsed by the rules of the Go
reference (``scb/manifest.go``, ``scb/metadata.go``, ``scb/clientconfig.go``,
``scb/cloudconfig.go``)."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from . import _yaml
from .archive import Bundle, check_path
from .errors import (
    BundleError,
    DigestMismatchError,
    MalformedManifestError,
    MalformedMetadataError,
    ScbError,
    UnsafePathError,
)

# Well-known paths (format version 1).
METADATA_PATH = "metadata.json"
MANIFEST_PATH = "manifest.json"
SIGNATURE_PATH = "signatures/manifest.dsse.json"
SIGNATURES_DIR = "signatures/"
CA_CERT_PATH = "certificates/ca-cert.pem"
CLIENT_CERT_PATH = "certificates/client-cert.pem"
CLIENT_KEY_PATH = "certificates/client-key.pem"
CLIENT_YAML_PATH = "config/cassandra.yaml"
README_PATH = "README.md"
CLOUD_CONFIG_PATH = "config.json"
CLOUD_CA_PATH = "ca.crt"
CLOUD_CERT_PATH = "cert"
CLOUD_KEY_PATH = "key"
CLOUD_PFX_PATH = "cert.pfx"
CLOUD_IDENTITY_PATH = "identity.jks"
CLOUD_TRUSTSTORE_PATH = "trustStore.jks"
CQLSHRC_PATH = "cqlshrc"

REQUIRED_PATHS = [METADATA_PATH, MANIFEST_PATH, CA_CERT_PATH, CLIENT_CERT_PATH, CLIENT_KEY_PATH, CLIENT_YAML_PATH, README_PATH]
STOCK_DRIVER_PATHS = [
    CLOUD_CONFIG_PATH, CLOUD_CA_PATH, CLOUD_CERT_PATH, CLOUD_KEY_PATH, CQLSHRC_PATH,
    CLOUD_PFX_PATH, CLOUD_IDENTITY_PATH, CLOUD_TRUSTSTORE_PATH,
]

MANIFEST_FORMAT = "scb-manifest/1"
CLIENT_CONFIG_FORMAT = "scb-client/1"
FORMAT_VERSION = "1.0"


def connection_profile_path(env: str) -> str:
    return "config/connection-profiles/" + env + ".yaml"


def in_manifest(p: str) -> bool:
    """Whether the file at p is covered by the manifest."""
    return p != MANIFEST_PATH and not p.startswith(SIGNATURES_DIR)


# --- manifest ----------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format: str
    algorithm: str
    files: Tuple[ManifestEntry, ...]

    def encode(self) -> bytes:
        """The canonical encoding (what is signed)."""
        files = sorted(self.files, key=lambda e: e.path.encode("utf-8"))
        obj = {
            "format": self.format,
            "algorithm": self.algorithm,
            "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in files],
        }
        return canonical_json(obj)


def canonical_json(obj: Any) -> bytes:
    """JSON as Go's encoder with SetIndent("", "  ") and no HTML escaping writes it."""
    s = json.dumps(obj, indent=2, ensure_ascii=False)
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return (s + "\n").encode("utf-8")


_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_manifest(data: bytes) -> Manifest:
    """Decode a canonical manifest; raise MalformedManifestError otherwise."""

    def bad(msg: str) -> MalformedManifestError:
        return MalformedManifestError(msg, path=MANIFEST_PATH)

    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("malformed manifest") from None
    if not isinstance(obj, dict) or set(obj) - {"format", "algorithm", "files"}:
        raise bad("malformed manifest")
    if obj.get("format") != MANIFEST_FORMAT:
        raise bad("unsupported manifest format")
    if obj.get("algorithm") != "sha256":
        raise bad("unsupported digest algorithm")
    files = obj.get("files")
    if files is None:
        files = []
    if not isinstance(files, list):
        raise bad("malformed manifest")
    entries = []
    seen = set()
    for e in files:
        if not isinstance(e, dict) or set(e) - {"path", "size", "sha256"}:
            raise bad("malformed manifest entry")
        p, size, digest = e.get("path", ""), e.get("size", 0), e.get("sha256", "")
        if not isinstance(p, str) or not _is_int(size) or not isinstance(digest, str):
            raise bad("malformed manifest entry")
        try:
            check_path(p)
        except UnsafePathError as err:
            raise bad(str(err)) from None
        if not in_manifest(p):
            raise bad("manifest lists %s, which it cannot cover" % p)
        if p in seen:
            raise bad("duplicate entry %s" % p)
        seen.add(p)
        if size < 0 or size > (1 << 63) - 1:
            raise bad("bad size for %s" % p)
        if not _HEX64.match(digest):
            raise bad("malformed sha256 for %s" % p)
        entries.append(ManifestEntry(p, size, digest))
    m = Manifest(MANIFEST_FORMAT, "sha256", tuple(entries))
    try:
        canonical = m.encode()
    except UnicodeEncodeError:
        raise bad("malformed manifest") from None
    if canonical != data:
        raise bad("manifest is not in canonical form")
    return m


def new_manifest(bundle: Bundle) -> Manifest:
    """The manifest of bundle's current files (for tests and tools)."""
    entries = [
        ManifestEntry(p, len(d), hashlib.sha256(d).hexdigest()) for p, d in bundle.items() if in_manifest(p)
    ]
    return Manifest(MANIFEST_FORMAT, "sha256", tuple(entries))


def check_manifest(bundle: Bundle) -> Tuple[Manifest, List[ScbError]]:
    """Compare bundle with its manifest.json.

    Raises MalformedManifestError if the manifest does not parse; returns it
    with a list of DigestMismatchError, one per mismatch (empty when all
    files match)."""
    data = bundle.get(MANIFEST_PATH)
    if data is None:
        raise MalformedManifestError("required file missing", path=MANIFEST_PATH)
    m = parse_manifest(data)
    errs: List[ScbError] = []
    listed = set()
    for e in m.files:
        listed.add(e.path)
        d = bundle.get(e.path)
        if d is None:
            errs.append(DigestMismatchError("listed in manifest but absent", path=e.path))
            continue
        if len(d) != e.size or hashlib.sha256(d).hexdigest() != e.sha256:
            errs.append(DigestMismatchError("file does not match manifest", path=e.path))
    for p in bundle.paths():
        if in_manifest(p) and p not in listed:
            errs.append(DigestMismatchError("file not listed in manifest", path=p))
    return m, errs


# --- metadata ----------------------------------------------------------------

_RFC3339 = re.compile(
    r"\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def parse_time(s: Any) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    m = _RFC3339.match(s)
    if not m:
        raise ValueError("not an RFC 3339 time")
    frac = m.group(7) or ""
    frac = (frac[1:] + "000000")[:6] if frac else "0"
    tz = m.group(8)
    t = datetime(
        int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)),
        int(frac), tzinfo=timezone.utc,
    )
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        from datetime import timedelta

        t -= sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return t


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    datacenters: Tuple[str, ...]
    endpoints: Tuple[str, ...]
    role: str


@dataclass(frozen=True)
class Metadata:
    """metadata.json. ``raw`` is the whole decoded document."""

    bundle_version: str
    bundle_id: str
    cluster_name: str
    client_id: str
    environment: str
    generated_at: Optional[datetime]
    expires_at: datetime
    clusters: Tuple[ClusterInfo, ...]
    ca_fingerprint_sha256: str
    raw: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


def _typed(obj: Dict[str, Any], name: str, kind: str, where: str) -> Any:
    v = obj.get(name)
    if v is None:
        return None
    ok = {
        "str": isinstance(v, str),
        "int": _is_int(v),
        "bool": isinstance(v, bool),
        "list": isinstance(v, list),
        "dict": isinstance(v, dict),
        "time": isinstance(v, str),
    }[kind]
    if not ok:
        raise ValueError("%s%s has the wrong type" % (where, name))
    if kind == "time":
        try:
            return parse_time(v)
        except ValueError:
            raise ValueError("%s%s is not an RFC 3339 time" % (where, name)) from None
    return v


_META_SCHEMA = {
    "": {"bundle_version": "str", "bundle_id": "str", "cluster_name": "str", "client_id": "str",
         "environment": "str", "generated_at": "time", "expires_at": "time", "supported_drivers": "list",
         "clusters": "list", "ca": "dict", "client_certificate": "dict", "gateway": "dict",
         "generator": "dict", "parameters": "dict"},
    "ca": {"subject": "str", "fingerprint_sha256": "str", "not_after": "time"},
    "client_certificate": {"subject": "str", "serial": "str", "fingerprint_sha256": "str", "not_before": "time",
                           "not_after": "time", "key_type": "str", "key_encrypted": "bool"},
    "gateway": {"host": "str", "metadata_port": "int", "cql_port": "int"},
    "generator": {"name": "str", "version": "str"},
    "cluster": {"name": "str", "datacenters": "list", "endpoints": "list", "role": "str"},
}


def parse_metadata(data: bytes) -> Metadata:
    """Decode metadata.json and check the fields every consumer relies on."""

    def bad(msg: str) -> MalformedMetadataError:
        return MalformedMetadataError(msg, path=METADATA_PATH)

    try:
        obj, _ = json.JSONDecoder().raw_decode(data.decode("utf-8").lstrip(" \t\r\n"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("malformed metadata") from None
    if not isinstance(obj, dict):
        raise bad("malformed metadata")
    try:
        top = {k: _typed(obj, k, t, "") for k, t in _META_SCHEMA[""].items()}
        for sub in ("ca", "client_certificate", "gateway", "generator"):
            if top[sub] is not None:
                for k, t in _META_SCHEMA[sub].items():
                    _typed(top[sub], k, t, sub + ".")
        for arr in ("supported_drivers",):
            for v in top[arr] or []:
                if not isinstance(v, str):
                    raise ValueError(arr + " has the wrong type")
        clusters = []
        for c in top["clusters"] or []:
            if c is None:
                c = {}
            if not isinstance(c, dict):
                raise ValueError("clusters has the wrong type")
            vals = {k: _typed(c, k, t, "clusters.") for k, t in _META_SCHEMA["cluster"].items()}
            for k in ("datacenters", "endpoints"):
                for v in vals[k] or []:
                    if not isinstance(v, str):
                        raise ValueError("clusters.%s has the wrong type" % k)
            clusters.append(ClusterInfo(vals["name"] or "", tuple(vals["datacenters"] or ()),
                                        tuple(vals["endpoints"] or ()), vals["role"] or ""))
    except ValueError as e:
        raise bad("malformed metadata: %s" % e) from None
    version = top["bundle_version"] or ""
    if version == "":
        raise bad("bundle_version missing")
    if version[0] != FORMAT_VERSION[0]:
        raise bad("unsupported bundle_version (this reader supports %s)" % FORMAT_VERSION)
    if not top["cluster_name"] or not top["client_id"] or top["expires_at"] is None:
        raise bad("cluster_name, client_id and expires_at are required")
    ca = top["ca"] or {}
    return Metadata(
        bundle_version=version,
        bundle_id=top["bundle_id"] or "",
        cluster_name=top["cluster_name"],
        client_id=top["client_id"],
        environment=top["environment"] or "",
        generated_at=top["generated_at"],
        expires_at=top["expires_at"],
        clusters=tuple(clusters),
        ca_fingerprint_sha256=ca.get("fingerprint_sha256") or "",
        raw=obj,
    )


# --- endpoints ---------------------------------------------------------------

_DNS_LABEL = re.compile(r"\A[A-Za-z0-9_-]{1,63}\Z")


def _valid_dns_name(h: str) -> bool:
    if len(h) > 253 or h.startswith(".") or h.endswith("."):
        return False
    for label in h.split("."):
        if not _DNS_LABEL.match(label) or label[0] == "-" or label[-1] == "-":
            return False
    return True


def _is_ip(h: str) -> bool:
    try:
        ipaddress.ip_address(h)
        return True
    except ValueError:
        return False


def split_host_port(s: str, default_port: int = 0) -> Tuple[str, int]:
    """Parse "host:port" or "[v6]:port"; a bare host gets default_port when > 0."""

    def bad(why: str) -> ValueError:
        return ValueError("malformed endpoint %r: %s (want HOST:PORT, e.g. 10.0.0.5:9042)" % (s[:80], why))

    s = s.strip()
    if s == "":
        raise bad("empty")
    host, port = None, None
    if s.startswith("["):
        end = s.find("]")
        if end > 0 and s[end + 1 : end + 2] == ":" and "[" not in s[1:end] and "]" not in s[end + 1 :]:
            host, port = s[1:end], s[end + 2 :]
    elif s.count(":") == 1:
        host, port = s.split(":")
    if host is None:
        if default_port <= 0 or s.count(":") == 1:
            raise bad("missing or invalid port")
        host, port = s, str(default_port)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if "[" in host or "]" in host:
            raise bad("unbalanced brackets")
    if not port.isdigit() or not (1 <= int(port) <= 65535):
        raise bad("port must be a number from 1 to 65535")
    if host == "":
        raise bad("empty host")
    if not _is_ip(host) and not _valid_dns_name(host):
        raise bad("host is neither an IP address nor a DNS name")
    return host, int(port)


# --- config/cassandra.yaml ---------------------------------------------------


@dataclass(frozen=True)
class ClientConfig:
    """config/cassandra.yaml, the driver-neutral client configuration."""

    cluster_name: str
    environment: str
    client_id: str
    contact_points: Tuple[str, ...]
    local_datacenter: str
    ca_cert: str
    client_cert: str
    client_key: str
    client_key_encrypted: bool
    hostname_verification: bool
    min_tls_version: str
    server_name: str
    username: str
    credentials_in_config_json: bool
    connection: Dict[str, Any]
    gateway: Dict[str, Any]


def _str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def parse_client_config(data: bytes) -> ClientConfig:
    """Decode and check config/cassandra.yaml (BundleError on problems)."""

    def bad(msg: str) -> BundleError:
        return BundleError(msg, path=CLIENT_YAML_PATH)

    try:
        doc = _yaml.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad("malformed YAML: %s" % e) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise bad("malformed YAML: not a mapping")
    if doc.get("format") != CLIENT_CONFIG_FORMAT:
        raise bad("unsupported format")

    def sub(name: str) -> Dict[str, Any]:
        v = doc.get(name)
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise bad("%s is not a mapping" % name)
        return v

    tls, auth = sub("tls"), sub("auth")
    cps = doc.get("contact_points") or []
    if not isinstance(cps, list) or not all(isinstance(c, str) for c in cps):
        raise bad("contact_points is not a list of HOST:PORT")
    if not cps:
        raise bad("no contact points")
    for cp in cps:
        try:
            split_host_port(cp)
        except ValueError as e:
            raise bad(str(e)) from None
    paths = [_str(tls.get("ca_cert")), _str(tls.get("client_cert")), _str(tls.get("client_key"))]
    for p in paths:
        try:
            check_path(p)
        except UnsafePathError:
            raise bad("tls path is not a safe bundle path") from None
    for b in ("client_key_encrypted", "hostname_verification"):
        if tls.get(b) is not None and not isinstance(tls.get(b), bool):
            raise bad("tls.%s is not a boolean" % b)
    return ClientConfig(
        cluster_name=_str(doc.get("cluster_name")),
        environment=_str(doc.get("environment")),
        client_id=_str(doc.get("client_id")),
        contact_points=tuple(cps),
        local_datacenter=_str(doc.get("local_datacenter")),
        ca_cert=paths[0],
        client_cert=paths[1],
        client_key=paths[2],
        client_key_encrypted=bool(tls.get("client_key_encrypted")),
        hostname_verification=bool(tls.get("hostname_verification")),
        min_tls_version=_str(tls.get("min_version")),
        server_name=_str(tls.get("server_name")),
        username=_str(auth.get("username")),
        credentials_in_config_json=bool(auth.get("credentials_in_config_json")),
        connection=sub("connection"),
        gateway=sub("gateway"),
    )


# --- config.json -------------------------------------------------------------


class CloudConfig:
    """config.json, read by the stock drivers in bundle mode. Passwords never print."""

    __slots__ = ("host", "port", "cql_port", "local_dc", "username", "password",
                 "key_store_password", "trust_store_password", "pfx_cert_password")

    def __init__(self, **kw: Any):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def __repr__(self) -> str:
        return "CloudConfig(host=%r, port=%r, cql_port=%r, passwords=<redacted>)" % (self.host, self.port, self.cql_port)

    __str__ = __repr__


_CLOUD_FIELDS = {
    "host": ("host", "str"), "port": ("port", "int"), "cql_port": ("cql_port", "int"),
    "localDC": ("local_dc", "str"), "caCertLocation": (None, "str"), "keyLocation": (None, "str"),
    "certLocation": (None, "str"), "keyStoreLocation": (None, "str"),
    "keyStorePassword": ("key_store_password", "str"), "trustStoreLocation": (None, "str"),
    "trustStorePassword": ("trust_store_password", "str"), "pfxCertPassword": ("pfx_cert_password", "str"),
    "username": ("username", "str"), "password": ("password", "str"),
}


def parse_cloud_config(data: bytes) -> CloudConfig:
    """Decode config.json. Errors never echo its content."""

    def bad() -> BundleError:
        return BundleError("malformed JSON or wrong field type, or host and an integer port missing",
                           path=CLOUD_CONFIG_PATH)

    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad() from None
    if not isinstance(obj, dict):
        raise bad()
    kw: Dict[str, Any] = {}
    for key, (attr, kind) in _CLOUD_FIELDS.items():
        v = obj.get(key)
        if v is None:
            continue
        if (kind == "str" and not isinstance(v, str)) or (kind == "int" and not _is_int(v)):
            raise bad()
        if attr:
            kw[attr] = v
    c = CloudConfig(**kw)
    if not c.host or not c.port or not (0 < c.port <= 65535):
        raise bad()
    return c
