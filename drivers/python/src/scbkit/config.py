"""Load a bundle into what the Python cassandra-driver needs."""

from __future__ import annotations

import os
import ssl
import sys
import tempfile
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import model
from .archive import Bundle, Limits, read_bundle
from .errors import PassphraseError, ScbError, UnsupportedFormatError
from .verify import Report, verify_bundle

__all__ = ["ScbConfig", "load_scb_config", "ENV_USERNAME", "ENV_PASSWORD"]

ENV_USERNAME = "SCB_USERNAME"
ENV_PASSWORD = "SCB_PASSWORD"

PathLike = Union[str, "os.PathLike[str]"]


class ScbConfig:
    """A loaded, verified bundle.

    Attributes:
      username, password: credentials (see :func:`load_scb_config`); the
        password never appears in ``repr``.
      contact_points: node hosts; ``port`` their common CQL port (None if
        they differ); ``endpoints`` the (host, port) pairs.
      local_dc: the client's local datacenter.
      metadata: metadata.json (:class:`scbkit.model.Metadata`).
      client_config: config/cassandra.yaml (:class:`scbkit.model.ClientConfig`).
      cloud: config.json (:class:`scbkit.model.CloudConfig`) or None.
      report: the verification report of the load.
      hostname_verification, server_name: from config/cassandra.yaml.
    """

    def __init__(self, path: str, bundle: Bundle, report: Report, *, username: Optional[str],
                 password: Optional[str], key_passphrase: Optional[bytes]):
        self.path = path
        self._bundle = bundle
        self.report = report
        self.metadata = model.parse_metadata(bundle.get(model.METADATA_PATH) or b"")
        self.client_config = model.parse_client_config(bundle.get(model.CLIENT_YAML_PATH) or b"")
        cc = bundle.get(model.CLOUD_CONFIG_PATH)
        self.cloud = model.parse_cloud_config(cc) if cc else None
        self.endpoints: List[Tuple[str, int]] = [model.split_host_port(cp) for cp in self.client_config.contact_points]
        self.contact_points: List[str] = [h for h, _ in self.endpoints]
        ports = {p for _, p in self.endpoints}
        self.port: Optional[int] = ports.pop() if len(ports) == 1 else None
        self.local_dc = self.client_config.local_datacenter
        self.hostname_verification = self.client_config.hostname_verification
        self.server_name = self.client_config.server_name or None
        self.username = username
        self._password = password
        self._key_passphrase = key_passphrase
        self._ssl_context: Optional[ssl.SSLContext] = None

    @property
    def password(self) -> Optional[str]:
        return self._password

    def __repr__(self) -> str:
        return "ScbConfig(cluster=%r, client=%r, contact_points=%r, local_dc=%r, username=%r, password=%s)" % (
            self.metadata.cluster_name, self.metadata.client_id, self.contact_points, self.local_dc,
            self.username, "<redacted>" if self._password else None)

    __str__ = __repr__

    @property
    def format(self) -> str:
        """zip, tar.gz or dir."""
        return self._bundle.format

    @property
    def expires_at(self) -> datetime:
        return self.metadata.expires_at

    # -- direct mode ---------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """A client SSLContext: trusts certificates/ca-cert.pem only (never the
        system roots), presents the client certificate chain and key,
        requires TLS 1.2 (or the bundle's minimum) and checks the node's
        host name unless the bundle was generated without it (tests only).
        Built once, on first use."""
        if self._ssl_context is None:
            self._ssl_context = self._build_ssl_context()
        return self._ssl_context

    @property
    def ssl_options(self) -> Optional[Dict[str, Any]]:
        """``Cluster(ssl_options=...)``: the server name to check when the
        bundle names one, else None."""
        return {"server_hostname": self.server_name} if self.server_name else None

    def _build_ssl_context(self) -> ssl.SSLContext:
        b = self._bundle
        cfg = self.client_config
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if cfg.min_tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.load_verify_locations(cadata=(b.get(cfg.ca_cert) or b"").decode("ascii"))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.check_hostname = bool(cfg.hostname_verification)
        cert = b.get(cfg.client_cert) or b""
        key = b.get(cfg.client_key) or b""
        encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in key
        if encrypted and not self._key_passphrase:
            raise PassphraseError("the client key is encrypted: pass key_passphrase", path=cfg.client_key)
        load_cert_chain_from_memory(ctx, cert, key, self._key_passphrase if encrypted else None)
        return ctx

    def auth_provider(self) -> Any:
        """A PlainTextAuthProvider for the credentials (needs cassandra-driver)."""
        from cassandra.auth import PlainTextAuthProvider

        if not self.username or self._password is None:
            raise ScbError("no credentials: pass username/password or set %s/%s" % (ENV_USERNAME, ENV_PASSWORD))
        return PlainTextAuthProvider(username=self.username, password=self._password)

    def cluster_kwargs(self, **overrides: Any) -> Dict[str, Any]:
        """Keyword arguments for ``cassandra.cluster.Cluster`` in direct mode:
        the endpoints, ssl_context (and ssl_options), a default execution
        profile with token-aware, DC-aware load balancing for local_dc and
        the bundle's request timeout, and the auth provider when credentials
        are known. ``overrides`` win."""
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

        profile = ExecutionProfile(load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=self.local_dc)))
        timeout = _seconds(self.client_config.connection.get("request_timeout"))
        if timeout:
            profile.request_timeout = timeout
        kw: Dict[str, Any] = {
            "contact_points": list(self.endpoints),
            "ssl_context": self.ssl_context,
            "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
        }
        connect = _seconds(self.client_config.connection.get("connect_timeout"))
        if connect:
            kw["connect_timeout"] = connect
        if self.ssl_options:
            kw["ssl_options"] = self.ssl_options
        if self.username and self._password is not None:
            kw["auth_provider"] = self.auth_provider()
        kw.update(overrides)
        return kw

    # -- bundle ("cloud") mode -----------------------------------------------

    @property
    def cloud_config(self) -> Dict[str, Any]:
        """``Cluster(cloud=...)`` for the stock driver's secure-connect-bundle
        mode through the scbkit gateway. Only a zip bundle with the
        stock-driver files can be used this way."""
        if self._bundle.format != "zip":
            raise UnsupportedFormatError("the driver's bundle mode reads zip bundles only; this one is %s" % self._bundle.format)
        if self.cloud is None:
            raise UnsupportedFormatError("the bundle has no config.json: it was generated without the stock-driver files")
        return {"secure_connect_bundle": os.path.abspath(self.path)}

    # -- verification --------------------------------------------------------

    def verify(self, trusted_keys: Any, *, now: Optional[datetime] = None, threshold: int = 1) -> Report:
        """Verify the loaded bundle against trusted keys (required): manifest,
        DSSE signature, certificate chain, expiry, consistency. Raises the
        first failure as a typed :class:`scbkit.ScbError`; returns the
        report when everything passed."""
        if trusted_keys is None:
            raise ValueError("trusted_keys is required")
        return verify_bundle(self._bundle, trusted_keys, now=now, threshold=threshold, require_signature=True,
                             key_passphrase=self._key_passphrase).raise_for_failure()


def _seconds(v: Any) -> Optional[float]:
    """A Go duration such as "5s", "1m30s" or "500ms" in seconds; None if absent or odd."""
    import re

    if not isinstance(v, str) or not v:
        return None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"([0-9]+(?:\.[0-9]*)?)(h|ms|us|µs|ns|m|s)", v)
    if not parts or "".join(n + u for n, u in parts) != v:
        return None
    return sum(float(n) * units[u] for n, u in parts)


def load_cert_chain_from_memory(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes,
                                password: Optional[bytes] = None, *, _force_tempdir: bool = False) -> None:
    """``ctx.load_cert_chain`` without leaving key material on disk.

    Python's ssl module reads certificate chains and keys from files only.
    On Linux the PEM is handed over through anonymous pipes (/dev/fd/N):
    nothing touches a file system. Elsewhere (or if a pipe cannot be used)
    it is written to a fresh private directory from tempfile.mkdtemp (mode
    0700, unpredictable name) as files created with O_EXCL and mode 0600,
    loaded, and removed at once, whatever happens."""
    if not _force_tempdir and sys.platform.startswith("linux") and os.path.isdir("/dev/fd"):
        if max(len(cert_pem), len(key_pem)) < 60000:
            try:
                _load_via_pipes(ctx, cert_pem, key_pem, password)
                return
            except OSError:
                pass
    d = tempfile.mkdtemp(prefix="scbkit-")
    cert_path, key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    try:
        for p, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        ctx.load_cert_chain(cert_path, key_path, password)
    finally:
        for p in (key_path, cert_path):
            try:
                os.remove(p)
            except FileNotFoundError:
                pass
        os.rmdir(d)


def _load_via_pipes(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes, password: Optional[bytes]) -> None:
    fds: List[int] = []
    try:
        paths = []
        for data in (cert_pem, key_pem):
            r, w = os.pipe()
            fds += [r, w]
            os.write(w, data)  # below the pipe buffer size: never blocks
            os.close(w)
            fds.remove(w)
            paths.append("/dev/fd/%d" % r)
        ctx.load_cert_chain(paths[0], paths[1], password)
    finally:
        for fd in fds:
            os.close(fd)


def load_scb_config(path: PathLike, *, trusted_keys: Any = None, username: Optional[str] = None,
                    password: Optional[str] = None, key_passphrase: Optional[Union[bytes, str]] = None,
                    now: Optional[datetime] = None, limits: Optional[Limits] = None,
                    require_signature: bool = False, environ: Optional[Mapping[str, str]] = None) -> ScbConfig:
    """Open and verify a bundle (zip, tar.gz or directory) and return an :class:`ScbConfig`.

    The bundle is read into memory with safe, bounded readers (nothing is
    extracted) and verified: completeness, manifest digests, the signature
    when ``trusted_keys`` are given (then it is required; also with
    ``require_signature``), certificate chain, expiry and consistency. The
    first failure is raised as a typed :class:`scbkit.ScbError` whose
    ``outcome`` names it.

    Credentials, first found wins: ``username``/``password`` arguments;
    username/password in the bundle's config.json (present only when the
    bundle was generated with them); the environment variables SCB_USERNAME
    and SCB_PASSWORD (from ``environ``, default ``os.environ``); the
    username in config/cassandra.yaml (without a password).
    """
    path = os.fspath(path)
    bundle = read_bundle(path, limits)
    if isinstance(key_passphrase, str):
        key_passphrase = key_passphrase.encode("utf-8")
    report = verify_bundle(bundle, trusted_keys, now=now, require_signature=require_signature,
                           key_passphrase=key_passphrase)
    report.raise_for_failure()
    env = os.environ if environ is None else environ
    cc_data = bundle.get(model.CLOUD_CONFIG_PATH)
    cc = model.parse_cloud_config(cc_data) if cc_data else None
    cfg = model.parse_client_config(bundle.get(model.CLIENT_YAML_PATH) or b"")
    user, pw = username, password
    if user is None and pw is None and cc is not None and cc.username and cc.password is not None:
        user, pw = cc.username, cc.password
    if user is None and pw is None and env.get(ENV_USERNAME):
        user, pw = env.get(ENV_USERNAME), env.get(ENV_PASSWORD)
    if user is None:
        user = cfg.username or None
    return ScbConfig(path, bundle, report, username=user, password=pw, key_passphrase=key_passphrase)
