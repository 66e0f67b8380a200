"""Shared fixtures: bundles made with the real CLI (scb generate), signing
helpers, and the shared Cassandra test cluster (SCB_TEST_STATE)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

import scbkit
from scbkit import signing

HERE = Path(__file__).resolve().parent


def repo_root() -> Path:
    p = HERE
    while p != p.parent:
        if (p / "go.mod").exists() and (p / "cmd" / "scb").is_dir():
            return p
        p = p.parent
    raise RuntimeError("repository root (go.mod) not found above %s" % HERE)


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def scb_bin(tmp_path_factory) -> str:
    """The scb CLI: $SCB_BIN, or built from this checkout."""
    if os.environ.get("SCB_BIN"):
        return os.environ["SCB_BIN"]
    go = shutil.which("go")
    if not go:
        pytest.fail("the go command is needed to build the scb CLI for the tests (or set SCB_BIN)")
    out = tmp_path_factory.mktemp("bin") / "scb"
    subprocess.run([go, "build", "-o", str(out), "./cmd/scb"], cwd=repo_root(), check=True)
    return str(out)


def generate(scb_bin: str, out: Path, *args: str, home: Optional[Path] = None, fmt: str = "zip") -> Path:
    env = dict(os.environ)
    if home is not None:
        env["SCB_HOME"] = str(home)
    env.pop("SCB_CA_PASSPHRASE", None)
    # Unsigned: the tests sign bundles themselves, with independent signers.
    cmd = [scb_bin, "generate", "--format", fmt, "--out", str(out), "--force", "--no-sign", *args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("scb generate failed (%d): %s" % (p.returncode, p.stderr))
    return out


@pytest.fixture(scope="session")
def dev_bundles(scb_bin, tmp_path_factory) -> Dict[str, Path]:
    """One development bundle (new CA in a private SCB_HOME) in each format."""
    d = tmp_path_factory.mktemp("bundles")
    home = d / "home"
    zip_path = generate(scb_bin, d / "b.zip", "--cluster", "unit", "--client", "pytest", home=home)
    # Same CA, new client certificates: each format is a separate bundle.
    tgz = generate(scb_bin, d / "b.tar.gz", "--cluster", "unit", "--client", "pytest", home=home, fmt="tar.gz")
    dirb = generate(scb_bin, d / "b.dir", "--cluster", "unit", "--client", "pytest", home=home, fmt="dir")
    return {"zip": zip_path, "tar.gz": tgz, "dir": dirb, "home": home}


# --- signing (test side: an independent signer built on cryptography) ----------


def gen_key(kind: str):
    return {
        "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "rsa3072": lambda: rsa.generate_private_key(65537, 3072),
    }[kind]()


def raw_sign(key, msg: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        h = hashes.SHA256() if key.curve.key_size == 256 else hashes.SHA384()
        return key.sign(msg, ec.ECDSA(h))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(msg)
    return key.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


def envelope(manifest: bytes, keys, payload_type: str = signing.PAYLOAD_TYPE_MANIFEST, tamper=None) -> bytes:
    msg = signing.pae(payload_type, manifest)
    sigs = []
    for k in keys:
        s = raw_sign(k, msg)
        if tamper:
            s = tamper(s)
        sigs.append({"keyid": signing.key_id(k.public_key()), "sig": base64.b64encode(s).decode()})
    env = {"payloadType": payload_type, "payload": base64.b64encode(manifest).decode(), "signatures": sigs}
    return (json.dumps(env, indent=2) + "\n").encode()


def jwks(*pubs, nbf=None, exp=None) -> bytes:
    keys = []
    for pub in pubs:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            n = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            k = {"kty": "EC", "crv": "P-256" if size == 32 else "P-384",
                 "x": b64u(n.x.to_bytes(size, "big")), "y": b64u(n.y.to_bytes(size, "big"))}
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            k = {"kty": "OKP", "crv": "Ed25519", "x": b64u(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))}
        else:
            n = pub.public_numbers()
            k = {"kty": "RSA", "n": b64u(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")), "e": b64u(n.e.to_bytes(3, "big"))}
        k["kid"] = signing.key_id(pub)
        if nbf is not None:
            k["nbf"] = nbf
        if exp is not None:
            k["exp"] = exp
        keys.append(k)
    return json.dumps({"keys": keys}).encode()


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def files_of(path) -> Dict[str, bytes]:
    b = scbkit.read_bundle(path)
    return dict(b.items())


def signed(files: Dict[str, bytes], *keys) -> scbkit.Bundle:
    f = dict(files)
    f["signatures/manifest.dsse.json"] = envelope(f["manifest.json"], keys)
    return scbkit.Bundle(f)


# --- the shared test cluster ---------------------------------------------------


@pytest.fixture(scope="session")
def cluster_state() -> dict:
    path = os.environ.get("SCB_TEST_STATE")
    if not path:
        msg = "no test cluster: SCB_TEST_STATE is not set (scripts/test.sh or scripts/testcluster.sh start sets it)"
        if in_ci() or os.environ.get("SCB_REQUIRE_CLUSTER") == "1":
            pytest.fail(msg + "; CI is set, so integration tests must not be skipped")
        pytest.skip(msg)
    with open(path) as f:
        return json.load(f)


class TestCA:
    """The cluster's test CA (root) plus an intermediate made here, laid out
    as an scb CA directory so that 'scb generate --dir' issues client
    certificates the nodes accept."""

    def __init__(self, state: dict, d: Path):
        self.root_pem = Path(state["ca_cert"]).read_bytes()
        self.root_key_pem = Path(state["ca_key"]).read_bytes()
        self.root = x509.load_pem_x509_certificate(self.root_pem)
        self.root_key = serialization.load_pem_private_key(self.root_key_pem, None)
        self.dir = d
        d.mkdir(mode=0o700)
        now = dt.datetime.now(dt.timezone.utc)
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.inter = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "scbkit test"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "scbkit pytest intermediate")]))
            .issuer_name(self.root.subject)
            .public_key(self.inter_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(self.root.not_valid_after_utc)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.inter_key.public_key()), critical=False)
            .add_extension(self._aki(), critical=False)
            .sign(self.root_key, hashes.SHA256())
        )
        pk8 = dict(encoding=serialization.Encoding.PEM, format=serialization.PrivateFormat.PKCS8,
                   encryption_algorithm=serialization.NoEncryption())
        files = {
            "root-cert.pem": self.root_pem,
            "root-key.pem": self.root_key_pem,
            "intermediate-cert.pem": self.inter.public_bytes(serialization.Encoding.PEM),
            "intermediate-key.pem": self.inter_key.private_bytes(**pk8),
            "ca.json": json.dumps({"version": 1, "key_type": "ecdsa-p256", "encrypted": False,
                                   "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode(),
        }
        for name, data in files.items():
            fd = os.open(d / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

    def _aki(self) -> x509.AuthorityKeyIdentifier:
        # The root's own SKI, whatever method made it, so path builders match.
        try:
            ski = self.root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            return x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key())

    def issue_server(self, out: Path, dns=("localhost",), ips=("127.0.0.1",)):
        """A server certificate from the root for the gateway; returns (cert, key) paths."""
        import ipaddress

        now = dt.datetime.now(dt.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        san = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
            .issuer_name(self.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(self.root.not_valid_after_utc)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(self._aki(), critical=False)
            .sign(self.root_key, hashes.SHA256())
        )
        out.mkdir(mode=0o700, exist_ok=True)
        cp, kp = out / "server-cert.pem", out / "server-key.pem"
        cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return cp, kp


@pytest.fixture(scope="session")
def test_ca(cluster_state, tmp_path_factory) -> TestCA:
    return TestCA(cluster_state, tmp_path_factory.mktemp("ca") / "ca")


@pytest.fixture(scope="session")
def primary(cluster_state) -> dict:
    c = cluster_state["clusters"][0]
    n = c["nodes"][0]
    return {"name": c["name"], "host": n["address"], "port": n["native_port"], "dc": n["dc"],
            "username": cluster_state["username"], "password": cluster_state["password"]}
