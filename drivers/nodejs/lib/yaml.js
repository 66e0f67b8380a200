'use strict';
// A strict reader for the small YAML subset scbkit writes
// (config/cassandra.yaml): block mappings with plain keys, block sequences of
// scalars, and scalars (plain, 'single' or "double" quoted, [] and {});
// comments and blank lines. Anything else (anchors, aliases, tags, flow
// collections, block scalars, documents, tab indentation, duplicate keys) is
// an error. The Python loader implements the same rules.

const KEY = /^([A-Za-z0-9_][A-Za-z0-9_.-]*):(?: +(.*))?$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const ESCAPES = { 0: '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0' };
const MAX_DEPTH = 16;

function err(no, msg) { return new SyntaxError(`line ${no}: ${msg}`); }

function stripComment(s) {
  const i = s.indexOf(' #');
  return (i >= 0 ? s.slice(0, i) : s).replace(/ +$/, '');
}

function scalar(raw, no) {
  let s = raw.replace(/^ +| +$/g, '');
  if (s === '' || s.startsWith('#')) return null;
  const c = s[0];
  if (c === '"') {
    let out = '';
    for (let i = 1; i < s.length; i++) {
      const ch = s[i];
      if (ch === '"') {
        const rest = s.slice(i + 1).trim();
        if (rest && !rest.startsWith('#')) throw err(no, 'text after a quoted string');
        return out;
      }
      if (ch === '\\') {
        i++;
        if (i >= s.length) break;
        const e = s[i];
        if (Object.prototype.hasOwnProperty.call(ESCAPES, e)) out += ESCAPES[e];
        else if (e === 'x' || e === 'u' || e === 'U') {
          const n = { x: 2, u: 4, U: 8 }[e];
          const h = s.slice(i + 1, i + 1 + n);
          if (h.length !== n || !/^[0-9A-Fa-f]+$/.test(h)) throw err(no, 'bad escape');
          const cp = parseInt(h, 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw err(no, 'bad escape');
          out += String.fromCodePoint(cp);
          i += n;
        } else throw err(no, 'bad escape');
      } else out += ch;
    }
    throw err(no, 'unterminated string');
  }
  if (c === "'") {
    let out = '';
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") { out += "'"; i++; continue; }
        const rest = s.slice(i + 1).trim();
        if (rest && !rest.startsWith('#')) throw err(no, 'text after a quoted string');
        return out;
      }
      out += s[i];
    }
    throw err(no, 'unterminated string');
  }
  s = stripComment(s);
  if (s === '[]') return [];
  if (s === '{}') return {};
  if ('[]{}&*!|>%@`,'.includes(c) || s.startsWith('- ') || s === '-' || s.startsWith('? ') || s.includes(': ') || s.endsWith(':')) {
    throw err(no, 'unsupported YAML construct');
  }
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  if (s === 'null' || s === 'Null' || s === 'NULL' || s === '~') return null;
  if (INT.test(s)) return Number(s);
  if (FLOAT.test(s)) return Number(s);
  return s;
}

const isItem = (t) => t === '-' || t.startsWith('- ');

/** Parses text; throws SyntaxError for anything outside the subset. */
function loads(text) {
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const lines = [];
  text.split('\n').forEach((raw0, idx) => {
    const no = idx + 1;
    const raw = raw0.endsWith('\r') ? raw0.slice(0, -1) : raw0;
    const body = raw.replace(/^ +/, '');
    if (body === '' || body.startsWith('#')) return;
    if (body.startsWith('\t')) throw err(no, 'tab in indentation');
    if (body.startsWith('---') || body.startsWith('...')) throw err(no, 'document markers are not supported');
    lines.push({ no, indent: raw.length - body.length, text: body.replace(/[ \t]+$/, '') });
  });
  if (!lines.length) return null;
  const [value, pos] = block(lines, 0, lines[0].indent, 0);
  if (pos !== lines.length) throw err(lines[pos].no, 'unexpected indentation');
  return value;
}

function block(lines, pos, indent, depth) {
  if (depth > MAX_DEPTH) throw err(lines[pos].no, 'nested too deeply');
  return isItem(lines[pos].text) ? sequence(lines, pos, indent) : mapping(lines, pos, indent, depth);
}

function sequence(lines, pos, indent) {
  const out = [];
  while (pos < lines.length && lines[pos].indent === indent && isItem(lines[pos].text)) {
    const ln = lines[pos];
    const item = ln.text.slice(1);
    if (item.trim() === '') throw err(ln.no, 'nested collections in sequences are not supported');
    out.push(scalar(item, ln.no));
    pos++;
  }
  if (pos < lines.length && lines[pos].indent > indent) throw err(lines[pos].no, 'unexpected indentation');
  return [out, pos];
}

function mapping(lines, pos, indent, depth) {
  const out = Object.create(null);
  while (pos < lines.length && lines[pos].indent === indent) {
    const ln = lines[pos];
    if (isItem(ln.text)) throw err(ln.no, 'sequence item where a key was expected');
    const m = KEY.exec(ln.text);
    if (!m) throw err(ln.no, "expected 'key: value'");
    const [, key, rest] = m;
    if (Object.prototype.hasOwnProperty.call(out, key)) throw err(ln.no, `duplicate key ${JSON.stringify(key.slice(0, 40))}`);
    pos++;
    if (rest !== undefined && rest.trim() !== '' && !rest.trimStart().startsWith('#')) {
      out[key] = scalar(rest, ln.no);
      continue;
    }
    if (pos < lines.length && (lines[pos].indent > indent || (lines[pos].indent === indent && isItem(lines[pos].text)))) {
      [out[key], pos] = block(lines, pos, lines[pos].indent, depth + 1);
    } else {
      out[key] = null;
    }
  }
  if (pos < lines.length && lines[pos].indent > indent) throw err(lines[pos].no, 'unexpected indentation');
  return [out, pos];
}

module.exports = { loads };
