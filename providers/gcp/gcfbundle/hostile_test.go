package gcfbundle_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	attacks "github.com/glacier-pipeline/glacier/internal/testutil/hostile"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt"
)

// TestHostileModules serves every hostile module from a bundle's function
// under the Functions Framework (one build, the bundle's files swapped for
// each: Package itself would refuse most of them) and checks the failure,
// the time, and the peak memory of the function's process tree.
func TestHostileModules(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds a Cloud Functions bundle and serves it once per hostile module; run without -short")
	}
	empty := fixturePath(t, "empty")
	zb, err := gcfbundle.Package(context.Background(), gcfbundle.PackageOptions{
		Spec: specFor(t, "empty", empty, nil, nil), WasmPath: empty, CacheDir: testCacheDir(t), NoPrecompile: true,
	})
	require.NoError(t, err)
	base := buildBundle(t, "hostile-modules", zb)
	srv := fakegcs.Start(t)
	srv.CreateBucket(t, "hostile-modules")

	for i, c := range attacks.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			fail, took, peak := serveHostile(t, srv, base, fmt.Sprintf("hostile-module-%d", i), c.Wasm, c.WriteTo, nil, attacks.MemoryMiB, c.CompileTimeoutSeconds())
			if c.File != nil {
				assert.Equal(t, gcfrt.KindInit, fail.Kind, fail.Error)
			} else {
				assert.Equal(t, c.Kind.Failure(), fail.Kind, fail.Error)
			}
			assert.Contains(t, fail.Error, c.Says)
			assert.Less(t, took, 30*time.Second)
			assert.LessOrEqual(t, peak, int64(attacks.TreeBound), "the function's process tree peaked at %d MiB", peak>>20)
			t.Logf("%s in %v; the process tree peaked at %d MiB (sampled)", fail.Kind, took.Round(time.Millisecond), peak>>20)
		})
	}
}

// TestHostileGuests serves every guest that drives the host to allocate
// outside its linear memory, or writes what breaks its output's contract,
// as TestHostileModules serves the modules, and checks that each fails as
// it must (a trap; a broken contract, nothing committed) with the
// function's process tree within the task's memory and the documented
// overhead.
func TestHostileGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds a Cloud Functions bundle and serves it once per hostile guest; run without -short")
	}
	empty := fixturePath(t, "empty")
	zb, err := gcfbundle.Package(context.Background(), gcfbundle.PackageOptions{
		Spec: specFor(t, "empty", empty, nil, nil), WasmPath: empty, CacheDir: testCacheDir(t), NoPrecompile: true,
	})
	require.NoError(t, err)
	base := buildBundle(t, "hostile-guests", zb)
	srv := fakegcs.Start(t)
	srv.CreateBucket(t, "hostile-modules")
	for i, c := range attacks.RunCases() {
		t.Run(c.Name, func(t *testing.T) {
			write := func(path string) error { return os.WriteFile(path, c.Wasm, 0o644) }
			fail, _, peak := serveHostile(t, srv, base, fmt.Sprintf("hostile-guest-%d", i), c.Wasm, write, c.Contract(), attacks.RunMemoryMiB, attacks.CompileSeconds*10)
			assert.Equal(t, c.Kind, fail.Kind, fail.Error)
			assert.Contains(t, fail.Error, c.Says)
			assert.LessOrEqual(t, peak, int64(attacks.RunPeakBound), "the function's process tree peaked at %d MiB", peak>>20)
			t.Logf("%s; the process tree peaked at %d MiB (sampled)", fail.Kind, peak>>20)
		})
	}
}

// serveHostile serves the module write makes (wasm, or a special file when
// wasm is nil) as task t, whose output has the contract given (none when
// nil), from a copy of base in work directory name, invokes
// it once, and returns its failure, how long the invocation took and the
// peak memory of the function's process tree. The invocation must fail
// cleanly and commit nothing.
func serveHostile(t *testing.T, srv *fakegcs.Server, base builtBundle, name string, wasm []byte, write func(string) error, contract json.RawMessage, memoryMiB, compileSeconds int) (gcfrt.Failure, time.Duration, int64) {
	t.Helper()
	root := workDir(t, name)
	src := filepath.Join(root, gcfrt.SourceDir)
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, write(filepath.Join(src, fnspec.ModuleFile)))
	spec := fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "hostile", Task: "t", ModuleSHA256: sha(wasm),
		Outputs: []string{"out"}, MemoryMiB: memoryMiB, TimeoutSecs: 30,
		CompileMemoryMiB: attacks.CompileMemoryMiB, CompileTimeoutSecs: compileSeconds,
	}
	if contract != nil {
		spec.Schemas = map[string]json.RawMessage{"out": contract}
	}
	specJSON, err := spec.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(src, fnspec.SpecFile), specJSON, 0o644))

	f := serve(t, builtBundle{Root: root, Bin: base.Bin}, map[string]string{
		"STORAGE_EMULATOR_HOST": srv.Host,
		fnspec.DatasetsEnv:      datasetsEnv(t, map[string]string{"out": "gs://hostile-modules/out"}, "out"),
	})
	tree := attacks.WatchTree(f.Pid())
	start := time.Now()
	status, body, err := f.Invoke(t.Context(), "r")
	took := time.Since(start)
	peak := tree.Stop()
	require.NoError(t, err)

	var fail gcfrt.Failure
	require.NoError(t, json.Unmarshal(body, &fail), "%s\nfunction output:\n%s", body, f.Output())
	want := http.StatusInternalServerError
	if fail.Kind.Permanent() {
		want = gcfrt.StatusPermanent // a broken contract is not worth a retry
	}
	require.Equal(t, want, status, "%s\nfunction output:\n%s", body, f.Output())
	assert.NotContains(t, fail.Error, "goroutine")
	assert.Empty(t, objects(t, srv, "hostile-modules"), "a failed task committed something")
	return fail, took, peak
}
