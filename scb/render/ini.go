package render

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// A tiny INI emitter and a parser for what it emits. INI has no quoting
// that every reader agrees on (Python's configparser interpolates '%',
// other readers strip inline comments at ';' or '#'), so instead of
// escaping, the emitter refuses any value that would read differently in
// different parsers. Section and key names are constants of this package.

var iniName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

type iniWriter struct {
	b   strings.Builder
	err error
}

func (w *iniWriter) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *iniWriter) comment(lines ...string) {
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			w.setErr(fmt.Errorf("ini: comment contains a line break"))
			return
		}
		if l == "" {
			w.b.WriteString("#\n")
		} else {
			w.b.WriteString("# " + l + "\n")
		}
	}
}

func (w *iniWriter) section(name string) {
	if !iniName.MatchString(name) {
		w.setErr(fmt.Errorf("ini: invalid section name %q", name))
	}
	if w.b.Len() > 0 {
		w.b.WriteString("\n")
	}
	w.b.WriteString("[" + name + "]\n")
}

func (w *iniWriter) set(key, value string) {
	if !iniName.MatchString(key) {
		w.setErr(fmt.Errorf("ini: invalid key %q", key))
	}
	if err := checkINIValue(value); err != nil {
		w.setErr(fmt.Errorf("ini: value of %s: %w", key, err))
	}
	w.b.WriteString(key + " = " + value + "\n")
}

// checkINIValue rejects values that INI readers disagree on.
func checkINIValue(v string) error {
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("leading or trailing space cannot be written in INI")
	}
	for _, r := range v {
		switch {
		case r == '%' || r == ';' || r == '#':
			return fmt.Errorf("character %q cannot be written safely in INI", r)
		case !unicode.IsPrint(r):
			return fmt.Errorf("control or non-printable character cannot be written in INI")
		}
	}
	return nil
}

// parseINI returns section -> key -> value ("" is the section before any
// header). Duplicate sections or keys and unparseable lines are errors.
func parseINI(src string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	sec := ""
	for n, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		bad := func(why string) error { return fmt.Errorf("ini line %d: %s", n+1, why) }
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
			continue
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return nil, bad("malformed section header")
			}
			sec = line[1 : len(line)-1]
			if _, dup := out[sec]; dup {
				return nil, bad("duplicate section " + sec)
			}
			out[sec] = map[string]string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, bad("not a key = value line")
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if out[sec] == nil {
			out[sec] = map[string]string{}
		}
		if _, dup := out[sec][k]; dup {
			return nil, bad("duplicate key " + k)
		}
		out[sec][k] = v
	}
	return out, nil
}
