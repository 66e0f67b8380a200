"""The shared vector corpus (spec/vectors/vectors.json): every vector must
reach its expected outcome, first failing check and signers."""

import json
import os
from pathlib import Path

import pytest

import scbkit
from scbkit.model import parse_time

from conftest import repo_root


def vectors_dir() -> Path:
    return Path(os.environ.get("SCB_VECTORS_DIR") or repo_root() / "spec" / "vectors")


def load_index():
    p = vectors_dir() / "vectors.json"
    if not p.exists():
        return None
    return json.loads(p.read_text())


INDEX = load_index()
VECTORS = INDEX["vectors"] if INDEX else []


def test_corpus_present():
    """The corpus must be there: a missing vectors.json is a failure, not a skip."""
    assert INDEX is not None, "spec/vectors/vectors.json not found under %s" % vectors_dir()
    assert INDEX["format"] == "scbkit-test-vectors/1"
    assert len(VECTORS) >= 20
    algs = {k["alg"] for k in INDEX["keys"]}
    assert {"ES256", "EdDSA"} <= algs


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(v):
    d = vectors_dir()
    lim = v.get("limits") or INDEX["defaults"]["limits"]
    limits = scbkit.Limits(lim["max_files"], lim["max_file_size"], lim["max_total_size"])
    keys = scbkit.parse_key_set((d / v["trusted_keys"]).read_bytes()) if v.get("trusted_keys") else None
    sig = (d / v["detached_signature"]).read_bytes() if v.get("detached_signature") else None
    r = scbkit.verify_path(d / v["file"], keys, limits=limits, detached_signature=sig,
                           now=parse_time(v["verify_at"]), threshold=v.get("threshold") or 1)
    exp = v["expect"]
    first = r.first_failure()
    assert (r.outcome, first.check if first else None) == (exp["outcome"], exp["check"]), "%s\n%s" % (v["description"], r)
    if exp.get("signers"):
        assert r.result("signature").key_ids == exp["signers"]
    if exp["outcome"] != "valid":
        e = r.error()
        assert isinstance(e, scbkit.ScbError) and e.outcome == exp["outcome"]


def test_key_ids_match_the_corpus():
    d = vectors_dir()
    for k in INDEX["keys"]:
        ks = scbkit.parse_key_set((d / k["public_pem"]).read_bytes())
        assert ks.key_ids() == [k["keyid"]], k["name"]


def test_signing_with_corpus_private_keys_round_trips():
    """The published test-only private keys sign a bundle this loader accepts."""
    from cryptography.hazmat.primitives import serialization

    from conftest import envelope, files_of

    d = vectors_dir()
    files = files_of(d / "bundles" / "unsigned.zip")
    at = parse_time("2025-06-01T00:00:00Z")
    for k in INDEX["keys"]:
        if not k.get("private_pem_test_only") or k["name"] not in ("signer-p256", "signer-ed25519"):
            continue
        priv = serialization.load_pem_private_key((d / k["private_pem_test_only"]).read_bytes(), None)
        f = dict(files)
        f["signatures/manifest.dsse.json"] = envelope(f["manifest.json"], [priv])
        r = scbkit.verify_bundle(scbkit.Bundle(f), (d / "keys" / "trusted.jwks.json").read_bytes(), now=at)
        assert r.outcome == "valid" and r.result("signature").key_ids == [k["keyid"]], str(r)
