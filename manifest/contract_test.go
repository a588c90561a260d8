package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/schema"
)

func TestSchemaInlineAndFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "schemas"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "schemas", "events.json"),
		[]byte(`{"format": "jsonl", "json_schema": {"type": "object", "required": ["id"]}}`), 0o644))
	manifest := `name: p
datasets:
  orders:
    schema:
      format: csv
      columns:
        - {name: id, type: integer}
        - {name: amount, type: number, nullable: true}
        - {name: currency, type: string, enum: [EUR, USD]}
  events:
    schema: schemas/events.json
tasks:
  t: {module: t.wasm, outputs: [orders, events]}
`
	path := filepath.Join(dir, "glacier.yaml")
	require.NoError(t, os.WriteFile(path, []byte(manifest), 0o644))
	m, err := Load(path)
	require.NoError(t, err)
	orders, _ := m.Pipeline.Dataset("orders")
	assert.Equal(t, &schema.Schema{Format: schema.CSV, Columns: []schema.Column{
		{Name: "id", Type: schema.Integer}, {Name: "amount", Type: schema.Number, Nullable: true},
		{Name: "currency", Type: schema.String, Enum: []string{"EUR", "USD"}}}}, orders.Schema)
	assert.Empty(t, orders.SchemaFile)
	events, _ := m.Pipeline.Dataset("events")
	assert.Equal(t, "schemas/events.json", events.SchemaFile)
	require.NotNil(t, events.Schema)
	assert.Equal(t, schema.JSONL, events.Schema.Format)
	assert.JSONEq(t, `{"type": "object", "required": ["id"]}`, string(events.Schema.JSONSchema))

	// Written back, the file stays a file.
	data, err := Marshal(m.Pipeline)
	require.NoError(t, err)
	assert.Contains(t, string(data), "schema: schemas/events.json")
}

func TestSchemaErrorsHaveLines(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("format: csv\ncolumns:\n  - name: a\n    type: strng\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{\"format\": \"csv\",\n\"columns\": [\n"), 0o644))
	manifest := `name: p
datasets:
  a:
    schema:
      format: csv
      columns:
        - {name: id, type: integer}
        - {name: code, type: string, pattern: "("}
  b:
    schema: {format: jsonl, json_schema: {type: object, properties: {x: {minimum: low}}}}
  c:
    schema: bad.yaml
  d:
    schema: missing.json
  e:
    schema: {format: csv, colums: []}
  f:
    schema: broken.json
  g:
    schema: {format: jsonlines}
tasks:
  t: {module: t.wasm, outputs: [a, b, c, d, e, f, g]}
`
	path := filepath.Join(dir, "glacier.yaml")
	require.NoError(t, os.WriteFile(path, []byte(manifest), 0o644))
	_, err := Load(path)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`glacier.yaml:8: dataset "a" schema: column "code": pattern "(" is not a valid regular expression`,
		`glacier.yaml:10: dataset "b" schema: json_schema is not a valid JSON Schema (draft 2020-12): at /properties/x/minimum`,
		`glacier.yaml:12: dataset "c" schema: bad.yaml:4: column "a" has unknown type "strng" (did you mean "string"?)`,
		`glacier.yaml:14: dataset "d" schema file missing.json does not exist`,
		`glacier.yaml:16: unknown key "colums" in dataset "e" schema; did you mean "columns"?`,
		`glacier.yaml:18: dataset "f" schema: broken.json:`,
		`glacier.yaml:20: dataset "g" schema: unknown format "jsonlines"; use one of csv, jsonl, json, bytes`,
	} {
		assert.Contains(t, msg, strings.Replace(want, "glacier.yaml", path, 1))
	}
}
