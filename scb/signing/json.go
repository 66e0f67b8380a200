package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// checkJSONObject reports whether data is exactly one JSON object with no
// duplicate member names at any depth and nothing but white space after
// it. Duplicate names are rejected because JSON parsers in other languages
// disagree on which value wins.
func checkJSONObject(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return errors.New(describeJSONError(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	if err := walkObject(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// walkObject consumes the members of an object whose '{' has been read.
func walkObject(dec *json.Decoder) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New(describeJSONError(err))
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("malformed JSON object")
		}
		if seen[name] {
			return fmt.Errorf("duplicate member %s", quote(name))
		}
		seen[name] = true
		if err := walkValue(dec); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return errors.New(describeJSONError(err))
	}
	return nil
}

func walkValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return errors.New(describeJSONError(err))
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return walkObject(dec)
	case '[':
		for dec.More() {
			if err := walkValue(dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return errors.New(describeJSONError(err))
		}
		return nil
	}
	return errors.New("malformed JSON")
}

// describeJSONError turns a decoding error into a message that does not
// repeat input beyond short, quoted member names.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("member %s has the wrong type (%s)", quote(te.Field), te.Value)
		}
		return fmt.Sprintf("wrong JSON type (%s)", te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown member " + quote(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return "invalid JSON"
}

// quote quotes s for an error message, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
