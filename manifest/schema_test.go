package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const schemaPath = "../docs/glacier.schema.json"

func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSONValue turns YAML into the value shape the validator expects.
func yamlToJSONValue(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestSchemaInStepWithParser fails when a key is added to the parser but not
// to docs/glacier.schema.json, or the other way round.
func TestSchemaInStepWithParser(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	check := func(where string, props map[string]json.RawMessage, want []string) {
		t.Helper()
		got := make([]string, 0, len(props))
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has keys %v; the parser accepts %v", where, got, want)
		}
	}
	check("top level", doc.Properties, topKeys)
	check("dataset", doc.Defs["dataset"].Properties, datasetKeys)
	check("task", doc.Defs["task"].Properties, taskKeys)
	check("dataset schema", doc.Defs["contract"].Properties, schemaKeys)
	check("schema column", doc.Defs["column"].Properties, columnKeys)
	for typ, keys := range storageKeys {
		def := map[string]string{"object": "objectStorage"}[typ]
		if def == "" {
			def = typ
		}
		check("storage "+typ, doc.Defs[def].Properties, keys)
	}
	for typ, keys := range computeKeys {
		check("compute "+typ, doc.Defs[typ].Properties, keys)
	}
}

func TestSchemaAcceptsExamples(t *testing.T) {
	s := loadSchema(t)
	sources := map[string][]byte{"design example": []byte(designExample)}
	for _, path := range exampleManifests(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sources[path] = data
	}
	for name, src := range sources {
		if err := s.Validate(yamlToJSONValue(t, src)); err != nil {
			t.Errorf("%s: schema rejects it: %v", name, err)
		}
	}
}

func TestSchemaRejectsBadManifests(t *testing.T) {
	s := loadSchema(t)
	bad := map[string]string{
		"typo'd task key":       "name: x\ntasks:\n  a: {module: a.wasm, outputz: [b]}\n",
		"typo'd top key":        "name: x\ntask: {}\n",
		"unknown storage type":  "name: x\ndatasets:\n  d: {storage: {type: blob}}\ntasks: {}\n",
		"unknown compute type":  "name: x\ntasks:\n  a: {module: a.wasm, outputs: [b], compute: {type: gpu}}\n",
		"zero memory":           "name: x\ntasks:\n  a: {module: a.wasm, outputs: [b], compute: {type: serverless, memory: 0}}\n",
		"image on serverless":   "name: x\ntasks:\n  a: {module: a.wasm, outputs: [b], compute: {type: serverless, image: i}}\n",
		"no module":             "name: x\ntasks:\n  a: {outputs: [b]}\n",
		"build and module":      "name: x\ntasks:\n  a: {build: ./a, module: a.wasm, outputs: [b]}\n",
		"bad name":              "name: My Pipeline\ntasks: {}\n",
		"no name":               "tasks: {}\n",
		"bad access pattern":    "name: x\ndatasets:\n  d: {storage: {type: object, access_pattern: often}}\ntasks: {}\n",
		"unknown hint prefix":   "name: x\ndatasets:\n  d: {storage: {type: object, ibm_tier: gold}}\ntasks: {}\n",
		"negative retries":      "name: x\ntasks:\n  a: {module: a.wasm, outputs: [b], retries: -1}\n",
		"schema with no format": "name: x\ndatasets:\n  d: {schema: {columns: [{name: a, type: string}]}}\ntasks: {}\n",
		"csv with json_schema":  "name: x\ndatasets:\n  d: {schema: {format: csv, json_schema: {}}}\ntasks: {}\n",
		"unknown column type":   "name: x\ndatasets:\n  d: {schema: {format: csv, columns: [{name: a, type: text}]}}\ntasks: {}\n",
	}
	for name, src := range bad {
		if err := s.Validate(yamlToJSONValue(t, []byte(src))); err == nil {
			t.Errorf("%s: schema accepts it", name)
		}
	}
}
