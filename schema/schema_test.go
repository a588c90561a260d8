package schema_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/schema"
)

func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        *schema.Schema
		path     string
		contains string
	}{
		{"no format", &schema.Schema{}, "/format", "format is missing"},
		{"unknown format", &schema.Schema{Format: "josnl"}, "/format", `did you mean "jsonl"?`},
		{"columns on jsonl", &schema.Schema{Format: schema.JSONL, Columns: []schema.Column{{Name: "a", Type: schema.String}}}, "/columns", "columns are for format csv"},
		{"json_schema on csv", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a", Type: schema.String}}, JSONSchema: []byte(`{}`)}, "/json_schema", "formats jsonl and json"},
		{"no columns", &schema.Schema{Format: schema.CSV}, "/columns", "at least one column"},
		{"unnamed column", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Type: schema.String}}}, "/columns/0/name", "no name"},
		{"twice", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a", Type: schema.String}, {Name: "a", Type: schema.Integer}}}, "/columns/1/name", "declared twice"},
		{"no type", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a"}}}, "/columns/0/type", "has no type"},
		{"unknown type", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a", Type: "integr"}}}, "/columns/0/type", `did you mean "integer"?`},
		{"bad pattern", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a", Type: schema.String, Pattern: "("}}}, "/columns/0/pattern", "not a valid regular expression"},
		{"empty enum", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a", Type: schema.String, Enum: []string{}}}}, "/columns/0/enum", "enum is empty"},
		{"enum of wrong type", &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "a", Type: schema.Integer, Enum: []string{"1", "x"}}}}, "/columns/0/enum/1", "not an integer"},
		{"not JSON", &schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{`)}, "/json_schema", "not JSON"},
		{"not a JSON Schema", &schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{"type": "strnig"}`)}, "/json_schema/type", "not a valid JSON Schema (draft 2020-12): at /type"},
		{"remote ref", &schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{"$ref": "https://example.com/s.json"}`)}, "/json_schema", "not a valid JSON Schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schema.Compile(tc.s)
			var se *schema.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.path, se.Path)
			assert.Contains(t, err.Error(), tc.contains)
		})
	}
}

func TestParse(t *testing.T) {
	s, err := schema.Parse([]byte(`{"format":"csv","columns":[{"name":"id","type":"integer"},{"name":"amount","type":"number","nullable":true}]}`))
	require.NoError(t, err)
	assert.Equal(t, "csv: id integer, amount number (nullable)", s.String())
	enc, err := s.Encode()
	require.NoError(t, err)
	again, err := schema.Parse(enc)
	require.NoError(t, err)
	assert.True(t, s.Equal(again))
	_, err = schema.Parse([]byte(`{"format":"csv","colums":[]}`))
	assert.ErrorContains(t, err, `unknown field "colums"`)
	_, err = schema.Parse([]byte(`{"format":"bytes"} {}`))
	assert.ErrorContains(t, err, "data after")
}

var typed = &schema.Schema{Format: schema.CSV, Columns: []schema.Column{
	{Name: "s", Type: schema.String, Nullable: true},
	{Name: "i", Type: schema.Integer, Nullable: true},
	{Name: "n", Type: schema.Number, Nullable: true},
	{Name: "b", Type: schema.Boolean, Nullable: true},
	{Name: "d", Type: schema.Date, Nullable: true},
	{Name: "t", Type: schema.Timestamp, Nullable: true},
	{Name: "p", Type: schema.String, Nullable: true, Pattern: "C[0-9]{4}"},
	{Name: "e", Type: schema.String, Nullable: true, Enum: []string{"EUR", "USD"}},
	{Name: "r", Type: schema.Integer},
}}

const typedHeader = "s,i,n,b,d,t,p,e,r\n"

// TestCSVTypes checks each type and rule, one value at a time, in column
// 1 to 9 of the typed contract.
func TestCSVTypes(t *testing.T) {
	c, err := schema.Compile(typed)
	require.NoError(t, err)
	for _, tc := range []struct {
		col  int // 1-based
		good []string
		bad  map[string]string // value -> rule fragment
	}{
		{1, []string{"x", "héllo", `"a,b"`, `"say ""hi"""`, "\"two\nlines\""}, map[string]string{"\xff": "not UTF-8"}},
		{2, []string{"0", "-12", "+7", "9223372036854775807", "-9223372036854775808"}, map[string]string{
			"1.5": "not an integer", "1e3": "not an integer", "x": "not an integer", "9223372036854775808": "not an integer", "-": "not an integer", " 1": "not an integer"}},
		{3, []string{"0", "-0.5", "1e9", "1.", ".5", "+3E-2"}, map[string]string{
			"1e": "not a number", "0x10": "not a number", "NaN": "not a number", "Inf": "not a number", "1_000": "not a number", ".": "not a number", "1.2.3": "not a number"}},
		{4, []string{"true", "false"}, map[string]string{"TRUE": "not a boolean", "1": "not a boolean", "yes": "not a boolean"}},
		{5, []string{"2024-02-29", "2000-02-29", "1999-12-31"}, map[string]string{
			"2023-02-29": "not a date", "1900-02-29": "not a date", "2024-13-01": "not a date", "2024-04-31": "not a date", "2024-1-01": "not a date", "20240101": "not a date"}},
		{6, []string{"2024-05-01T06:51:23Z", "2024-05-01T06:51:23.123456789+02:00", "2024-05-01T23:59:59-11:30"}, map[string]string{
			"2024-05-01 06:51:23Z": "not a timestamp", "2024-05-01T06:51:23": "not a timestamp", "2024-05-01T24:00:00Z": "not a timestamp",
			"2024-05-01T06:51:60Z": "not a timestamp", "2024-05-01T06:51:23.Z": "not a timestamp", "2024-02-30T00:00:00Z": "not a timestamp", "2024-05-01t06:51:23z": "not a timestamp"}},
		{7, []string{"C0001", "C9999"}, map[string]string{"C001": "does not match", "xC0001": "does not match", "C00011": "does not match"}},
		{8, []string{"EUR", "USD"}, map[string]string{"eur": "not one of", "GBP": "not one of"}},
		{9, []string{"1"}, map[string]string{"": "is empty, and the column is not nullable"}},
	} {
		row := func(v string) string {
			fields := []string{"", "", "", "", "", "", "", "", "1"}
			fields[tc.col-1] = v
			return typedHeader + strings.Join(fields, ",") + "\n"
		}
		for _, g := range tc.good {
			assert.NoError(t, validate(c, row(g)), "column %d value %q", tc.col, g)
		}
		for b, rule := range tc.bad {
			err := validate(c, row(b))
			var vi *schema.Violation
			if assert.ErrorAs(t, err, &vi, "column %d value %q", tc.col, b) {
				assert.Equal(t, tc.col, vi.Column)
				assert.Equal(t, typed.Columns[tc.col-1].Name, vi.Field)
				assert.EqualValues(t, 2, vi.Line)
				assert.EqualValues(t, 1, vi.Record)
				assert.Contains(t, vi.Rule, rule)
				assert.Equal(t, "s,i,n,b,d,t,p,e,r", vi.Header)
			}
		}
	}
}

func validate(c *schema.Contract, data string) error {
	v := c.NewValidator("d")
	if _, err := v.Write([]byte(data)); err != nil {
		return err
	}
	return v.Close()
}

func TestCSVRecords(t *testing.T) {
	c, err := schema.Compile(&schema.Schema{Format: schema.CSV, Columns: []schema.Column{
		{Name: "id", Type: schema.Integer}, {Name: "note", Type: schema.String, Nullable: true}}})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, data string
		line, rec  int64
		rule       string
	}{
		{"ok", "id,note\n1,a\n2,\n", 0, 0, ""},
		{"crlf", "id,note\r\n1,a\r\n2,\"b\r\nc\"\r\n", 0, 0, ""},
		{"only header", "id,note\n", 0, 0, ""},
		{"empty", "", 1, 0, "the data is empty"},
		{"wrong header", "id,notes\n1,a\n", 1, 0, `names column 2 "notes", but the contract names it "note"`},
		{"short header", "id\n1\n", 1, 0, "the header has 1 columns, but the contract declares 2"},
		{"long header", "id,note,x\n", 1, 0, "the header has 3 columns, but the contract declares 2"},
		{"few fields", "id,note\n1,a\n2\n", 3, 2, "the record has 1 fields, but the header has 2 columns"},
		{"many fields", "id,note\n1,a,b\n", 2, 1, "has 3 fields"},
		{"blank line", "id,note\n1,a\n\n2,b\n", 3, 2, "the line is empty"},
		{"bare quote", "id,note\n1,a\"b\n", 2, 1, "a quote inside an unquoted value"},
		{"after quote", "id,note\n1,\"a\"b\n", 2, 1, "after its closing quote"},
		{"unclosed quote", "id,note\n1,\"a\n", 2, 1, "no line ending"},
		{"line after multiline", "id,note\n1,\"a\nb\"\nx,c\n", 4, 2, `"x" is not an integer`},
		{"truncated", "id,note\n1,a\n2,b", 3, 2, "the last record has no line ending"},
		{"truncated header", "id,no", 1, 0, "the header has no line ending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every way of cutting the data into two writes gives the same
			// answer as one write.
			for cut := 0; cut <= len(tc.data); cut++ {
				v := c.NewValidator("orders")
				_, err := v.Write([]byte(tc.data[:cut]))
				if err == nil {
					_, err = v.Write([]byte(tc.data[cut:]))
				}
				if err == nil {
					err = v.Close()
				}
				if tc.rule == "" {
					require.NoError(t, err, "cut at %d", cut)
					continue
				}
				var vi *schema.Violation
				require.ErrorAs(t, err, &vi, "cut at %d", cut)
				assert.Equal(t, tc.line, vi.Line, "cut at %d", cut)
				assert.Equal(t, tc.rec, vi.Record, "cut at %d", cut)
				assert.Contains(t, vi.Rule, tc.rule, "cut at %d", cut)
				assert.Equal(t, "orders", vi.Dataset)
				// Once broken, the validator stays broken.
				_, again := v.Write([]byte("1,a\n"))
				assert.Equal(t, err, again)
			}
		})
	}
}

func TestViolationMessage(t *testing.T) {
	c, err := schema.Compile(typed)
	require.NoError(t, err)
	err = validate(c, typedHeader+",,,,,,,,1\n,12x,,,,,,,1\n")
	assert.EqualError(t, err, `dataset "d": line 3 (record 2), column 2 "i": "12x" is not an integer (64-bit, like -12 or 7) (header s,i,n,b,d,t,p,e,r)`)

	j, err := schema.Compile(&schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{"properties": {"a": {"properties": {"b": {"type": "integer"}}}}}`)})
	require.NoError(t, err)
	err = validate(j, "{\"a\":{\"b\":1}}\n{\"a\":{\"b\":\"x\"}}\n")
	assert.EqualError(t, err, `dataset "d": line 2 (record 2), field /a/b: got string, want integer`)
}

var orderSchema = []byte(`{
  "type": "object",
  "properties": {
    "id": {"type": "integer", "minimum": 1, "exclusiveMaximum": 1000},
    "name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]"},
    "amount": {"type": ["number", "null"], "maximum": 99.5},
    "tags": {"type": "array", "items": {"type": "string"}},
    "cur": {"enum": ["EUR", "USD"]},
    "meta": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "additionalProperties": false}
  },
  "required": ["id", "name"],
  "additionalProperties": false
}`)

func TestJSONLRules(t *testing.T) {
	for _, fast := range []bool{true, false} {
		s := orderSchema
		if !fast {
			// $defs takes the schema out of the fast subset.
			s = []byte(strings.Replace(string(orderSchema), `"type": "object",`, `"type": "object", "$defs": {},`, 1))
		}
		c, err := schema.Compile(&schema.Schema{Format: schema.JSONL, JSONSchema: s})
		require.NoError(t, err)
		require.Equal(t, fast, schema.FastPath(c))
		for _, tc := range []struct {
			rec, field, rule string
		}{
			{`{"id": 1, "name": "a"}`, "", ""},
			{`{"id": 1.0, "name": "a", "amount": null, "tags": [], "cur": "EUR", "meta": {"ok": true}}`, "", ""},
			{` {"id":999,"name":"abcde","amount":99.5,"tags":["x","y"]} `, "", ""},
			{`{"id": 1, "name": "a\u00e9\ud83d\ude00"}`, "", ""},
			{`{"name": "a"}`, "", "id"},
			{`{"id": 0, "name": "a"}`, "/id", "minimum"},
			{`{"id": 1000, "name": "a"}`, "/id", "exclusiveMaximum"},
			{`{"id": 1.5, "name": "a"}`, "/id", "integer"},
			{`{"id": "1", "name": "a"}`, "/id", "integer"},
			{`{"id": 1, "name": ""}`, "/name", "minLength"},
			{`{"id": 1, "name": "abcdef"}`, "/name", "maxLength"},
			{`{"id": 1, "name": "Abc"}`, "/name", "pattern"},
			{`{"id": 1, "name": "a", "amount": 100}`, "/amount", "maximum"},
			{`{"id": 1, "name": "a", "tags": [1]}`, "/tags/0", "string"},
			{`{"id": 1, "name": "a", "cur": "GBP"}`, "/cur", "enum"},
			{`{"id": 1, "name": "a", "cur": 1}`, "/cur", "enum"},
			{`{"id": 1, "name": "a", "meta": {"ok": 1}}`, "/meta/ok", "boolean"},
			{`{"id": 1, "name": "a", "meta": {"no": 1}}`, "/meta", "additionalProperties"},
			{`{"id": 1, "name": "a", "extra": 1}`, "", "additionalProperties"},
			{`[1]`, "", "object"},
			{`{"id": 1, "name": "a"`, "", "not valid JSON"},
			{`{"id": 1, "name": "a"} x`, "", "not valid JSON"},
			{`{"id": 01, "name": "a"}`, "", "not valid JSON"},
			{"{\"id\": 1, \"name\": \"a\xff\"}", "", "not UTF-8"},
		} {
			err := validate(c, tc.rec+"\n")
			if tc.rule == "" {
				assert.NoError(t, err, "fast %v: %s", fast, tc.rec)
				continue
			}
			var vi *schema.Violation
			if assert.ErrorAs(t, err, &vi, "fast %v: %s", fast, tc.rec) {
				assert.Equal(t, tc.field, vi.Field, "fast %v: %s: %v", fast, tc.rec, err)
				assert.Contains(t, vi.Rule, tc.rule, "fast %v: %s", fast, tc.rec)
				assert.EqualValues(t, 1, vi.Line)
			}
		}
	}
}

func TestJSONLFraming(t *testing.T) {
	c, err := schema.Compile(&schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{"type": "object"}`)})
	require.NoError(t, err)
	data := "{\"a\": 1}\n{\"b\": \"x\\ny\"}\r\n{}\n"
	for cut := 0; cut <= len(data); cut++ {
		for cut2 := cut; cut2 <= len(data); cut2++ {
			v := c.NewValidator("events")
			for _, p := range []string{data[:cut], data[cut:cut2], data[cut2:]} {
				_, err := v.Write([]byte(p))
				require.NoError(t, err)
			}
			require.NoError(t, v.Close())
			assert.EqualValues(t, 3, v.Records())
		}
	}
	for _, tc := range []struct{ data, rule string }{
		{"{}\n{\"a\":", "the last record has no line ending"},
		{"{}\n{}", "the last record has no line ending"},
		{"{}\n\n{}\n", "the line is empty"},
		{"{}\n5\n", "got integer, want object"},
	} {
		err := validate(c, tc.data)
		var vi *schema.Violation
		require.ErrorAs(t, err, &vi, tc.data)
		assert.EqualValues(t, 2, vi.Line, tc.data)
		assert.Contains(t, vi.Rule, tc.rule)
	}
	assert.NoError(t, validate(c, ""), "no records is valid JSON Lines")
}

func TestJSONAndBytes(t *testing.T) {
	j, err := schema.Compile(&schema.Schema{Format: schema.JSON, JSONSchema: []byte(`{"type": "array", "items": {"type": "integer"}}`)})
	require.NoError(t, err)
	assert.NoError(t, validate(j, "[1,\n 2,\n 3]\n"))
	assert.ErrorContains(t, validate(j, "[1, 2.5]"), "field /1: got number, want integer")
	assert.ErrorContains(t, validate(j, ""), "the data is empty")
	assert.ErrorContains(t, validate(j, "[1] [2]"), "not valid JSON")

	b, err := schema.Compile(&schema.Schema{Format: schema.Bytes})
	require.NoError(t, err)
	assert.NoError(t, validate(b, "\xff\x00anything"))
}

func TestLimits(t *testing.T) {
	c, err := schema.Compile(&schema.Schema{Format: schema.JSONL})
	require.NoError(t, err)
	v := c.NewValidator("big")
	chunk := []byte(`"` + strings.Repeat("x", 1<<20))
	var werr error
	for i := 0; i < 20 && werr == nil; i++ {
		_, werr = v.Write(chunk)
	}
	var vi *schema.Violation
	require.True(t, errors.As(werr, &vi), "a record past MaxRecord is refused: %v", werr)
	assert.Contains(t, vi.Rule, "longer than 16 MiB")
}
