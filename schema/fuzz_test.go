package schema_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/schema"
)

// The fuzz targets hold the validators to independent, slower checks: CSV
// to encoding/csv and the standard library's parsers, JSON Lines to the
// JSON Schema library decoding each record. A validator must never accept
// what the reference refuses, and must accept what it accepts, but for the
// few things it is stricter about (said at each target). Whatever the
// input, and however it is cut into writes, it must not panic, and must
// give the same answer.

// run validates data written in two pieces, cut at cut.
func run(c *schema.Contract, data []byte, cut int) error {
	v := c.NewValidator("fuzz")
	cut = min(cut, len(data))
	if _, err := v.Write(data[:cut]); err != nil {
		return err
	}
	if _, err := v.Write(data[cut:]); err != nil {
		return err
	}
	return v.Close()
}

func sameAnswer(t *testing.T, whole, cut error) {
	t.Helper()
	if (whole == nil) != (cut == nil) || whole != nil && whole.Error() != cut.Error() {
		t.Fatalf("one write says %v, two writes say %v", whole, cut)
	}
}

var numberRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
var timestampRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// refValue checks one CSV value the slow way.
func refValue(col schema.Column, f string) bool {
	if f == "" {
		return col.Nullable
	}
	if !utf8.ValidString(f) {
		return false
	}
	var ok bool
	switch col.Type {
	case schema.String:
		ok = true
	case schema.Integer:
		_, err := strconv.ParseInt(f, 10, 64)
		ok = err == nil
	case schema.Number:
		ok = numberRE.MatchString(f)
	case schema.Boolean:
		ok = f == "true" || f == "false"
	case schema.Date:
		_, err := time.Parse(time.DateOnly, f)
		ok = err == nil
	case schema.Timestamp:
		_, err := time.Parse(time.RFC3339, f)
		ok = err == nil && timestampRE.MatchString(f)
	}
	if ok && col.Enum != nil {
		ok = slices.Contains(col.Enum, f)
	}
	if ok && col.Pattern != "" {
		ok = regexp.MustCompile(`^(?:` + col.Pattern + `)$`).MatchString(f)
	}
	return ok
}

// refCSV checks data the slow way: encoding/csv, then each value.
func refCSV(s *schema.Schema, data []byte) error {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return errors.New("no final line ending")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(s.Columns)
	header, err := r.Read()
	if err != nil {
		return err
	}
	if !slices.Equal(header, s.ColumnNames()) {
		return errors.New("header")
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i, f := range rec {
			if !refValue(s.Columns[i], f) {
				return errors.New("value " + strconv.Quote(f))
			}
		}
	}
}

// FuzzCSV checks the CSV validator against refCSV. It is stricter in one
// way: a blank line is a violation, where encoding/csv skips it.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		",,,,,,,,1\n",
		"x,-12,1e9,true,2024-02-29,2024-05-01T06:51:23.5+02:00,C0001,EUR,0\n",
		"\"a,\"\"b\"\"\r\nc\",+7,.5,false,,2024-05-01T06:51:23Z,,USD,9223372036854775807\r\n",
		"a\"b,,,,,,,,1\n",
		"\"x\"y,,,,,,,,1\n",
		",,,,,,,,1\n\n,,,,,,,,2\n",
		",,,,,,,,1",
		",,,,2023-02-29,,,,1\n",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	c, err := schema.Compile(typed)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, cut uint16) {
		data := append([]byte(typedHeader), body...)
		got := run(c, data, len(data))
		sameAnswer(t, got, run(c, data, int(cut)))
		ref := refCSV(typed, data)
		switch {
		case got == nil && ref != nil:
			t.Fatalf("the validator accepts what encoding/csv and the parsers refuse (%v):\n%q", ref, data)
		case got != nil && ref == nil && !strings.Contains(got.Error(), "the line is empty"):
			t.Fatalf("the validator refuses what encoding/csv and the parsers accept: %v\n%q", got, data)
		}
	})
}

// refJSONL checks data the slow way: each line, decoded, by the JSON
// Schema library.
func refJSONL(c *schema.Contract, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		return errors.New("no final line ending")
	}
	for _, line := range bytes.Split(data[:len(data)-1], []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			return errors.New("blank line")
		}
		if vi := c.CheckLib(line); vi != nil {
			return vi
		}
	}
	return nil
}

// stricter reports a violation the fast path finds and the library,
// which keeps the last of a key given twice, does not.
func stricter(err error) bool { return err != nil && strings.Contains(err.Error(), "is given twice") }

// FuzzJSONL checks the JSON Lines validator, on its fast path, against
// refJSONL.
func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"id": 1, "name": "a"}` + "\n",
		`{"id": 1.0, "name": "abc", "amount": null, "tags": ["x"], "cur": "EUR", "meta": {"ok": true}}` + "\n" + `{"id": 2, "name": "b"}` + "\n",
		`{"id": 1e2, "name": "a\u00e9\ud83d"}` + "\n",
		`{"id": 999.0000000000000001, "name": "a", "amount": 99.50000000000000001}` + "\n",
		`{"id": 1, "name": "a", "id": 2}` + "\n",
		`{"id": 1, "name": "a"}`,
		"{\"id\": 1, \"name\": \"\\ud800\\udc00\"}\r\n",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	c, err := schema.Compile(&schema.Schema{Format: schema.JSONL, JSONSchema: orderSchema})
	if err != nil || !schema.FastPath(c) {
		f.Fatal("the order schema must take the fast path", err)
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		got := run(c, data, len(data))
		sameAnswer(t, got, run(c, data, int(cut)))
		ref := refJSONL(c, data)
		switch {
		case got == nil && ref != nil:
			t.Fatalf("the fast path accepts what the JSON Schema library refuses (%v):\n%q", ref, data)
		case got != nil && ref == nil && !stricter(got):
			t.Fatalf("the fast path refuses what the JSON Schema library accepts: %v\n%q", got, data)
		}
	})
}

// FuzzJSONSchema fuzzes the schema too: whenever a schema compiles to the
// fast path, the fast path and the library agree on the record.
func FuzzJSONSchema(f *testing.F) {
	f.Add(string(orderSchema), []byte(`{"id": 1, "name": "a"}`))
	f.Add(`{"type": ["integer", "string"], "minimum": 1.5, "maxLength": 2}`, []byte(`"ab"`))
	f.Add(`{"items": {"enum": ["a", "b"]}}`, []byte(`["a", "c"]`))
	f.Add(`{"exclusiveMinimum": 0, "maximum": 1e400}`, []byte(`1e-400`))
	f.Add(`{"required": ["a"], "properties": {"a": true}}`, []byte(`{"a": {"b": [1, null]}}`))
	f.Fuzz(func(t *testing.T, js string, rec []byte) {
		c, err := schema.Compile(&schema.Schema{Format: schema.JSON, JSONSchema: []byte(js)})
		if err != nil || !schema.FastPath(c) || bytes.IndexByte(rec, '\n') >= 0 {
			return
		}
		got := run(c, rec, len(rec))
		lib := c.CheckLib(rec)
		if len(bytes.TrimSpace(rec)) == 0 {
			return // empty is refused before either looks
		}
		switch {
		case got == nil && lib != nil:
			t.Fatalf("schema %s: the fast path accepts what the library refuses (%v):\n%q", js, lib, rec)
		case got != nil && lib == nil && !stricter(got):
			t.Fatalf("schema %s: the fast path refuses what the library accepts: %v\n%q", js, got, rec)
		}
	})
}
