'use strict';
// A strict JSON parser (RFC 8259) for untrusted input. Unlike JSON.parse it can
// reject duplicate member names, it bounds nesting, and it keeps integers
// apart from other numbers: integers become numbers (or BigInt beyond 2^53),
// any literal with a fraction or exponent becomes a JsonFloat, so that fields
// the format defines as integers reject 1.0 or 1e3 as the Go reference does.

class JsonFloat {
  constructor(v) { this.value = v; }
}

const MAX_DEPTH = 512;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * parse(data, { duplicates: 'error' | 'last', trailing: false }) → value.
 * Throws SyntaxError with a position, never quoting the input.
 */
function parse(data, { duplicates = 'error', trailing = false } = {}) {
  let s;
  try {
    s = typeof data === 'string' ? data : utf8.decode(data);
  } catch {
    throw new SyntaxError('invalid UTF-8');
  }
  let i = 0;
  const fail = (msg) => { throw new SyntaxError(`${msg} at offset ${i}`); };
  const ws = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++; };
  const value = (depth) => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const obj = Object.create(null);
      ws();
      if (s[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (s[i] !== '"') fail('expected a member name');
        const k = string();
        if (Object.prototype.hasOwnProperty.call(obj, k) && duplicates === 'error') {
          throw new SyntaxError(`duplicate member ${JSON.stringify(k.slice(0, 64))}`);
        }
        ws();
        if (s[i] !== ':') fail("expected ':'");
        i++;
        obj[k] = value(depth + 1);
        ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === '}') { i++; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (s[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === ']') { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (s.startsWith('true', i)) { i += 4; return true; }
    if (s.startsWith('false', i)) { i += 5; return false; }
    if (s.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(s.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('invalid value');
    i += m[0].length;
    if (m[2] || m[3]) return new JsonFloat(Number(m[0]));
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  };
  const string = () => {
    i++;
    let out = '';
    for (;;) {
      if (i >= s.length) fail('unterminated string');
      const ch = s[i];
      if (ch === '"') { i++; return out; }
      if (ch.charCodeAt(0) < 0x20) fail('control character in string');
      if (ch === '\\') {
        const e = s[i + 1];
        const map = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in map) { out += map[e]; i += 2; continue; }
        if (e === 'u') {
          const h = s.slice(i + 2, i + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(h)) fail('bad escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 6;
          continue;
        }
        fail('bad escape');
      }
      out += ch;
      i++;
    }
  };
  const v = value(0);
  ws();
  if (!trailing && i !== s.length) fail('data after the JSON value');
  return v;
}

const isInt = (v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonFloat);

module.exports = { parse, JsonFloat, isInt, isObj };
