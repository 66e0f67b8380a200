'use strict';
// Safe, bounded, in-memory readers for bundles stored as zip, tar.gz or a
// directory. Nothing is ever extracted to disk. The rules are those of the Go
// reference (scb/archive.go) and of the Python loader:
//  - every entry name passes checkPath (relative, clean, no "..", no
//    backslash, no control character, at most 512 bytes);
//  - directories are skipped; links, devices, pipes and sockets rejected;
//  - duplicate names rejected;
//  - at most maxFiles files of at most maxFileSize bytes, maxTotalSize in all,
//    enforced on the actual decompressed output, not only on headers;
//  - zip: a small central-directory reader (Node has none built in), stored
//    or deflated entries only, no encryption, no zip64, CRC-32 checked.

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const {
  MalformedArchiveError, TooLargeError, UnsafePathError, UnsupportedEntryError,
} = require('./errors');

const MAX_PATH_LENGTH = 512;
const DEFAULT_LIMITS = Object.freeze({ maxFiles: 1000, maxFileSize: 8 << 20, maxTotalSize: 64 << 20 });

function normalizeLimits(l = {}) {
  return {
    maxFiles: l.maxFiles || DEFAULT_LIMITS.maxFiles,
    maxFileSize: l.maxFileSize || DEFAULT_LIMITS.maxFileSize,
    maxTotalSize: l.maxTotalSize || DEFAULT_LIMITS.maxTotalSize,
  };
}

function maxArchiveSize(l) { return normalizeLimits(l).maxTotalSize + (1 << 20); }

function quote(s) { return JSON.stringify(String(s).slice(0, 80)); }

/** Throws UnsafePathError unless p is a safe bundle path. */
function checkPath(p) {
  const bad = (why) => new UnsafePathError(`unsafe path: ${why}`, { path: quote(p) });
  if (p === '') throw bad('empty name');
  if (Buffer.byteLength(p, 'utf8') > MAX_PATH_LENGTH) throw bad('name too long');
  if (p.startsWith('/')) throw bad('absolute path');
  if (p.includes('\\')) throw bad('backslash in name');
  if (p.length >= 2 && p[1] === ':') throw bad('drive letter');
  for (const ch of p) {
    const c = ch.codePointAt(0);
    if (c < 0x20 || c === 0x7f) throw bad('control character in name');
  }
  for (const el of p.split('/')) {
    if (el === '' || el === '.' || el === '..') throw bad('relative element in name');
  }
}

function byteCompare(a, b) { return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')); }

/** An in-memory bundle: file contents by path. Never prints content. */
class Bundle {
  constructor(files = new Map(), { format = 'memory', source } = {}) {
    this._files = files instanceof Map ? new Map(files) : new Map(Object.entries(files));
    this.format = format;
    this.source = source;
  }
  get(p) { return this._files.get(p); }
  has(p) { return this._files.has(p); }
  get size() { return this._files.size; }
  paths() { return [...this._files.keys()].sort(byteCompare); }
  entries() { return this.paths().map((p) => [p, this._files.get(p)]); }
  toString() { return `scbkit.Bundle(${this._files.size} files, format=${this.format})`; }
  toJSON() { return this.toString(); }
  [Symbol.for('nodejs.util.inspect.custom')]() { return this.toString(); }
}

class Collector {
  constructor(lim) { this.lim = lim; this.files = new Map(); this.total = 0; }
  precheck(name, size) {
    checkPath(name);
    if (this.files.has(name)) throw new MalformedArchiveError('duplicate entry', { path: name });
    if (this.files.size >= this.lim.maxFiles) throw new TooLargeError(`more than ${this.lim.maxFiles} files`);
    if (size > this.lim.maxFileSize) throw new TooLargeError(`file larger than ${this.lim.maxFileSize} bytes`, { path: name });
  }
  add(name, data) {
    if (data.length > this.lim.maxFileSize) throw new TooLargeError(`file larger than ${this.lim.maxFileSize} bytes`, { path: name });
    this.total += data.length;
    if (this.total > this.lim.maxTotalSize) throw new TooLargeError(`more than ${this.lim.maxTotalSize} bytes in total`);
    this.files.set(name, data);
  }
}

/** Decodes a zip or tar.gz bundle held in a Buffer (detected from its first bytes). */
function decodeBundle(data, limits, { source } = {}) {
  const lim = normalizeLimits(limits);
  if (data.length > maxArchiveSize(lim)) throw new TooLargeError(`archive is ${data.length} bytes, more than ${maxArchiveSize(lim)}`);
  const head = data.subarray(0, 4).toString('latin1');
  if (head === 'PK\x03\x04' || head === 'PK\x05\x06') return new Bundle(readZip(data, lim), { format: 'zip', source });
  if (data[0] === 0x1f && data[1] === 0x8b) return new Bundle(readTarGz(data, lim), { format: 'tar.gz', source });
  throw new MalformedArchiveError('neither a zip nor a gzip file');
}

/** Reads a bundle from a zip or tar.gz file or from a bundle directory. */
function readBundle(file, limits) {
  const lim = normalizeLimits(limits);
  const st = fs.statSync(file);
  if (st.isDirectory()) return new Bundle(readDir(file, lim), { format: 'dir', source: file });
  if (st.size > maxArchiveSize(lim)) throw new TooLargeError(`archive is ${st.size} bytes, more than ${maxArchiveSize(lim)}`);
  const fd = fs.openSync(file, 'r');
  let data;
  try {
    const buf = Buffer.alloc(Math.min(st.size, maxArchiveSize(lim)) + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    data = buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
  return decodeBundle(data, lim, { source: file });
}

// --- zip ---------------------------------------------------------------------

const UNIX_TYPES = new Map([[0xc000, 'socket'], [0xa000, 'symlink'], [0x6000, 'device'], [0x4000, 'dir'], [0x2000, 'char device'], [0x1000, 'named pipe']]);

function entryType(creator, external, rawName) {
  let kind = 'regular';
  if (creator === 3 || creator === 19) kind = UNIX_TYPES.get(((external >>> 16) & 0xf000)) || 'regular';
  else if ((creator === 0 || creator === 11 || creator === 14) && (external & 0x10)) kind = 'dir';
  if (rawName.length && rawName[rawName.length - 1] === 0x2f && kind === 'regular') kind = 'dir';
  return kind;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeName(raw) {
  try {
    return utf8.decode(raw);
  } catch {
    throw new UnsafePathError('unsafe path: name is not UTF-8', { path: quote(raw.toString('latin1')) });
  }
}

function findEOCD(d) {
  const start = Math.max(0, d.length - (22 + 0xffff));
  for (let i = d.length - 22; i >= start; i--) {
    if (d[i] === 0x50 && d[i + 1] === 0x4b && d[i + 2] === 5 && d[i + 3] === 6) {
      if (i + 22 + d.readUInt16LE(i + 20) <= d.length) return i;
    }
  }
  throw new MalformedArchiveError('zip: end of central directory not found');
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(buf) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf) >>> 0;
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function readZip(d, lim) {
  const eocd = findEOCD(d);
  const disk = d.readUInt16LE(eocd + 4), cdDisk = d.readUInt16LE(eocd + 6);
  const nDisk = d.readUInt16LE(eocd + 8), nTotal = d.readUInt16LE(eocd + 10);
  const cdSize = d.readUInt32LE(eocd + 12), cdOff = d.readUInt32LE(eocd + 16);
  if (disk !== 0 || cdDisk !== 0 || nDisk !== nTotal) throw new MalformedArchiveError('zip: multi-disk archives are not supported');
  if (nTotal === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) throw new MalformedArchiveError('zip: zip64 archives are not supported');
  const base = eocd - cdSize - cdOff;
  if (base < 0) throw new MalformedArchiveError('zip: central directory out of bounds');
  if (nTotal > lim.maxFiles) throw new TooLargeError(`more than ${lim.maxFiles} files`);
  let pos = base + cdOff;
  const end = pos + cdSize;
  const entries = [];
  for (let i = 0; i < nTotal; i++) {
    if (pos + 46 > end || d.readUInt32LE(pos) !== 0x02014b50) throw new MalformedArchiveError('zip: malformed central directory');
    const e = {
      creator: d.readUInt16LE(pos + 4) >>> 8,
      flags: d.readUInt16LE(pos + 8),
      method: d.readUInt16LE(pos + 10),
      crc: d.readUInt32LE(pos + 16),
      csize: d.readUInt32LE(pos + 20),
      usize: d.readUInt32LE(pos + 24),
      external: d.readUInt32LE(pos + 38),
      loff: d.readUInt32LE(pos + 42),
    };
    const nlen = d.readUInt16LE(pos + 28), xlen = d.readUInt16LE(pos + 30), clen = d.readUInt16LE(pos + 32);
    e.raw = d.subarray(pos + 46, pos + 46 + nlen);
    pos += 46 + nlen + xlen + clen;
    if (pos > end) throw new MalformedArchiveError('zip: malformed central directory');
    if (e.csize === 0xffffffff || e.usize === 0xffffffff || e.loff === 0xffffffff) throw new MalformedArchiveError('zip: zip64 entries are not supported');
    entries.push(e);
  }
  if (pos !== end) throw new MalformedArchiveError('zip: central directory size does not match its entries');

  const out = new Collector(lim);
  for (const e of entries) {
    const kind = entryType(e.creator, e.external, e.raw);
    const slash = e.raw.length && e.raw[e.raw.length - 1] === 0x2f;
    if (slash && (kind === 'dir' || e.usize === 0)) {
      checkPath(decodeName(e.raw.subarray(0, e.raw.length - 1)));
      continue;
    }
    if (kind !== 'regular') throw new UnsupportedEntryError(`unsupported archive entry: ${kind}`, { path: quote(e.raw.toString('latin1')) });
    if (e.usize > lim.maxFileSize) throw new TooLargeError(`file larger than ${lim.maxFileSize} bytes`, { path: quote(e.raw.toString('latin1')) });
    const name = decodeName(e.raw);
    out.precheck(name, e.usize);
    if (e.flags & 1) throw new MalformedArchiveError('zip: encrypted entries are not supported', { path: name });
    const lh = base + e.loff;
    if (lh + 30 > d.length || d.readUInt32LE(lh) !== 0x04034b50) throw new MalformedArchiveError('zip: bad local file header', { path: name });
    const start = lh + 30 + d.readUInt16LE(lh + 26) + d.readUInt16LE(lh + 28);
    if (start + e.csize > d.length) throw new MalformedArchiveError('zip: entry data out of bounds', { path: name });
    const comp = d.subarray(start, start + e.csize);
    let body;
    if (e.method === 0) {
      body = Buffer.from(comp);
    } else if (e.method === 8) {
      try {
        body = zlib.inflateRawSync(comp, { maxOutputLength: lim.maxFileSize + 1 });
      } catch (err) {
        if (err && (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)) {
          throw new TooLargeError(`file larger than ${lim.maxFileSize} bytes`, { path: name });
        }
        throw new MalformedArchiveError('zip: corrupt or truncated deflate data', { path: name });
      }
      if (body.length > lim.maxFileSize) throw new TooLargeError(`file larger than ${lim.maxFileSize} bytes`, { path: name });
    } else {
      throw new MalformedArchiveError(`zip: unsupported compression method ${e.method}`, { path: name });
    }
    if (body.length !== e.usize) throw new MalformedArchiveError('zip: size does not match the central directory', { path: name });
    if ((e.crc !== 0 || e.flags & 8) && crc32(body) !== e.crc) throw new MalformedArchiveError('zip: checksum error', { path: name });
    out.add(name, body);
  }
  return out.files;
}

// --- tar.gz ------------------------------------------------------------------

const MAX_TAR_PADDING = 1 << 20;

function gunzip(data, cap) {
  let res;
  try {
    res = zlib.gunzipSync(data, { maxOutputLength: cap + 1, info: true });
  } catch (err) {
    if (err && (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)) throw new TooLargeError(`archive expands to more than ${cap} bytes`);
    throw new MalformedArchiveError('gzip: corrupt or truncated data');
  }
  if (res.buffer.length > cap) throw new TooLargeError(`archive expands to more than ${cap} bytes`);
  if (res.engine && typeof res.engine.bytesWritten === 'number' && res.engine.bytesWritten !== data.length) {
    throw new MalformedArchiveError('gzip: data after the end of the compressed stream');
  }
  return res.buffer;
}

function cstr(b) {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

function tarNumber(field, what) {
  if (field.length && field[0] & 0x80) {
    if (field[0] !== 0x80) throw new MalformedArchiveError(`tar: negative or oversized ${what}`);
    let v = 0;
    for (const c of field.subarray(1)) {
      v = v * 256 + c;
      if (v > Number.MAX_SAFE_INTEGER) throw new MalformedArchiveError(`tar: oversized ${what}`);
    }
    return v;
  }
  const s = cstr(field).toString('latin1').replace(/^ +| +$/g, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new MalformedArchiveError(`tar: malformed ${what}`);
  return parseInt(s, 8);
}

function parsePax(body) {
  const recs = new Map();
  let pos = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    if (sp < 0) throw new MalformedArchiveError('tar: malformed PAX header');
    const lenStr = body.subarray(pos, sp).toString('latin1');
    if (!/^[0-9]+$/.test(lenStr)) throw new MalformedArchiveError('tar: malformed PAX header');
    const n = parseInt(lenStr, 10);
    if (n <= sp - pos || pos + n > body.length || body[pos + n - 1] !== 0x0a) throw new MalformedArchiveError('tar: malformed PAX header');
    const kv = body.subarray(sp + 1, pos + n - 1);
    const eq = kv.indexOf(0x3d);
    if (eq <= 0) throw new MalformedArchiveError('tar: malformed PAX header');
    recs.set(kv.subarray(0, eq).toString('utf8'), kv.subarray(eq + 1));
    pos += n;
  }
  return recs;
}

function isZero(b) {
  for (const c of b) if (c !== 0) return false;
  return true;
}

function readTarGz(data, lim) {
  const cap = lim.maxTotalSize + MAX_TAR_PADDING + lim.maxFiles * 4096 + (4 << 20);
  const tar = gunzip(data, cap);
  const out = new Collector(lim);
  let pos = 0;
  let pax = new Map();
  let longName = null;
  for (;;) {
    if (pos + 512 > tar.length) throw new MalformedArchiveError('tar: unexpected end of archive');
    const hdr = tar.subarray(pos, pos + 512);
    if (isZero(hdr)) {
      const tail = tar.subarray(pos);
      if (!isZero(tail)) throw new MalformedArchiveError('tar: data after the end of the archive');
      if (tail.length > MAX_TAR_PADDING + 1024) throw new MalformedArchiveError('tar: too much padding after the end of the archive');
      return out.files;
    }
    const chk = tarNumber(hdr.subarray(148, 156), 'checksum');
    let sum = 8 * 32;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += hdr[i];
    if (chk !== sum) throw new MalformedArchiveError('tar: header checksum mismatch');
    const typ = String.fromCharCode(hdr[156]);
    let size = tarNumber(hdr.subarray(124, 136), 'size');
    pos += 512;
    let nameB = cstr(hdr.subarray(0, 100));
    if (hdr.subarray(257, 262).toString('latin1') === 'ustar') {
      const prefix = cstr(hdr.subarray(345, 500));
      if (prefix.length) nameB = Buffer.concat([prefix, Buffer.from('/'), nameB]);
    }
    const pad = (n) => Math.ceil(n / 512) * 512;
    if (typ === 'x' || typ === 'g' || typ === 'L' || typ === 'K') {
      if (size > (1 << 20) || pos + size > tar.length) throw new MalformedArchiveError('tar: malformed extended header');
      const body = tar.subarray(pos, pos + size);
      pos += pad(size);
      if (typ === 'x') pax = parsePax(body);
      else if (typ === 'L') longName = cstr(body);
      continue;
    }
    if (pax.has('path')) nameB = pax.get('path');
    else if (longName !== null) nameB = longName;
    if (pax.has('size')) {
      const s = pax.get('size').toString('latin1');
      if (!/^[0-9]+$/.test(s)) throw new MalformedArchiveError('tar: malformed PAX size');
      size = parseInt(s, 10);
    }
    pax = new Map();
    longName = null;
    const name = decodeName(nameB);
    if (typ === '5') {
      checkPath(name.endsWith('/') ? name.slice(0, -1) : name);
      pos += pad(size);
      continue;
    }
    if (typ !== '0' && typ !== '\0') throw new UnsupportedEntryError(`unsupported archive entry: tar type ${JSON.stringify(typ)}`, { path: quote(name) });
    out.precheck(name, size);
    if (pos + size > tar.length) throw new MalformedArchiveError('tar: unexpected end of archive', { path: name });
    out.add(name, Buffer.from(tar.subarray(pos, pos + size)));
    pos += pad(size);
  }
}

// --- directory ---------------------------------------------------------------

function readDir(root, lim) {
  const out = new Collector(lim);
  const walk = (rel) => {
    const full = rel ? path.join(root, rel) : root;
    const ents = fs.readdirSync(full, { withFileTypes: true }).sort((a, b) => byteCompare(a.name, b.name));
    for (const e of ents) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) throw new UnsupportedEntryError('unsupported archive entry: symbolic link', { path: p });
      if (e.isDirectory()) {
        checkPath(p);
        walk(p);
        continue;
      }
      if (!e.isFile()) throw new UnsupportedEntryError('unsupported archive entry: not a regular file', { path: p });
      const fd = fs.openSync(path.join(root, p), fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0));
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) throw new UnsupportedEntryError('unsupported archive entry: not a regular file', { path: p });
        out.precheck(p, st.size);
        const buf = Buffer.alloc(Math.min(st.size, lim.maxFileSize) + 1);
        let n = 0;
        for (;;) {
          const r = fs.readSync(fd, buf, n, buf.length - n, null);
          if (r === 0) break;
          n += r;
          if (n === buf.length) break;
        }
        out.add(p, buf.subarray(0, n));
      } finally {
        fs.closeSync(fd);
      }
    }
  };
  walk('');
  return out.files;
}

module.exports = {
  Bundle, checkPath, decodeBundle, readBundle, normalizeLimits, maxArchiveSize, DEFAULT_LIMITS, MAX_PATH_LENGTH,
};
