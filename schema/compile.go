package schema

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/glacier-pipeline/glacier/internal/suggest"
)

// Error is a problem with a Schema itself, found by Compile.
type Error struct {
	// Path locates the culprit in the schema, as a JSON Pointer:
	// "/columns/2/pattern", "/json_schema". Empty means the whole schema.
	Path string
	Msg  string
}

// Error returns "schema /columns/2/type: ..." or "schema: ...".
func (e *Error) Error() string {
	if e.Path == "" {
		return "schema: " + e.Msg
	}
	return "schema " + e.Path + ": " + e.Msg
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Contract is a compiled Schema: what validators check against. It is
// immutable and safe for concurrent use.
type Contract struct {
	schema Schema
	cols   []column
	header []byte // the header line's fields joined by commas, for the fast path
	// lib validates JSON values; fast, when set, does the same for the
	// subset of JSON Schema it knows, without decoding into Go values.
	lib  *jsonschema.Schema
	fast *jnode
}

// column is a compiled Column.
type column struct {
	Column
	re   *regexp.Regexp
	enum map[string]bool
}

// Compile checks s and compiles it. A problem is an *Error locating it.
func Compile(s *Schema) (*Contract, error) {
	if s == nil {
		return nil, errorf("", "no schema")
	}
	c := &Contract{schema: *s}
	if !isFormat(s.Format) {
		names := make([]string, 0, 4)
		for _, f := range Formats() {
			names = append(names, string(f))
		}
		if s.Format == "" {
			return nil, errorf("/format", "format is missing; set it to one of %s", strings.Join(names, ", "))
		}
		return nil, errorf("/format", "unknown format %q%s; use one of %s", s.Format, suggest.DidYouMean(string(s.Format), names), strings.Join(names, ", "))
	}
	if s.Format != CSV && len(s.Columns) > 0 {
		return nil, errorf("/columns", "columns are for format csv, not %s; describe %s records with json_schema", s.Format, s.Format)
	}
	if s.Format != JSONL && s.Format != JSON && len(s.JSONSchema) > 0 {
		return nil, errorf("/json_schema", "json_schema is for formats jsonl and json, not %s", s.Format)
	}
	switch s.Format {
	case CSV:
		if err := c.compileColumns(); err != nil {
			return nil, err
		}
	case JSONL, JSON:
		if err := c.compileJSON(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Schema returns the schema c was compiled from. Its slices are c's own:
// do not modify them.
func (c *Contract) Schema() *Schema { s := c.schema; return &s }

func (c *Contract) compileColumns() error {
	s := &c.schema
	if len(s.Columns) == 0 {
		return errorf("/columns", "a csv schema needs at least one column: a name and a type each")
	}
	types := make([]string, 0, 6)
	for _, t := range Types() {
		types = append(types, string(t))
	}
	seen := map[string]int{}
	var header []string
	for i, col := range s.Columns {
		at := fmt.Sprintf("/columns/%d", i)
		switch {
		case col.Name == "":
			return errorf(at+"/name", "column %d has no name", i+1)
		case !utf8Valid(col.Name) || strings.ContainsAny(col.Name, "\r\n"):
			return errorf(at+"/name", "column %d's name %q must be one line of UTF-8", i+1, col.Name)
		}
		if j, dup := seen[col.Name]; dup {
			return errorf(at+"/name", "column %q is declared twice (columns %d and %d); rename one", col.Name, j+1, i+1)
		}
		seen[col.Name] = i
		known := false
		for _, t := range Types() {
			known = known || col.Type == t
		}
		if !known {
			if col.Type == "" {
				return errorf(at+"/type", "column %q has no type; use one of %s", col.Name, strings.Join(types, ", "))
			}
			return errorf(at+"/type", "column %q has unknown type %q%s; use one of %s", col.Name, col.Type,
				suggest.DidYouMean(string(col.Type), types), strings.Join(types, ", "))
		}
		cc := column{Column: col}
		if col.Pattern != "" {
			_, err := regexp.Compile(col.Pattern)
			re, err2 := regexp.Compile(`^(?:` + col.Pattern + `)$`)
			if err == nil {
				err = err2
			}
			if err != nil {
				return errorf(at+"/pattern", "column %q: pattern %q is not a valid regular expression: %v", col.Name, col.Pattern, unprefix(err))
			}
			cc.re = re
		}
		if col.Enum != nil {
			if len(col.Enum) == 0 {
				return errorf(at+"/enum", "column %q: enum is empty, so no value could match; list the values allowed or remove enum", col.Name)
			}
			cc.enum = map[string]bool{}
			for k, v := range col.Enum {
				if v == "" {
					return errorf(fmt.Sprintf("%s/enum/%d", at, k), "column %q: enum lists the empty value; set nullable: true to allow empty values", col.Name)
				}
				if msg := checkTyped(col.Type, []byte(v)); msg != "" {
					return errorf(fmt.Sprintf("%s/enum/%d", at, k), "column %q: enum value %q is not of the column's type: %s", col.Name, v, msg)
				}
				cc.enum[v] = true
			}
		}
		c.cols = append(c.cols, cc)
		header = append(header, col.Name)
	}
	var b bytes.Buffer
	for i, h := range header {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteCSV(h))
	}
	c.header = b.Bytes()
	return nil
}

// quoteCSV quotes a header field as RFC 4180 writers do, only when needed.
func quoteCSV(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") && !strings.HasPrefix(s, " ") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func unprefix(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

func (c *Contract) compileJSON() error {
	raw := c.schema.JSONSchema
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("true")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return errorf("/json_schema", "json_schema is not JSON: %v", err)
	}
	const loc = "glacier-contract.json"
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	// The schema is one document: references to anything but itself are
	// refused rather than fetched.
	comp.UseLoader(noLoader{})
	if err := comp.AddResource(loc, doc); err != nil {
		return errorf("/json_schema", "%v", err)
	}
	lib, err := comp.Compile(loc)
	if err != nil {
		return schemaError(err)
	}
	c.lib = lib
	c.fast = fastSubset(doc)
	return nil
}

// schemaError locates what is wrong with a JSON Schema: the first place
// the metaschema refuses, as a path under /json_schema.
func schemaError(err error) *Error {
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if !errors.As(err, &sve) || !errors.As(sve.Err, &ve) {
		msg := err.Error()
		if i := strings.Index(msg, "glacier-contract.json"); i >= 0 {
			msg = msg[i+len("glacier-contract.json"):]
		}
		return errorf("/json_schema", "json_schema is not a valid JSON Schema (draft 2020-12): %s", msg)
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	path := "/json_schema"
	for _, p := range ve.InstanceLocation {
		path += "/" + strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	msg := ve.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		msg = rest
	}
	return errorf(path, "json_schema is not a valid JSON Schema (draft 2020-12): at %s: %s", strings.TrimPrefix(path, "/json_schema"), msg)
}

// noLoader refuses every external reference.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("json_schema refers to %s; a contract is one document (use $defs and local $ref)", url)
}
