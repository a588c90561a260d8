package schema

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// checkLib validates one JSON value with the JSON Schema library: the
// path for schemas beyond the fast subset, and the reference the fuzz
// targets hold the fast path to.
func (c *Contract) checkLib(b []byte) *Violation {
	if !utf8.Valid(b) {
		return &Violation{Rule: "the record is not UTF-8 text"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &Violation{Rule: "the record is not valid JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Violation{Rule: "the record is not valid JSON: data after the JSON value"}
	}
	err := c.lib.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &Violation{Rule: err.Error()}
	}
	// The first leaf says what was broken, and where.
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	var path strings.Builder
	for _, p := range ve.InstanceLocation {
		path.WriteByte('/')
		path.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	msg := ve.Error()
	// The library's message starts with the location; keep what follows.
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		msg = rest
	}
	return &Violation{Field: path.String(), Rule: msg + " (JSON Schema keyword " + strings.Join(ve.ErrorKind.KeywordPath(), "/") + ")"}
}
