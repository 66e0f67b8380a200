package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// A tiny HOCON emitter and a parser for exactly what it emits. Keys are
// constants of this package (checked against hoconKey); user data only ever
// appears in quoted strings, which HOCON reads like JSON strings and never
// expands (no substitutions inside quotes).

var (
	hoconKey   = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$`)
	hoconSubst = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$`)
	hoconToken = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.]*( [a-z]+)?$`)
)

// hval is one HOCON value: a quoted string, an unquoted token (class
// names, numbers, booleans, "5000 milliseconds"), a list of quoted strings,
// or a concatenation of substitutions and quoted strings.
type hval struct {
	list   []string
	isList bool
	parts  []hpart
}

type hpart struct {
	text     string
	subst    bool // ${text}
	optional bool // ${?text}
	quoted   bool
}

func hstr(s string) hval    { return hval{parts: []hpart{{text: s, quoted: true}}} }
func htok(s string) hval    { return hval{parts: []hpart{{text: s}}} }
func hlist(s []string) hval { return hval{list: s, isList: true} }

// hsub is ${path}, or ${?path} when optional; a following quoted suffix is
// concatenated.
func hsub(path string, optional bool, suffix string) hval {
	v := hval{parts: []hpart{{text: path, subst: true, optional: optional}}}
	if suffix != "" {
		v.parts = append(v.parts, hpart{text: suffix, quoted: true})
	}
	return v
}

// String is the canonical form used by checks: quoted text unescaped,
// substitutions as ${x} / ${?x}, lists as JSON.
func (v hval) String() string {
	if v.isList {
		b, _ := json.Marshal(v.list)
		return string(b)
	}
	var b strings.Builder
	for _, p := range v.parts {
		switch {
		case p.subst && p.optional:
			b.WriteString("${?" + p.text + "}")
		case p.subst:
			b.WriteString("${" + p.text + "}")
		default:
			b.WriteString(p.text)
		}
	}
	return b.String()
}

type hoconWriter struct {
	b     strings.Builder
	depth int
	err   error
}

func (w *hoconWriter) comment(lines ...string) {
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			w.setErr(fmt.Errorf("hocon: comment contains a line break"))
			return
		}
		w.indent()
		if l == "" {
			w.b.WriteString("#\n")
			continue
		}
		w.b.WriteString("# " + l + "\n")
	}
}

func (w *hoconWriter) blank() { w.b.WriteString("\n") }

func (w *hoconWriter) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *hoconWriter) indent() { w.b.WriteString(strings.Repeat("  ", w.depth)) }

func (w *hoconWriter) open(key string) {
	if !hoconKey.MatchString(key) {
		w.setErr(fmt.Errorf("hocon: invalid key %q", key))
	}
	w.indent()
	w.b.WriteString(key + " {\n")
	w.depth++
}

func (w *hoconWriter) close() {
	w.depth--
	w.indent()
	w.b.WriteString("}\n")
}

func (w *hoconWriter) set(key string, v hval) {
	if !hoconKey.MatchString(key) {
		w.setErr(fmt.Errorf("hocon: invalid key %q", key))
	}
	w.indent()
	w.b.WriteString(key + " = ")
	switch {
	case v.isList:
		w.b.WriteString("[")
		for i, s := range v.list {
			if i > 0 {
				w.b.WriteString(", ")
			}
			w.b.WriteString(hquote(s))
		}
		w.b.WriteString("]")
	default:
		for _, p := range v.parts {
			switch {
			case p.subst:
				if !hoconSubst.MatchString(p.text) {
					w.setErr(fmt.Errorf("hocon: invalid substitution %q", p.text))
				}
				if p.optional {
					w.b.WriteString("${?" + p.text + "}")
				} else {
					w.b.WriteString("${" + p.text + "}")
				}
			case p.quoted:
				w.b.WriteString(hquote(p.text))
			default:
				if !hoconToken.MatchString(p.text) {
					w.setErr(fmt.Errorf("hocon: invalid unquoted value %q", p.text))
				}
				w.b.WriteString(p.text)
			}
		}
	}
	w.b.WriteString("\n")
}

// hquote writes s as a HOCON quoted string (the JSON string syntax).
// Non-ASCII is escaped too, so the file is plain ASCII.
func hquote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r1, r2 := utf16Surrogates(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// parseHOCON reads the subset hoconWriter emits and returns every value by
// its full path. It rejects anything else (includes, +=, objects as
// values, duplicate keys), so a check never trusts a construct it does not
// understand.
func parseHOCON(src string) (map[string]hval, error) {
	out := map[string]hval{}
	var stack []string
	for n, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		bad := func(why string) error { return fmt.Errorf("hocon line %d: %s", n+1, why) }
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//"):
			continue
		case line == "}":
			if len(stack) == 0 {
				return nil, bad("unbalanced }")
			}
			stack = stack[:len(stack)-1]
			continue
		case strings.HasSuffix(line, " {"):
			key := strings.TrimSuffix(line, " {")
			if !hoconKey.MatchString(key) {
				return nil, bad("invalid key")
			}
			stack = append(stack, key)
			continue
		}
		key, rest, ok := strings.Cut(line, " = ")
		if !ok || !hoconKey.MatchString(key) {
			return nil, bad("not a key = value line")
		}
		full := strings.Join(append(append([]string{}, stack...), key), ".")
		v, err := parseHValue(rest)
		if err != nil {
			return nil, bad(err.Error())
		}
		if _, dup := out[full]; dup {
			// Allowed only for the "default, then optional override" pair.
			if len(v.parts) != 1 || !v.parts[0].optional {
				return nil, bad("duplicate key " + full)
			}
			full += "#override"
			if _, dup := out[full]; dup {
				return nil, bad("duplicate key " + full)
			}
		}
		out[full] = v
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("hocon: unclosed block %s", strings.Join(stack, "."))
	}
	return out, nil
}

func parseHValue(s string) (hval, error) {
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return hval{}, fmt.Errorf("unterminated list")
		}
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return hval{}, fmt.Errorf("list is not a list of quoted strings")
		}
		return hlist(list), nil
	}
	var v hval
	for s != "" {
		switch {
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return hval{}, fmt.Errorf("unterminated substitution")
			}
			p := hpart{text: s[2:end], subst: true}
			if strings.HasPrefix(p.text, "?") {
				p.text, p.optional = p.text[1:], true
			}
			if !hoconSubst.MatchString(p.text) {
				return hval{}, fmt.Errorf("invalid substitution")
			}
			v.parts = append(v.parts, p)
			s = s[end+1:]
		case strings.HasPrefix(s, `"`):
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return hval{}, fmt.Errorf("unterminated string")
			}
			var text string
			if err := json.Unmarshal([]byte(s[:end+1]), &text); err != nil {
				return hval{}, fmt.Errorf("invalid quoted string")
			}
			v.parts = append(v.parts, hpart{text: text, quoted: true})
			s = s[end+1:]
		default:
			if len(v.parts) != 0 || !hoconToken.MatchString(s) {
				return hval{}, fmt.Errorf("invalid unquoted value %q", s)
			}
			v.parts = append(v.parts, hpart{text: s})
			s = ""
		}
	}
	if len(v.parts) == 0 {
		return hval{}, fmt.Errorf("empty value")
	}
	return v, nil
}
