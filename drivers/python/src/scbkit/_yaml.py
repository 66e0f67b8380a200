"""A strict reader for the small YAML subset scbkit writes (config/cassandra.yaml).

Block mappings with plain keys, block sequences of scalars, and scalars
(plain, 'single' or "double" quoted, ``[]`` and ``{}``); comments and blank
lines. Anything else (anchors, aliases, tags, flow collections, block
scalars, several documents, tabs for indentation, duplicate keys) is an
error, so a bundle can never steer the parser somewhere surprising. The
Node.js loader implements the same rules.
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Tuple

__all__ = ["loads"]

_KEY = re.compile(r"\A([A-Za-z0-9_][A-Za-z0-9_.-]*):(?: +(.*))?\Z")
_INT = re.compile(r"\A[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"\A[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0"}

MAX_DEPTH = 16


class _Line:
    __slots__ = ("no", "indent", "text")

    def __init__(self, no: int, indent: int, text: str):
        self.no, self.indent, self.text = no, indent, text


def _strip_comment(s: str) -> str:
    # Only for plain scalars: " #" starts a comment.
    i = s.find(" #")
    return (s[:i] if i >= 0 else s).rstrip(" ")


def _scalar(raw: str, no: int) -> Any:
    s = raw.strip(" ")
    if s == "" or s.startswith("#"):
        return None
    c = s[0]
    if c == '"':
        out, i = [], 1
        while i < len(s):
            ch = s[i]
            if ch == '"':
                rest = s[i + 1 :].strip(" ")
                if rest and not rest.startswith("#"):
                    raise ValueError("line %d: text after a quoted string" % no)
                return "".join(out)
            if ch == "\\":
                i += 1
                if i >= len(s):
                    break
                e = s[i]
                if e in _ESCAPES:
                    out.append(_ESCAPES[e])
                elif e in "xuU":
                    n = {"x": 2, "u": 4, "U": 8}[e]
                    h = s[i + 1 : i + 1 + n]
                    if len(h) != n or not re.fullmatch(r"[0-9A-Fa-f]+", h):
                        raise ValueError("line %d: bad escape" % no)
                    cp = int(h, 16)
                    if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                        raise ValueError("line %d: bad escape" % no)
                    out.append(chr(cp))
                    i += n
                else:
                    raise ValueError("line %d: bad escape" % no)
            else:
                out.append(ch)
            i += 1
        raise ValueError("line %d: unterminated string" % no)
    if c == "'":
        out, i = [], 1
        while i < len(s):
            if s[i] == "'":
                if s[i + 1 : i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                rest = s[i + 1 :].strip(" ")
                if rest and not rest.startswith("#"):
                    raise ValueError("line %d: text after a quoted string" % no)
                return "".join(out)
            out.append(s[i])
            i += 1
        raise ValueError("line %d: unterminated string" % no)
    s = _strip_comment(s)
    if s == "[]":
        return []
    if s == "{}":
        return {}
    if c in "[]{}&*!|>%@`," or s.startswith("- ") or s == "-" or s.startswith("? ") or ": " in s or s.endswith(":"):
        raise ValueError("line %d: unsupported YAML construct" % no)
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if s in ("null", "Null", "NULL", "~"):
        return None
    if _INT.match(s):
        return int(s)
    if _FLOAT.match(s):
        return float(s)
    return s


def loads(text: str) -> Any:
    """Parse text; raise ValueError for anything outside the subset."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines: List[_Line] = []
    for no, raw in enumerate(text.split("\n"), 1):
        raw = raw[:-1] if raw.endswith("\r") else raw
        body = raw.lstrip(" ")
        if body == "" or body.startswith("#"):
            continue
        if body.startswith("\t") or "\t" in raw[: len(raw) - len(body)]:
            raise ValueError("line %d: tab in indentation" % no)
        if body.startswith("---") or body.startswith("..."):
            raise ValueError("line %d: document markers are not supported" % no)
        lines.append(_Line(no, len(raw) - len(body), body.rstrip(" \t")))
    if not lines:
        return None
    value, pos = _block(lines, 0, lines[0].indent, 0)
    if pos != len(lines):
        raise ValueError("line %d: unexpected indentation" % lines[pos].no)
    return value


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith("- ")


def _block(lines: List[_Line], pos: int, indent: int, depth: int) -> Tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise ValueError("line %d: nested too deeply" % lines[pos].no)
    if _is_item(lines[pos].text):
        return _sequence(lines, pos, indent)
    return _mapping(lines, pos, indent, depth)


def _sequence(lines: List[_Line], pos: int, indent: int) -> Tuple[List[Any], int]:
    out: List[Any] = []
    while pos < len(lines) and lines[pos].indent == indent and _is_item(lines[pos].text):
        ln = lines[pos]
        item = ln.text[1:]
        if item.strip(" ") == "":
            raise ValueError("line %d: nested collections in sequences are not supported" % ln.no)
        out.append(_scalar(item, ln.no))
        pos += 1
    if pos < len(lines) and lines[pos].indent > indent:
        raise ValueError("line %d: unexpected indentation" % lines[pos].no)
    return out, pos


def _mapping(lines: List[_Line], pos: int, indent: int, depth: int) -> Tuple[dict, int]:
    out: dict = {}
    while pos < len(lines) and lines[pos].indent == indent:
        ln = lines[pos]
        if _is_item(ln.text):
            raise ValueError("line %d: sequence item where a key was expected" % ln.no)
        m = _KEY.match(ln.text)
        if not m:
            raise ValueError("line %d: expected 'key: value'" % ln.no)
        key, rest = m.group(1), m.group(2)
        if key in out:
            raise ValueError("line %d: duplicate key %r" % (ln.no, key[:40]))
        pos += 1
        if rest is not None and rest.strip(" ") != "" and not rest.lstrip(" ").startswith("#"):
            out[key] = _scalar(rest, ln.no)
            continue
        # A nested block: deeper, or a sequence at the same indentation.
        if pos < len(lines) and (lines[pos].indent > indent or (lines[pos].indent == indent and _is_item(lines[pos].text))):
            out[key], pos = _block(lines, pos, lines[pos].indent, depth + 1)
        else:
            out[key] = None
    if pos < len(lines) and lines[pos].indent > indent:
        raise ValueError("line %d: unexpected indentation" % lines[pos].no)
    return out, pos
