// Package schema holds dataset contracts: what a dataset's bytes must look
// like (its Format and, for records, their fields), and a streaming
// Validator the host runs over every byte a task writes and every source it
// imports, so a contract holds whatever the task does.
//
// A Schema is plain data, as glacier.yaml declares it (docs/manifest.md,
// "Dataset contracts"); Compile checks it and returns a Contract, whose
// validators check one stream each:
//
//	c, err := schema.Compile(&schema.Schema{Format: schema.CSV, Columns: []schema.Column{
//		{Name: "order_id", Type: schema.Integer},
//		{Name: "amount", Type: schema.Number, Nullable: true},
//	}})
//	v := c.NewValidator("orders")
//	_, err = io.Copy(v, f) // stops at the first violation
//	err = v.Close()        // the last record, and a missing line ending
//
// The first record that breaks the contract is reported as a *Violation
// naming the dataset, the line and record, the field and the rule.
//
// # Formats
//
//   - csv: RFC 4180 records, a header naming the columns in order, then
//     one record per line with one field per column, each checked against
//     its column's type, and pattern or enum when set.
//   - jsonl: JSON Lines, one JSON value per line, each valid against the
//     JSON Schema (draft 2020-12) in JSONSchema.
//   - json: one JSON value, valid against JSONSchema.
//   - bytes: anything; no checks.
//
// Records end with a line ending: a stream whose last record has none was
// cut short, or its writer left the line ending off, and either way it
// breaks the contract. Every record is UTF-8.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Format is how a dataset's bytes are laid out.
type Format string

// Formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
	JSON  Format = "json"
	// Bytes declares no structure: a contract of format bytes accepts
	// anything.
	Bytes Format = "bytes"
)

// Formats lists every format, in the order the docs give them.
func Formats() []Format { return []Format{CSV, JSONL, JSON, Bytes} }

// Type is the type of a CSV column.
type Type string

// Column types.
const (
	// String accepts any UTF-8 text.
	String Type = "string"
	// Integer accepts an optional sign and decimal digits, at most 64 bits
	// signed: -12, 0, +7.
	Integer Type = "integer"
	// Number accepts a decimal number as strconv.ParseFloat does, without
	// hex, infinities, NaN or underscores: 12, -0.5, 1e9.
	Number Type = "number"
	// Boolean accepts true or false.
	Boolean Type = "boolean"
	// Date accepts a calendar date, YYYY-MM-DD.
	Date Type = "date"
	// Timestamp accepts an RFC 3339 date and time with a zone:
	// 2024-05-01T06:51:23Z, 2024-05-01T08:51:23.5+02:00.
	Timestamp Type = "timestamp"
)

// Types lists every column type, in the order the docs give them.
func Types() []Type { return []Type{String, Integer, Number, Boolean, Date, Timestamp} }

// Column is one column of a CSV dataset.
type Column struct {
	// Name is the column's name, as the header gives it.
	Name string `json:"name"`
	// Type is the type every non-empty value has.
	Type Type `json:"type"`
	// Nullable allows empty values; otherwise every value is non-empty.
	Nullable bool `json:"nullable,omitempty"`
	// Pattern, when set, is a regular expression (Go syntax, RE2) every
	// non-empty value matches in full.
	Pattern string `json:"pattern,omitempty"`
	// Enum, when set, lists the values allowed, exactly as written.
	Enum []string `json:"enum,omitempty"`
}

// Schema is a dataset's contract as declared.
type Schema struct {
	Format Format `json:"format"`
	// Columns are the columns of a csv dataset, in order.
	Columns []Column `json:"columns,omitempty"`
	// JSONSchema is the JSON Schema (draft 2020-12) every record of a
	// jsonl dataset, or the one value of a json dataset, is valid
	// against. Empty means any JSON value.
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// Parse reads a Schema from its JSON form (the one MarshalJSON writes and
// a schema file may hold) and checks it as Compile does. Unknown fields are
// errors.
func Parse(data []byte) (*Schema, error) {
	var s Schema
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("schema: data after the schema's closing brace")
	}
	if _, err := Compile(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Encode returns s as compact JSON, the form a task spec carries. The bytes
// depend only on s: the JSON Schema is compacted, its keys kept in order.
func (s *Schema) Encode() ([]byte, error) {
	c := *s
	if len(c.JSONSchema) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, c.JSONSchema); err != nil {
			return nil, fmt.Errorf("schema: json_schema: %w", err)
		}
		c.JSONSchema = b.Bytes()
	}
	return json.Marshal(c)
}

// Equal reports whether s and t declare the same contract.
func (s *Schema) Equal(t *Schema) bool {
	if s == nil || t == nil {
		return s == t
	}
	a, errA := s.Encode()
	b, errB := t.Encode()
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// String describes the contract in a line: "csv: order_id integer,
// amount number (nullable)" or "jsonl (JSON Schema)".
func (s *Schema) String() string {
	switch s.Format {
	case CSV:
		cols := make([]string, len(s.Columns))
		for i, c := range s.Columns {
			cols[i] = c.String()
		}
		return "csv: " + strings.Join(cols, ", ")
	case JSONL, JSON:
		if len(s.JSONSchema) == 0 {
			return string(s.Format) + " (any JSON)"
		}
		return string(s.Format) + " (JSON Schema)"
	}
	return string(s.Format)
}

// String describes the column: "amount number (nullable, enum 1|2)".
func (c Column) String() string {
	s := c.Name + " " + string(c.Type)
	var opts []string
	if c.Nullable {
		opts = append(opts, "nullable")
	}
	if c.Pattern != "" {
		opts = append(opts, "pattern "+c.Pattern)
	}
	if len(c.Enum) > 0 {
		opts = append(opts, "enum "+strings.Join(c.Enum, "|"))
	}
	if len(opts) > 0 {
		s += " (" + strings.Join(opts, ", ") + ")"
	}
	return s
}

// ColumnNames returns the names of s's columns.
func (s *Schema) ColumnNames() []string {
	names := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		names[i] = c.Name
	}
	return names
}

// isFormat reports whether f is a known format.
func isFormat(f Format) bool { return slices.Contains(Formats(), f) }
