"""load_scb_config: credentials, TLS context, bundle mode, secrets."""

import json
import os
import ssl
import tempfile

import pytest

import scbkit
from scbkit import load_scb_config
from scbkit.config import load_cert_chain_from_memory
from scbkit.errors import DigestMismatchError, PassphraseError, UnsupportedFormatError

from conftest import files_of, gen_key, generate, jwks, signed


def test_load_all_formats(dev_bundles):
    for fmt in ("zip", "tar.gz", "dir"):
        cfg = load_scb_config(dev_bundles[fmt], environ={})
        assert cfg.format == fmt
        assert cfg.contact_points == ["127.0.0.1"] and cfg.port == 9042 and cfg.endpoints == [("127.0.0.1", 9042)]
        assert cfg.local_dc == "datacenter1"
        assert cfg.metadata.cluster_name == "unit" and cfg.metadata.client_id == "pytest"
        ctx = cfg.ssl_context
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
        assert len(ctx.get_ca_certs()) == 1  # the bundle CA only, never system roots
        assert cfg.report.ok


def test_cloud_config_zip_only(dev_bundles):
    cfg = load_scb_config(dev_bundles["zip"], environ={})
    assert cfg.cloud_config == {"secure_connect_bundle": os.path.abspath(dev_bundles["zip"])}
    for fmt in ("tar.gz", "dir"):
        with pytest.raises(UnsupportedFormatError):
            load_scb_config(dev_bundles[fmt], environ={}).cloud_config


def test_credentials_precedence(dev_bundles):
    p = dev_bundles["zip"]
    cfg = load_scb_config(p, environ={"SCB_USERNAME": "envuser", "SCB_PASSWORD": "envpass"})
    assert (cfg.username, cfg.password) == ("envuser", "envpass")
    cfg = load_scb_config(p, username="arg", password="argpass", environ={"SCB_USERNAME": "envuser", "SCB_PASSWORD": "x"})
    assert (cfg.username, cfg.password) == ("arg", "argpass")
    cfg = load_scb_config(p, environ={})
    assert cfg.password is None
    with pytest.raises(scbkit.ScbError):
        cfg.auth_provider()


def test_credentials_from_config_json(dev_bundles, tmp_path):
    f = files_of(dev_bundles["zip"])
    cc = json.loads(f["config.json"])
    cc.update(username="bundleuser", password="bundlepass")
    f["config.json"] = (json.dumps(cc, indent=2) + "\n").encode()
    f["manifest.json"] = scbkit.model.new_manifest(scbkit.Bundle(f)).encode()
    d = tmp_path / "withcreds"
    for path, data in f.items():
        (d / path).parent.mkdir(parents=True, exist_ok=True)
        (d / path).write_bytes(data)
    cfg = load_scb_config(d, environ={"SCB_USERNAME": "envuser", "SCB_PASSWORD": "envpass"})
    assert (cfg.username, cfg.password) == ("bundleuser", "bundlepass")


def test_secrets_never_printed(dev_bundles):
    cfg = load_scb_config(dev_bundles["zip"], username="u", password="s3cr3t-pw", environ={})
    for text in (repr(cfg), str(cfg), repr(cfg.cloud), str(cfg.report)):
        assert "s3cr3t-pw" not in text and "PRIVATE KEY" not in text
    cc = json.loads(files_of(dev_bundles["zip"])["config.json"])
    assert cc["keyStorePassword"] not in repr(cfg.cloud)


def test_tampered_bundle_is_refused(dev_bundles, tmp_path):
    d = tmp_path / "t"
    for path, data in files_of(dev_bundles["zip"]).items():
        (d / path).parent.mkdir(parents=True, exist_ok=True)
        (d / path).write_bytes(data)
    (d / "config" / "cassandra.yaml").write_text((d / "config" / "cassandra.yaml").read_text().replace("127.0.0.1", "10.9.9.9"))
    with pytest.raises(DigestMismatchError):
        load_scb_config(d, environ={})


def test_trusted_keys_on_load_and_verify_method(dev_bundles, tmp_path):
    k = gen_key("p256")
    b = signed(files_of(dev_bundles["zip"]), k)
    d = tmp_path / "signed"
    for path, data in b.items():
        (d / path).parent.mkdir(parents=True, exist_ok=True)
        (d / path).write_bytes(data)
    trust = jwks(k.public_key())
    cfg = load_scb_config(d, trusted_keys=trust, environ={})
    assert cfg.verify(trust).ok
    with pytest.raises(scbkit.UnknownSignerError):
        cfg.verify(jwks(gen_key("ed25519").public_key()))
    with pytest.raises(scbkit.UnsignedError):
        load_scb_config(dev_bundles["zip"], trusted_keys=trust, environ={})


def test_encrypted_key_needs_passphrase(scb_bin, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery staple")
    p = generate(scb_bin, tmp_path / "enc.zip", "--cluster", "unit", "--client", "enc",
                 "--key-passphrase-file", str(pw), home=tmp_path / "h")
    cfg = load_scb_config(p, environ={})
    with pytest.raises(PassphraseError):
        cfg.ssl_context
    cfg = load_scb_config(p, key_passphrase="correct horse battery staple", environ={})
    assert cfg.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert cfg.report.result("consistency").status == "pass"


def test_tempdir_fallback_leaves_nothing(dev_bundles, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    f = files_of(dev_bundles["zip"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    made = []
    real_mkdtemp = tempfile.mkdtemp

    def spy(*a, **kw):
        d = real_mkdtemp(*a, **kw)
        made.append((d, os.stat(d).st_mode & 0o777))
        return d

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    load_cert_chain_from_memory(ctx, f["certificates/client-cert.pem"], f["certificates/client-key.pem"], _force_tempdir=True)
    assert made and made[0][1] == 0o700
    assert list(tmp_path.iterdir()) == []
    # A failing load cleans up too.
    with pytest.raises(ssl.SSLError):
        load_cert_chain_from_memory(ctx, f["certificates/client-cert.pem"], b"garbage", _force_tempdir=True)
    assert list(tmp_path.iterdir()) == []


def test_cluster_kwargs(dev_bundles):
    pytest.importorskip("cassandra")
    cfg = load_scb_config(dev_bundles["zip"], username="u", password="p", environ={})
    kw = cfg.cluster_kwargs()
    assert kw["contact_points"] == [("127.0.0.1", 9042)] and kw["ssl_context"] is cfg.ssl_context
    assert kw["auth_provider"].username == "u"
    assert cfg.cluster_kwargs(connect_timeout=3)["connect_timeout"] == 3
    assert kw["connect_timeout"] == 5.0  # the bundle's connect_timeout: 5s
    from cassandra.cluster import EXEC_PROFILE_DEFAULT

    assert kw["execution_profiles"][EXEC_PROFILE_DEFAULT].request_timeout == 12.0
