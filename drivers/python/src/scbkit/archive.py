"""Safe, bounded, in-memory readers for bundles stored as zip, tar.gz or a directory.

Nothing is ever extracted to disk. The rules are those of the Go reference
(``scb/archive.go``) and of the other scbkit loaders:

* every entry name must pass :func:`check_path` (relative, clean, no ``..``,
  no backslash, no control character, at most 512 bytes);
* directories are skipped; links, devices, pipes and sockets are rejected;
* duplicate names are rejected;
* at most ``Limits.max_files`` files, each at most ``Limits.max_file_size``
  bytes, together at most ``Limits.max_total_size`` bytes; sizes are
  enforced while decompressing, not only from headers;
* zip entries must be stored or deflated, unencrypted, with a matching CRC;
  the reader is a small central-directory parser, not ``zipfile``, so that
  the Python and Node.js loaders apply exactly the same rules.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple, Union

from .errors import (
    MalformedArchiveError,
    TooLargeError,
    UnsafePathError,
    UnsupportedEntryError,
)

__all__ = ["Limits", "Bundle", "check_path", "read_bundle", "decode_bundle", "MAX_PATH_LENGTH"]

MAX_PATH_LENGTH = 512


@dataclass(frozen=True)
class Limits:
    """Bounds on what the readers accept from untrusted input.

    ``0`` (or the defaults) mean 1000 files, 8 MiB per file and 64 MiB in
    total, as in the Go reference.
    """

    max_files: int = 1000
    max_file_size: int = 8 << 20
    max_total_size: int = 64 << 20

    def normalized(self) -> "Limits":
        return Limits(
            self.max_files or 1000,
            self.max_file_size or (8 << 20),
            self.max_total_size or (64 << 20),
        )

    @property
    def max_archive_size(self) -> int:
        """The largest archive file read at all: the total limit plus 1 MiB."""
        return self.normalized().max_total_size + (1 << 20)


def check_path(p: str) -> None:
    """Raise :class:`UnsafePathError` unless ``p`` is a safe bundle path."""

    def bad(why: str) -> UnsafePathError:
        return UnsafePathError("unsafe path: " + why, path=repr(p)[:80])

    if p == "":
        raise bad("empty name")
    if len(p.encode("utf-8", "surrogatepass")) > MAX_PATH_LENGTH:
        raise bad("name too long")
    if p.startswith("/"):
        raise bad("absolute path")
    if "\\" in p:
        raise bad("backslash in name")
    if len(p) >= 2 and p[1] == ":":
        raise bad("drive letter")
    for ch in p:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise bad("control character in name")
    for el in p.split("/"):
        if el in ("", ".", ".."):
            raise bad("relative element in name")


class Bundle:
    """An in-memory bundle: file contents by path.

    ``format`` is ``"zip"``, ``"tar.gz"`` or ``"dir"``; ``source`` is the
    path it was read from, if any. ``repr`` never shows content.
    """

    def __init__(self, files: Optional[Dict[str, bytes]] = None, *, format: str = "memory", source: Optional[str] = None):
        self._files: Dict[str, bytes] = dict(files or {})
        self.format = format
        self.source = source

    def get(self, path: str) -> Optional[bytes]:
        return self._files.get(path)

    def __contains__(self, path: str) -> bool:
        return path in self._files

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> List[str]:
        """Every path, in byte order (as the manifest sorts them)."""
        return sorted(self._files, key=lambda s: s.encode("utf-8", "surrogatepass"))

    def items(self) -> Iterator[Tuple[str, bytes]]:
        for p in self.paths():
            yield p, self._files[p]

    def __repr__(self) -> str:
        return "scbkit.Bundle(%d files, format=%s)" % (len(self._files), self.format)

    __str__ = __repr__


class _Collector:
    def __init__(self, lim: Limits):
        self.lim = lim
        self.files: Dict[str, bytes] = {}
        self.total = 0

    def precheck(self, name: str, size: int) -> None:
        check_path(name)
        if name in self.files:
            raise MalformedArchiveError("duplicate entry", path=name)
        if len(self.files) >= self.lim.max_files:
            raise TooLargeError("more than %d files" % self.lim.max_files)
        if size > self.lim.max_file_size:
            raise TooLargeError("file larger than %d bytes" % self.lim.max_file_size, path=name)

    def add(self, name: str, data: bytes) -> None:
        if len(data) > self.lim.max_file_size:
            raise TooLargeError("file larger than %d bytes" % self.lim.max_file_size, path=name)
        self.total += len(data)
        if self.total > self.lim.max_total_size:
            raise TooLargeError("more than %d bytes in total" % self.lim.max_total_size)
        self.files[name] = data


def decode_bundle(data: bytes, limits: Optional[Limits] = None, *, source: Optional[str] = None) -> Bundle:
    """Decode a zip or tar.gz bundle held in memory (detected from its first bytes)."""
    lim = (limits or Limits()).normalized()
    if len(data) > lim.max_archive_size:
        raise TooLargeError("archive is %d bytes, more than %d" % (len(data), lim.max_archive_size))
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return Bundle(_read_zip(data, lim), format="zip", source=source)
    if data[:2] == b"\x1f\x8b":
        return Bundle(_read_tar_gz(data, lim), format="tar.gz", source=source)
    raise MalformedArchiveError("neither a zip nor a gzip file")


def read_bundle(path: Union[str, "os.PathLike[str]"], limits: Optional[Limits] = None) -> Bundle:
    """Read a bundle from a zip or tar.gz file or from a bundle directory."""
    lim = (limits or Limits()).normalized()
    path = os.fspath(path)
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        return Bundle(_read_dir(path, lim), format="dir", source=path)
    if st.st_size > lim.max_archive_size:
        raise TooLargeError("archive is %d bytes, more than %d" % (st.st_size, lim.max_archive_size))
    with open(path, "rb") as f:
        data = f.read(lim.max_archive_size + 1)
    return decode_bundle(data, lim, source=path)


# --- zip -------------------------------------------------------------------

_EOCD = b"PK\x05\x06"
_CDH = b"PK\x01\x02"
_LFH = b"PK\x03\x04"

_S_IFMT = 0xF000
_UNIX_TYPES = {
    0xC000: "socket",
    0xA000: "symlink",
    0x6000: "device",
    0x4000: "dir",
    0x2000: "char device",
    0x1000: "named pipe",
}


def _entry_type(creator: int, external: int, name: bytes) -> str:
    """The file type of a zip entry, derived as Go's archive/zip does."""
    kind = "regular"
    if creator in (3, 19):  # Unix, macOS
        kind = _UNIX_TYPES.get((external >> 16) & _S_IFMT, "regular")
    elif creator in (0, 11, 14):  # FAT, NTFS, VFAT
        if external & 0x10:
            kind = "dir"
    if name.endswith(b"/"):
        kind = "dir" if kind == "regular" else kind
    return kind


def _decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafePathError("unsafe path: name is not UTF-8", path=repr(raw)[:80]) from None


def _find_eocd(data: bytes) -> int:
    start = max(0, len(data) - (22 + 0xFFFF))
    i = len(data) - 22
    while i >= start:
        if data[i : i + 4] == _EOCD:
            comment_len = struct.unpack_from("<H", data, i + 20)[0]
            if i + 22 + comment_len <= len(data):
                return i
        i -= 1
    raise MalformedArchiveError("zip: end of central directory not found")


def _read_zip(data: bytes, lim: Limits) -> Dict[str, bytes]:
    eocd = _find_eocd(data)
    (_, disk, cd_disk, n_disk, n_total, cd_size, cd_off, _) = struct.unpack_from("<IHHHHIIH", data, eocd)
    if disk != 0 or cd_disk != 0 or n_disk != n_total:
        raise MalformedArchiveError("zip: multi-disk archives are not supported")
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_off == 0xFFFFFFFF:
        raise MalformedArchiveError("zip: zip64 archives are not supported")
    base = eocd - cd_size - cd_off
    if base < 0:
        raise MalformedArchiveError("zip: central directory out of bounds")
    if n_total > lim.max_files:
        raise TooLargeError("more than %d files" % lim.max_files)
    pos = base + cd_off
    end = pos + cd_size
    entries = []
    for _ in range(n_total):
        if pos + 46 > end or data[pos : pos + 4] != _CDH:
            raise MalformedArchiveError("zip: malformed central directory")
        (
            _sig, made_by, _need, flags, method, _t, _d, crc, csize, usize,
            nlen, xlen, clen, _dstart, _iattr, eattr, loff,
        ) = struct.unpack_from("<IHHHHHHIIIHHHHHII", data, pos)
        name = data[pos + 46 : pos + 46 + nlen]
        pos += 46 + nlen + xlen + clen
        if pos > end:
            raise MalformedArchiveError("zip: malformed central directory")
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or loff == 0xFFFFFFFF:
            raise MalformedArchiveError("zip: zip64 entries are not supported")
        entries.append((made_by >> 8, flags, method, crc, csize, usize, eattr, loff, name))
    if pos != end:
        raise MalformedArchiveError("zip: central directory size does not match its entries")

    out = _Collector(lim)
    for creator, flags, method, crc, csize, usize, eattr, loff, raw_name in entries:
        kind = _entry_type(creator, eattr, raw_name)
        if raw_name.endswith(b"/") and (kind == "dir" or usize == 0):
            check_path(_decode_name(raw_name[:-1]))
            continue
        if kind != "regular":
            raise UnsupportedEntryError("unsupported archive entry: " + kind, path=repr(raw_name)[:80])
        if usize > lim.max_file_size:
            raise TooLargeError("file larger than %d bytes" % lim.max_file_size, path=repr(raw_name)[:80])
        name = _decode_name(raw_name)
        out.precheck(name, usize)
        if flags & 0x1:
            raise MalformedArchiveError("zip: encrypted entries are not supported", path=name)
        lh = base + loff
        if lh < 0 or lh + 30 > len(data) or data[lh : lh + 4] != _LFH:
            raise MalformedArchiveError("zip: bad local file header", path=name)
        lnlen, lxlen = struct.unpack_from("<HH", data, lh + 26)
        start = lh + 30 + lnlen + lxlen
        if start + csize > len(data):
            raise MalformedArchiveError("zip: entry data out of bounds", path=name)
        comp = data[start : start + csize]
        if method == 0:
            body = comp
        elif method == 8:
            d = zlib.decompressobj(-15)
            try:
                body = d.decompress(comp, lim.max_file_size + 1)
            except zlib.error:
                raise MalformedArchiveError("zip: corrupt deflate data", path=name) from None
            if len(body) > lim.max_file_size:
                raise TooLargeError("file larger than %d bytes" % lim.max_file_size, path=name)
            if not d.eof:
                raise MalformedArchiveError("zip: truncated deflate data", path=name)
        else:
            raise MalformedArchiveError("zip: unsupported compression method %d" % method, path=name)
        if len(body) != usize:
            raise MalformedArchiveError("zip: size does not match the central directory", path=name)
        if (crc != 0 or flags & 0x8) and zlib.crc32(body) != crc:
            raise MalformedArchiveError("zip: checksum error", path=name)
        out.add(name, body)
    return out.files


# --- tar.gz ----------------------------------------------------------------

_MAX_TAR_PADDING = 1 << 20


def _gunzip(data: bytes, cap: int) -> bytes:
    """Decompress every gzip member of data, failing beyond cap bytes."""
    out = bytearray()
    rest = data
    first = True
    while first or rest:
        first = False
        if rest[:2] != b"\x1f\x8b":
            raise MalformedArchiveError("gzip: invalid header")
        d = zlib.decompressobj(wbits=31)
        try:
            chunk = d.decompress(rest, cap + 1 - len(out))
            out += chunk
            if len(out) > cap:
                raise TooLargeError("archive expands to more than %d bytes" % cap)
            while not d.eof and d.unconsumed_tail:
                out += d.decompress(d.unconsumed_tail, cap + 1 - len(out))
                if len(out) > cap:
                    raise TooLargeError("archive expands to more than %d bytes" % cap)
        except zlib.error:
            raise MalformedArchiveError("gzip: corrupt data") from None
        if not d.eof:
            raise MalformedArchiveError("gzip: truncated data")
        rest = d.unused_data
    return bytes(out)


def _tar_number(field: bytes, what: str) -> int:
    if field and field[0] & 0x80:  # base-256
        if field[0] != 0x80:
            raise MalformedArchiveError("tar: negative or oversized " + what)
        return int.from_bytes(field[1:], "big")
    s = field.split(b"\x00", 1)[0].strip(b" ")
    if not s:
        return 0
    try:
        return int(s, 8)
    except ValueError:
        raise MalformedArchiveError("tar: malformed " + what) from None


def _tar_string(field: bytes) -> bytes:
    return field.split(b"\x00", 1)[0]


def _parse_pax(body: bytes) -> Dict[str, bytes]:
    recs: Dict[str, bytes] = {}
    pos = 0
    while pos < len(body):
        sp = body.find(b" ", pos)
        if sp < 0:
            raise MalformedArchiveError("tar: malformed PAX header")
        try:
            n = int(body[pos:sp])
        except ValueError:
            raise MalformedArchiveError("tar: malformed PAX header") from None
        if n <= sp - pos or pos + n > len(body) or body[pos + n - 1 : pos + n] != b"\n":
            raise MalformedArchiveError("tar: malformed PAX header")
        kv = body[sp + 1 : pos + n - 1]
        eq = kv.find(b"=")
        if eq <= 0:
            raise MalformedArchiveError("tar: malformed PAX header")
        recs[kv[:eq].decode("utf-8", "replace")] = kv[eq + 1 :]
        pos += n
    return recs


def _read_tar_gz(data: bytes, lim: Limits) -> Dict[str, bytes]:
    cap = lim.max_total_size + _MAX_TAR_PADDING + lim.max_files * 4096 + (4 << 20)
    tar = _gunzip(data, cap)
    out = _Collector(lim)
    pos = 0
    pax: Dict[str, bytes] = {}
    long_name: Optional[bytes] = None
    while True:
        if pos + 512 > len(tar):
            raise MalformedArchiveError("tar: unexpected end of archive")
        hdr = tar[pos : pos + 512]
        if hdr == b"\x00" * 512:
            # End marker: the rest must be zero padding, bounded.
            tail = tar[pos:]
            if tail.strip(b"\x00"):
                raise MalformedArchiveError("tar: data after the end of the archive")
            if len(tail) > _MAX_TAR_PADDING + 1024:
                raise MalformedArchiveError("tar: too much padding after the end of the archive")
            return out.files
        chk = _tar_number(hdr[148:156], "checksum")
        if chk != sum(hdr[:148]) + 32 * 8 + sum(hdr[156:]):
            raise MalformedArchiveError("tar: header checksum mismatch")
        typ = hdr[156:157]
        size = _tar_number(hdr[124:136], "size")
        pos += 512
        body_end = pos + size
        padded = pos + ((size + 511) // 512) * 512
        name_b = _tar_string(hdr[0:100])
        if hdr[257:262] == b"ustar":
            prefix = _tar_string(hdr[345:500])
            if prefix:
                name_b = prefix + b"/" + name_b
        if typ in (b"x", b"g", b"L", b"K"):
            if size > (1 << 20) or body_end > len(tar):
                raise MalformedArchiveError("tar: malformed extended header")
            body = tar[pos:body_end]
            pos = padded
            if typ == b"x":
                pax = _parse_pax(body)
            elif typ == b"L":
                long_name = body.split(b"\x00", 1)[0]
            continue
        if "path" in pax:
            name_b = pax["path"]
        elif long_name is not None:
            name_b = long_name
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise MalformedArchiveError("tar: malformed PAX size") from None
            body_end = pos + size
            padded = pos + ((size + 511) // 512) * 512
        pax, long_name = {}, None
        name = _decode_name(name_b)
        if typ == b"5":
            check_path(name.rstrip("/") if name.endswith("/") else name)
            pos = padded
            continue
        if typ not in (b"0", b"\x00"):
            raise UnsupportedEntryError("unsupported archive entry: tar type %r" % typ.decode("latin-1"), path=repr(name)[:80])
        out.precheck(name, size)
        if body_end > len(tar):
            raise MalformedArchiveError("tar: unexpected end of archive", path=name)
        out.add(name, tar[pos:body_end])
        pos = padded


# --- directory -------------------------------------------------------------


def _read_dir(root: str, lim: Limits) -> Dict[str, bytes]:
    out = _Collector(lim)

    def walk(rel: str) -> None:
        full = os.path.join(root, rel) if rel else root
        with os.scandir(full) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            p = rel + "/" + e.name if rel else e.name
            if e.is_symlink():
                raise UnsupportedEntryError("unsupported archive entry: symbolic link", path=p)
            if e.is_dir(follow_symlinks=False):
                check_path(p)
                walk(p)
                continue
            if not e.is_file(follow_symlinks=False):
                raise UnsupportedEntryError("unsupported archive entry: not a regular file", path=p)
            size = e.stat(follow_symlinks=False).st_size
            out.precheck(p, size)
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(os.path.join(root, p), flags)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise UnsupportedEntryError("unsupported archive entry: not a regular file", path=p)
                data = f.read(lim.max_file_size + 1)
            out.add(p, data)

    walk("")
    return out.files
