package schema_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/glacier-pipeline/glacier/schema"
)

// benchCSV is a contract of 10 typed columns, one of each type and rule.
var benchCSV = &schema.Schema{Format: schema.CSV, Columns: []schema.Column{
	{Name: "order_id", Type: schema.Integer},
	{Name: "customer_id", Type: schema.String},
	{Name: "ordered_at", Type: schema.Timestamp},
	{Name: "ship_date", Type: schema.Date, Nullable: true},
	{Name: "amount", Type: schema.Number},
	{Name: "currency", Type: schema.String, Enum: []string{"EUR", "USD", "GBP"}},
	{Name: "quantity", Type: schema.Integer},
	{Name: "gift", Type: schema.Boolean},
	{Name: "discount", Type: schema.Number, Nullable: true},
	{Name: "note", Type: schema.String, Nullable: true},
}}

// benchJSONL is a JSON Schema of 10 fields, of every kind the subset knows.
var benchJSONL = &schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{
  "type": "object",
  "properties": {
    "order_id": {"type": "integer", "minimum": 1},
    "customer_id": {"type": "string", "minLength": 5},
    "ordered_at": {"type": "string"},
    "ship_date": {"type": ["string", "null"]},
    "amount": {"type": "number", "minimum": 0},
    "currency": {"enum": ["EUR", "USD", "GBP"]},
    "quantity": {"type": "integer"},
    "gift": {"type": "boolean"},
    "discount": {"type": ["number", "null"]},
    "note": {"type": "string", "maxLength": 200}
  },
  "required": ["order_id", "customer_id", "ordered_at", "amount", "currency", "quantity", "gift"],
  "additionalProperties": false
}`)}

// csvData returns n records valid against benchCSV; one in ten has a
// quoted field.
func csvData(n int) []byte {
	var b bytes.Buffer
	b.WriteString("order_id,customer_id,ordered_at,ship_date,amount,currency,quantity,gift,discount,note\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,C%04d,2024-05-%02dT%02d:%02d:%02dZ,2024-06-%02d,%d.%02d,EUR,%d,%t,,%s\n",
			100000+i, i%10000, i%28+1, i%24, i%60, (i*7)%60, i%28+1, i%500, i%100, i%9+1, i%3 == 0, notes[i%len(notes)])
	}
	return b.Bytes()
}

var notes = []string{`"gift, wrapped"`, "", "door", "", "", "call first", "", "", "", "back door"}

// jsonlData returns n records valid against benchJSONL.
func jsonlData(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"order_id":%d,"customer_id":"C%04d","ordered_at":"2024-05-%02dT%02d:%02d:%02dZ","ship_date":null,"amount":%d.%02d,"currency":"EUR","quantity":%d,"gift":%t,"discount":null,"note":"left at the door"}`+"\n",
			100000+i, i%10000, i%28+1, i%24, i%60, (i*7)%60, i%500, i%100, i%9+1, i%3 == 0)
	}
	return b.Bytes()
}

// benchValidate feeds data to a validator in 64 KiB writes, as a task's
// output arrives. Besides MB/s, which a busy machine drags down, it
// reports MB/cpu-s: the bytes per second of CPU time the process used,
// which holds up on a shared machine (with -cpu 1 the validator is nearly
// all of it: it makes almost no garbage).
func benchValidate(b *testing.B, s *schema.Schema, data []byte) {
	c, err := schema.Compile(s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0, ok := cpuTime()
	defer func() {
		if cpu1, ok1 := cpuTime(); ok && ok1 && cpu1 > cpu0 {
			b.ReportMetric(float64(len(data))*float64(b.N)/1e6/(cpu1-cpu0).Seconds(), "MB/cpu-s")
		}
	}()
	for b.Loop() {
		v := c.NewValidator("bench")
		for p := data; len(p) > 0; {
			n := min(len(p), 64<<10)
			if _, err := v.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		if err := v.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCSV measures validating CSV with 10 typed columns (goal: 300
// MB/s on one core).
func BenchmarkCSV(b *testing.B) { benchValidate(b, benchCSV, csvData(50000)) }

// BenchmarkJSONL measures validating JSON Lines against a 10-field JSON
// Schema (goal: 100 MB/s on one core).
func BenchmarkJSONL(b *testing.B) { benchValidate(b, benchJSONL, jsonlData(30000)) }

// BenchmarkJSONLLibrary measures the same records against the same schema
// with $defs added, which takes it off the fast path: what a schema beyond
// the fast subset costs.
func BenchmarkJSONLLibrary(b *testing.B) {
	s := *benchJSONL
	s.JSONSchema = bytes.Replace(s.JSONSchema, []byte(`"type": "object",`), []byte(`"type": "object", "$defs": {},`), 1)
	benchValidate(b, &s, jsonlData(30000))
}
