"""scbkit: load and verify scbkit secure connection bundles in Python.

    import scbkit
    from cassandra.cluster import Cluster

    cfg = scbkit.load_scb_config("orders-billing-scb.zip", trusted_keys="trusted-keys.jwks.json")

    # Direct mutual TLS to the nodes:
    cluster = Cluster(**cfg.cluster_kwargs())

    # Or the stock driver's bundle mode, through the scbkit gateway:
    cluster = Cluster(cloud=cfg.cloud_config, auth_provider=cfg.auth_provider())

See README.md for details. Errors are typed (:mod:`scbkit.errors`); each
has an ``outcome`` shared with the other scbkit loaders.
"""

from .archive import Bundle, Limits, check_path, decode_bundle, read_bundle
from .config import ENV_PASSWORD, ENV_USERNAME, ScbConfig, load_scb_config
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all
from .signing import KeySet, TrustedKey, key_id, parse_key_set
from .verify import CheckResult, Report, verify_bundle, verify_path

__version__ = "0.1.0"


def verify(path_or_bundle, trusted_keys=None, **kw) -> Report:
    """Verify a bundle file, directory or in-memory Bundle; return the Report
    (``report.ok``, ``report.outcome``; ``report.raise_for_failure()``)."""
    if isinstance(path_or_bundle, Bundle):
        return verify_bundle(path_or_bundle, trusted_keys, **kw)
    return verify_path(path_or_bundle, trusted_keys, **kw)


__all__ = [
    "load_scb_config", "ScbConfig", "verify", "verify_bundle", "verify_path", "Report", "CheckResult",
    "read_bundle", "decode_bundle", "Bundle", "Limits", "check_path",
    "KeySet", "TrustedKey", "parse_key_set", "key_id", "ENV_USERNAME", "ENV_PASSWORD",
] + list(_errors_all)
