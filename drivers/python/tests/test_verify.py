"""Verification outcomes: the same classes the Go reference reports."""

import base64
import datetime as dt
import json

import pytest

import scbkit
from scbkit import Bundle, KeySet, parse_key_set, verify_bundle
from scbkit.errors import BadSignatureError, KeySetError, UnsupportedKeyError
from scbkit.model import MANIFEST_PATH, new_manifest, parse_manifest
from scbkit.signing import is_der_signature, pae, parse_envelope

from conftest import envelope, files_of, gen_key, jwks, signed

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def files(dev_bundles):
    return files_of(dev_bundles["zip"])


@pytest.fixture(scope="module")
def keys():
    return {k: gen_key(k) for k in ("p256", "p384", "ed25519", "rsa3072")}


def remanifest(f):
    f[MANIFEST_PATH] = new_manifest(Bundle(f)).encode()
    return f


def outcome(bundle, trusted=None, **kw):
    return verify_bundle(bundle, trusted, **kw).outcome


def test_pae_matches_dsse_spec():
    assert pae("http://example.com/HelloWorld", b"hello world") == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


@pytest.mark.parametrize("alg", ["p256", "p384", "ed25519", "rsa3072"])
def test_valid_signature_each_algorithm(files, keys, alg):
    k = keys[alg]
    r = verify_bundle(signed(files, k), jwks(k.public_key()))
    assert r.ok and r.outcome == "valid", str(r)
    assert r.result("signature").key_ids == [scbkit.key_id(k.public_key())]


def test_trusted_keys_forms(files, keys, tmp_path):
    k = keys["p256"]
    pem = k.public_key().public_bytes(scbkit.signing.serialization.Encoding.PEM,
                                      scbkit.signing.serialization.PublicFormat.SubjectPublicKeyInfo)
    p = tmp_path / "keys.pem"
    p.write_bytes(pem)
    b = signed(files, k)
    for t in (pem, pem.decode(), str(p), p, KeySet([k.public_key()]), [k.public_key()], json.loads(jwks(k.public_key()))):
        assert outcome(b, t) == "valid"


def test_unsigned_and_no_keys(files, keys):
    b = Bundle(files)
    assert outcome(b, jwks(keys["p256"].public_key())) == "unsigned"
    r = verify_bundle(b)
    assert r.ok and r.result("signature").status == "skip"
    r = verify_bundle(signed(files, keys["p256"]))
    assert r.ok and r.result("signature").status == "warn"
    assert verify_bundle(b, require_signature=True).outcome == "error"


def test_unknown_signer(files, keys):
    assert outcome(signed(files, keys["p256"]), jwks(keys["ed25519"].public_key())) == "unknown_signer"


def test_bad_signature_variants(files, keys):
    k = keys["p256"]
    trust = jwks(k.public_key())
    f = dict(files)
    f["signatures/manifest.dsse.json"] = envelope(f[MANIFEST_PATH], [k], tamper=lambda s: s[:-1] + bytes([s[-1] ^ 1]))
    assert outcome(Bundle(f), trust) in ("bad_signature", "malformed_signature")
    # Manifest changed after signing: the signed payload is not this manifest.
    g = signed(files, k)
    f = dict(g.items())
    f["README.md"] = b"changed"
    remanifest(f)
    assert outcome(Bundle(f), trust) == "bad_signature"
    # Wrong payload type.
    f = dict(files)
    f["signatures/manifest.dsse.json"] = envelope(f[MANIFEST_PATH], [k], payload_type="text/plain")
    assert outcome(Bundle(f), trust) == "bad_signature"
    # Ed25519 signature bit flip
    e = keys["ed25519"]
    f = dict(files)
    f["signatures/manifest.dsse.json"] = envelope(f[MANIFEST_PATH], [e], tamper=lambda s: bytes([s[0] ^ 1]) + s[1:])
    assert outcome(Bundle(f), jwks(e.public_key())) == "bad_signature"


def test_untrusted_signature_ignored_when_a_trusted_one_verifies(files, keys):
    b = signed(files, keys["ed25519"], keys["p256"])
    r = verify_bundle(b, jwks(keys["p256"].public_key()))
    assert r.ok and "1 by unknown keys" in r.result("signature").message


def test_key_validity_window(files, keys):
    k = keys["p256"]
    b = signed(files, k)
    now = dt.datetime.now(UTC)
    past = int((now - dt.timedelta(days=1)).timestamp())
    future = int((now + dt.timedelta(days=1)).timestamp())
    assert outcome(b, jwks(k.public_key(), exp=past)) == "key_outside_validity"
    assert outcome(b, jwks(k.public_key(), nbf=future)) == "key_outside_validity"
    assert outcome(b, jwks(k.public_key(), nbf=past, exp=future)) == "valid"


@pytest.mark.parametrize("mutate", [
    lambda e: b"not json",
    lambda e: json.dumps({**json.loads(e), "extra": 1}).encode(),
    lambda e: json.dumps({**json.loads(e), "signatures": []}).encode(),
    lambda e: json.dumps({**json.loads(e), "payload": "***"}).encode(),
    lambda e: e.replace(b'"keyid": "', b'"keyid": "AB'),
    lambda e: e.replace(b'"payloadType"', b'"payloadType": "x", "payloadType"'),
    lambda e: b"[" * 100000,
])
def test_malformed_envelopes(files, keys, mutate):
    k = keys["p256"]
    f = dict(signed(files, k).items())
    f["signatures/manifest.dsse.json"] = mutate(f["signatures/manifest.dsse.json"])
    assert outcome(Bundle(f), jwks(k.public_key())) == "malformed_signature"


def test_ecdsa_signatures_must_be_strict_der(keys):
    k = keys["p256"]
    sig = k.sign(b"m", scbkit.signing.ec.ECDSA(scbkit.signing.hashes.SHA256()))
    assert is_der_signature(sig)
    assert not is_der_signature(sig + b"\0")
    assert not is_der_signature(b"\x30\x81" + bytes([len(sig) - 2]) + sig[2:])  # non-minimal length
    assert not is_der_signature(bytes(64))


def test_digest_mismatch(files, keys):
    f = dict(files)
    f["README.md"] = b"tampered"
    assert outcome(Bundle(f)) == "digest_mismatch"
    f = dict(files)
    f["extra.txt"] = b"not in the manifest"
    assert outcome(Bundle(f)) == "digest_mismatch"
    f = dict(files)
    f["signatures/other.json"] = b"{}"
    assert outcome(Bundle(f)) == "digest_mismatch"
    # Tampering under a valid signature is still caught: signature passes, manifest fails.
    k = keys["p256"]
    f = dict(signed(files, k).items())
    f["config.json"] = f["config.json"].replace(b"127.0.0.1", b"10.6.6.6")
    r = verify_bundle(Bundle(f), jwks(k.public_key()))
    assert r.outcome == "digest_mismatch" and r.result("signature").status == "pass"


def test_malformed_manifest(files):
    for mutate in (
        lambda m: m.replace(b"  ", b" "),  # not canonical
        lambda m: m.replace(b'"sha256",', b'"md5",', 1),
        lambda m: b"{}",
        lambda m: m.replace(b'"size": ', b'"size": 1.5, "x": ', 1),
    ):
        f = dict(files)
        f[MANIFEST_PATH] = mutate(files[MANIFEST_PATH])
        assert outcome(Bundle(f)) == "malformed_manifest"
    assert parse_manifest(files[MANIFEST_PATH]).encode() == files[MANIFEST_PATH]


def test_incomplete_and_malformed_metadata(files):
    f = dict(files)
    del f["certificates/client-key.pem"]
    assert outcome(Bundle(f)) == "incomplete"
    f = dict(files)
    f["README.md"] = b""
    assert outcome(Bundle(remanifest(f))) == "incomplete"
    f = dict(files)
    del f["cert.pfx"]  # stock-driver files: all or none
    assert outcome(Bundle(remanifest(f))) == "incomplete"
    for bad in (b"{", b"[]", b'{"bundle_version": "2.0"}', b'{"bundle_version": 1}',
                json.dumps({**json.loads(files["metadata.json"]), "expires_at": "yesterday"}).encode()):
        f = dict(files)
        f["metadata.json"] = bad
        assert outcome(Bundle(remanifest(f))) == "malformed_metadata"


def test_expiry_and_not_yet_valid(files):
    b = Bundle(files)
    assert outcome(b, now=dt.datetime(2099, 1, 1, tzinfo=UTC)) == "expired"
    assert outcome(b, now=dt.datetime(2001, 1, 1, tzinfo=UTC)) == "not_yet_valid"
    soon = json.loads(files["metadata.json"])["expires_at"]
    t = scbkit.model.parse_time(soon) - dt.timedelta(days=3)
    r = verify_bundle(b, now=t)
    assert r.ok and r.result("validity").status == "warn"


def test_chain_invalid(files, dev_bundles, scb_bin, tmp_path):
    from conftest import generate

    other = files_of(generate(scb_bin, tmp_path / "o.zip", "--cluster", "x", "--client", "y", home=tmp_path / "h"))
    f = dict(files)
    f["certificates/ca-cert.pem"] = other["certificates/ca-cert.pem"]
    assert outcome(Bundle(remanifest(f))) == "chain_invalid"


def test_inconsistent(files, dev_bundles):
    other = files_of(dev_bundles["tar.gz"])  # same CA, another client key
    for p in ("cert", "key", "ca.crt"):
        f = dict(files)
        f[p] = other[p] if p != "ca.crt" else other["ca.crt"] + other["ca.crt"]
        assert outcome(Bundle(remanifest(f))) == "inconsistent", p
    f = dict(files)
    f["certificates/client-key.pem"] = other["certificates/client-key.pem"]
    assert outcome(Bundle(remanifest(f))) == "inconsistent"


def test_key_set_parsing(keys):
    p = keys["p256"].public_key()
    assert len(parse_key_set(jwks(p, keys["ed25519"].public_key()))) == 2
    bad = [
        b"", b"nonsense", b'{"keys": 1}', b"{}",
        b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}',
        json.dumps({"keys": [{**json.loads(jwks(p))["keys"][0], "d": "secret"}]}).encode(),
        json.dumps({"keys": [{**json.loads(jwks(p))["keys"][0], "kid": "0" * 64}]}).encode(),
        json.dumps({"keys": [{**json.loads(jwks(p))["keys"][0], "use": "enc"}]}).encode(),
        json.dumps({"keys": [{**json.loads(jwks(p))["keys"][0], "exp": 1.5}]}).encode(),
        jwks(p)[:-2] + b', {"kty": "OKP"}]}',
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ]
    for data in bad:
        with pytest.raises(KeySetError):
            parse_key_set(data)
    with pytest.raises(UnsupportedKeyError):
        parse_key_set(json.dumps({"keys": [{"kty": "oct", "k": "x"}]}).encode().replace(b', "k": "x"', b""))
    two = jwks(p)[:-2] + b", " + jwks(p)[10:]
    with pytest.raises(KeySetError):
        parse_key_set(two)  # same key twice


def test_errors_are_typed_and_carry_outcomes(files, keys):
    k = keys["p256"]
    f = dict(signed(files, k).items())
    f["README.md"] = b"x"
    remanifest(f)
    r = verify_bundle(Bundle(f), jwks(k.public_key()))
    e = r.error()
    assert isinstance(e, BadSignatureError) and e.outcome == "bad_signature" and e.check == "signature"
    with pytest.raises(BadSignatureError):
        r.raise_for_failure()


def test_envelope_parse_round_trip(files, keys):
    env = parse_envelope(envelope(files[MANIFEST_PATH], [keys["p256"], keys["ed25519"]]))
    assert env.payload == files[MANIFEST_PATH] and len(env.signatures) == 2
    assert "sig=" not in repr(env) and base64.b64encode(env.signatures[0].sig).decode() not in repr(env)
