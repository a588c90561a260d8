package fnspec_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

func validSpec() fnspec.TaskSpec {
	return fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "etl", Task: "clean", ModuleSHA256: strings.Repeat("ab", 32),
		Params: map[string]string{"b": "2", "a": "1"}, Inputs: []string{"raw"}, Outputs: []string{"clean"},
		MemoryMiB: 128, TimeoutSecs: 60, CompileMemoryMiB: 512,
	}
}

func TestSpecRoundTrip(t *testing.T) {
	spec := validSpec()
	data, err := spec.Encode()
	require.NoError(t, err)
	again, err := spec.Encode()
	require.NoError(t, err)
	assert.Equal(t, data, again, "the encoding depends only on the spec")
	assert.Less(t, strings.Index(string(data), `"a"`), strings.Index(string(data), `"b"`), "params are sorted")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.SpecFile), data, 0o644))
	got, err := fnspec.ReadSpec(dir)
	require.NoError(t, err)
	assert.Equal(t, spec, got)
}

func TestReadSpecRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"newer glacier", `{"abi":1,"pipeline":"p","task":"t","module_sha256":"` + strings.Repeat("0", 64) + `","inputs":[],"outputs":[],"memory_mib":1,"timeout_s":1,"retries":3}`,
			[]string{`unknown field "retries"`}},
		{"not JSON", `abi: 1`, []string{"read task spec"}},
		{"invalid", `{"abi":99,"task":"t","inputs":["x"],"outputs":["x"]}`,
			[]string{`task spec of "t"`, "host ABI version", "pipeline is empty", "module_sha256", `dataset "x" is declared twice`, "memory_mib is 0", "timeout_s is 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.SpecFile), []byte(tc.data), 0o644))
			_, err := fnspec.ReadSpec(dir)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := fnspec.ReadSpec(t.TempDir())
	assert.ErrorContains(t, err, "must hold "+fnspec.SpecFile+" beside "+fnspec.ModuleFile)
}

func TestEncodeRefusesInvalidSpec(t *testing.T) {
	spec := validSpec()
	spec.Inputs = []string{strings.Repeat("x", abi.MaxNameLen+1)}
	spec.CompileTimeoutSecs = -1
	_, err := spec.Encode()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "input name")
	assert.Contains(t, err.Error(), "compile_timeout_s is -1")
}

func TestCheckRunID(t *testing.T) {
	for _, id := range []string{"r", "e2e-1", "20240501T120000.000Z-a1b2c3", "exec:abc_1.2", strings.Repeat("a", fnspec.MaxRunID)} {
		assert.NoError(t, fnspec.CheckRunID(id), "%q", id)
		assert.NoError(t, fnspec.Request{RunID: id}.Validate(), "%q", id)
	}
	for _, id := range []string{"", "-r", ".r", "../etc", "a/b", "r1\nglacier: run r1 succeeded", "é", strings.Repeat("a", fnspec.MaxRunID+1)} {
		err := fnspec.CheckRunID(id)
		assert.ErrorContains(t, err, "is not a run id", "%q", id)
		assert.NotContains(t, err.Error(), "\n", "the error quotes the id escaped")
	}
	assert.NoError(t, fnspec.Request{}.Validate(), "no run id means a new one")
}

func TestNewRunID(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	var ids []string
	for i := range 3 {
		id := fnspec.NewRunID(start.Add(time.Duration(i) * time.Millisecond))
		require.NoError(t, fnspec.CheckRunID(id))
		assert.Regexp(t, `^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$`, id)
		ids = append(ids, id)
	}
	assert.True(t, strings.HasPrefix(ids[0], "20240501T100000.000Z-"), "UTC: %s", ids[0])
	assert.True(t, slices.IsSorted(ids), "run ids sort by start time: %q", ids)
	assert.NotEqual(t, fnspec.NewRunID(start)[21:], fnspec.NewRunID(start)[21:], "the suffix is random")
}

func TestFunctionMemory(t *testing.T) {
	assert.Equal(t, 256+fnspec.HostReserveMiB, fnspec.FunctionMemoryMiB(256))
}

func TestSpecSchemas(t *testing.T) {
	spec := validSpec()
	spec.Schemas = map[string]json.RawMessage{"clean": json.RawMessage(`{"format":"bytes"}`)}
	require.NoError(t, spec.Validate())
	data, err := spec.Encode()
	require.NoError(t, err)
	assert.Contains(t, string(data), `"schemas"`)

	spec.Schemas = map[string]json.RawMessage{"raw": json.RawMessage(`{"format":"bytes"}`), "clean": json.RawMessage(`[1]`)}
	err = spec.Validate()
	assert.ErrorContains(t, err, `schemas names "raw", which is not one of the outputs ["clean"]`)
	assert.ErrorContains(t, err, `schemas of "clean" is not a JSON object`)
}

func TestSpecRetire(t *testing.T) {
	spec := validSpec()
	spec.Retire = []string{"clean"}
	require.NoError(t, spec.Validate())
	spec.Retire = []string{"raw"}
	assert.ErrorContains(t, spec.Validate(), `retire names "raw", which is not one of the outputs ["clean"]`)
}

// TestPermanentKinds: only a refusal of the storage is never retried, and
// its errorType is what the state machine's Retry names.
func TestPermanentKinds(t *testing.T) {
	for _, k := range []fnspec.Kind{fnspec.KindStorage, fnspec.KindTaskFailed, fnspec.KindTimeout, fnspec.KindError} {
		assert.False(t, k.Permanent(), k)
	}
	assert.True(t, fnspec.KindStorageDenied.Permanent())
	assert.True(t, fnspec.KindContract.Permanent(), "the same inputs break a contract again")
	assert.Equal(t, []fnspec.Kind{fnspec.KindStorageDenied, fnspec.KindContract}, fnspec.PermanentKinds())
	for _, k := range fnspec.PermanentKinds() {
		assert.True(t, k.Permanent(), k)
	}
	assert.Equal(t, "Glacier.StorageDenied", fnspec.KindStorageDenied.ErrorType())
}
