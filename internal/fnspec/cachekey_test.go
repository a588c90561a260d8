package fnspec_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

// TestCacheKey pins the key's canonical form: stores written by earlier
// releases keep their memo entries only while it stays byte for byte the
// same.
func TestCacheKey(t *testing.T) {
	k := fnspec.CacheKey{
		Task: "parse", Module: "ab", Inputs: map[string]fnspec.Version{"z": {Digest: "d2", Size: 2}, "a": {Digest: "d1", Size: 1}},
		Params: map[string]string{"b": "2", "a": "1"}, MemoryMiB: 128, TimeoutSecs: 60, Outputs: []string{"y", "x"},
	}
	canonical := func(part string) string {
		s := `{"abi":` + strconv.Itoa(abi.Version) + `,"task":"parse","module":"ab",` +
			`"inputs":{"a":{"sha256":"d1","size":1},"z":{"sha256":"d2","size":2}},` +
			`"params":{"a":"1","b":"2"},"limits":"memory=128MiB timeout=60s","outputs":["x","y"]`
		if part != "" {
			s += `,"part":"` + part + `"`
		}
		sum := sha256.Sum256([]byte(s + "}"))
		return hex.EncodeToString(sum[:])
	}
	assert.Equal(t, canonical(""), k.Sum())
	assert.Equal(t, []string{"y", "x"}, k.Outputs, "Sum leaves the caller's outputs in their order")
	k.Part = "2026/01.log"
	assert.Equal(t, canonical("2026/01.log"), k.Sum())
	other := k
	other.Inputs = map[string]fnspec.Version{"z": {Digest: "d2", Size: 2}, "a": {Digest: "d1x", Size: 1}}
	assert.NotEqual(t, k.Sum(), other.Sum(), "an input's digest is part of the key")
}

// TestSchemaDigestsSurviveTheSpec: a contract keys the same from glacier
// run's encoding and from a spec written with indentation and read back,
// as the function runtimes read it.
func TestSchemaDigestsSurviveTheSpec(t *testing.T) {
	raw := json.RawMessage(`{"format":"csv","columns":[{"name":"id","type":"integer"}]}`)
	spec := fnspec.TaskSpec{ABI: abi.Version, Pipeline: "p", Task: "t", ModuleSHA256: strings.Repeat("a", 64),
		Outputs: []string{"out"}, MemoryMiB: 64, TimeoutSecs: 1, Schemas: map[string]json.RawMessage{"out": raw}}
	data, err := spec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, fnspec.SpecFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := fnspec.ReadSpec(dir)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(back.Schemas["out"], raw) {
		t.Fatal("the spec kept the contract's bytes as they were; this test needs them reformatted")
	}
	want := fnspec.SchemaDigests(map[string]json.RawMessage{"out": raw}, spec.Outputs)
	if got := fnspec.SchemaDigests(back.Schemas, back.Outputs); !maps.Equal(got, want) {
		t.Errorf("SchemaDigests after the spec = %v, want %v", got, want)
	}
}
