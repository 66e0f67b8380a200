"""Hostile archives: every rejection carries its documented error type, and
nothing is ever written to disk while reading."""

import io
import os
import stat
import tarfile
import warnings
import zipfile
import zlib

import pytest

import scbkit
from scbkit import Limits, check_path, decode_bundle, read_bundle
from scbkit.errors import (
    MalformedArchiveError,
    TooLargeError,
    UnsafePathError,
    UnsupportedEntryError,
)


def make_zip(entries, method=zipfile.ZIP_DEFLATED):
    """entries: (name, data) or (ZipInfo, data)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are on purpose
        with zipfile.ZipFile(buf, "w", method) as z:
            for name, data in entries:
                z.writestr(name, data)
    return buf.getvalue()


def zinfo(name, mode):
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3
    zi.external_attr = mode << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def make_tgz(members):
    """members: (TarInfo, data or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as t:
        for ti, data in members:
            if data is not None:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    return buf.getvalue()


def tinfo(name, typ=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


@pytest.mark.parametrize("name", [
    "../evil", "a/../../evil", "/etc/passwd", "a\\b", "C:/x", "a//b", "./a", "a/./b", "a/", "",
    "a\x00b", "tab\there", "x" * 600,
])
def test_check_path_rejects(name):
    with pytest.raises(UnsafePathError):
        check_path(name)


@pytest.mark.parametrize("name", ["metadata.json", "config/cassandra.yaml", ".hidden", "a..b", "ünïcode"])
def test_check_path_accepts(name):
    check_path(name)


@pytest.mark.parametrize("name", ["../evil.txt", "/abs.txt", "a/../../b", "dir\\file"])
def test_zip_unsafe_paths(name):
    with pytest.raises(UnsafePathError) as e:
        decode_bundle(make_zip([("ok.txt", b"1"), (name, b"2")]))
    assert e.value.outcome == "unsafe_path"


def test_zip_symlink_rejected():
    data = make_zip([(zinfo("link", stat.S_IFLNK | 0o777), b"/etc/passwd")])
    with pytest.raises(UnsupportedEntryError) as e:
        decode_bundle(data)
    assert e.value.outcome == "unsupported_entry"


@pytest.mark.parametrize("kind", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_zip_special_files_rejected(kind):
    with pytest.raises(UnsupportedEntryError):
        decode_bundle(make_zip([(zinfo("special", kind | 0o600), b"")]))


def test_zip_directory_entries_skipped_but_checked():
    b = decode_bundle(make_zip([(zinfo("certificates/", stat.S_IFDIR | 0o700), b""), ("certificates/a", b"x")]))
    assert b.paths() == ["certificates/a"]
    with pytest.raises(UnsafePathError):
        decode_bundle(make_zip([(zinfo("../up/", stat.S_IFDIR | 0o700), b"")]))


def test_zip_duplicates_rejected():
    with pytest.raises(MalformedArchiveError) as e:
        decode_bundle(make_zip([("a", b"1"), ("a", b"2")]))
    assert e.value.outcome == "malformed_archive"


def test_zip_limits():
    with pytest.raises(TooLargeError):
        decode_bundle(make_zip([("a", b"x" * 2000)]), Limits(max_file_size=1000))
    with pytest.raises(TooLargeError):
        decode_bundle(make_zip([("a", b"x" * 600), ("b", b"y" * 600)]), Limits(max_total_size=1000))
    with pytest.raises(TooLargeError):
        decode_bundle(make_zip([("f%d" % i, b"") for i in range(5)]), Limits(max_files=4))


def test_zip_bomb_bounded_by_actual_output():
    # Central directory claims 10 bytes; the deflate stream expands to 50 MB.
    big = b"\0" * (50 << 20)
    data = bytearray(make_zip([("bomb", big)]))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # uncompressed size
    with pytest.raises((TooLargeError, MalformedArchiveError)):
        decode_bundle(bytes(data), Limits(max_file_size=1 << 20))


def test_zip_crc_and_truncation():
    data = bytearray(make_zip([("a.txt", b"hello world" * 10)], method=zipfile.ZIP_STORED))
    i = data.find(b"hello")
    data[i] ^= 1
    with pytest.raises(MalformedArchiveError):
        decode_bundle(bytes(data))
    good = make_zip([("a.txt", b"hello")])
    with pytest.raises(MalformedArchiveError):
        decode_bundle(good[: len(good) // 2])
    with pytest.raises(MalformedArchiveError):
        decode_bundle(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(MalformedArchiveError):
        decode_bundle(b"not an archive at all")


def test_zip_stored_and_deflated_read():
    for m in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        b = decode_bundle(make_zip([("a", b"alpha"), ("d/b", b"beta" * 100)], method=m))
        assert b.get("a") == b"alpha" and b.get("d/b") == b"beta" * 100 and b.format == "zip"


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/../../b"])
def test_tar_unsafe_paths(name):
    with pytest.raises(UnsafePathError):
        decode_bundle(make_tgz([(tinfo(name), b"x")]))


@pytest.mark.parametrize("typ", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_links_and_devices_rejected(typ):
    with pytest.raises(UnsupportedEntryError):
        decode_bundle(make_tgz([(tinfo("x", typ, linkname="/etc/passwd"), None)]))


def test_tar_duplicates_limits_and_trailing_data():
    with pytest.raises(MalformedArchiveError):
        decode_bundle(make_tgz([(tinfo("a"), b"1"), (tinfo("a"), b"2")]))
    with pytest.raises(TooLargeError):
        decode_bundle(make_tgz([(tinfo("a"), b"x" * 5000)]), Limits(max_file_size=4096))
    raw = zlib.decompress(make_tgz([(tinfo("a"), b"1")]), 31)
    import gzip

    with pytest.raises(MalformedArchiveError):
        decode_bundle(gzip.compress(raw + b"garbage"))
    with pytest.raises(MalformedArchiveError):
        decode_bundle(make_tgz([(tinfo("a"), b"1")])[:-10])


def test_tar_long_names_via_pax():
    long = "d/" + "n" * 200
    b = decode_bundle(make_tgz([(tinfo("d", tarfile.DIRTYPE), None), (tinfo(long), b"z")]))
    assert b.get(long) == b"z"


def test_directory_rejects_links_and_special_files(tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    (d / "a.txt").write_bytes(b"1")
    os.symlink("a.txt", d / "link")
    with pytest.raises(UnsupportedEntryError):
        read_bundle(d)
    os.remove(d / "link")
    os.mkfifo(d / "fifo")
    with pytest.raises(UnsupportedEntryError):
        read_bundle(d)
    os.remove(d / "fifo")
    (d / "sub").mkdir()
    (d / "sub" / "b.txt").write_bytes(b"2")
    b = read_bundle(d)
    assert b.paths() == ["a.txt", "sub/b.txt"] and b.format == "dir"
    with pytest.raises(TooLargeError):
        read_bundle(d, Limits(max_files=1))


def test_archive_too_large_before_reading(tmp_path):
    p = tmp_path / "big.zip"
    with open(p, "wb") as f:
        f.truncate(3 << 20)
    with pytest.raises(TooLargeError):
        read_bundle(p, Limits(max_total_size=1 << 20))


def test_reading_writes_nothing(dev_bundles, tmp_path, monkeypatch):
    """Loading a bundle creates no file anywhere we can watch (temp dir, cwd)."""
    import tempfile

    watch = tmp_path / "watch"
    watch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(watch))
    monkeypatch.chdir(watch)
    for fmt in ("zip", "tar.gz", "dir"):
        cfg = scbkit.load_scb_config(dev_bundles[fmt], environ={})
        cfg.ssl_context  # builds the TLS context (client key loaded through a pipe)
    assert list(watch.iterdir()) == []


def test_real_bundles_all_formats(dev_bundles):
    zf = read_bundle(dev_bundles["zip"])
    assert zf.format == "zip" and "manifest.json" in zf and "certificates/client-key.pem" in zf
    assert "bytes" not in repr(zf) and "PRIVATE" not in repr(zf)
    for fmt in ("tar.gz", "dir"):
        b = read_bundle(dev_bundles[fmt])
        assert b.format == fmt and set(b.paths()) == set(zf.paths())
