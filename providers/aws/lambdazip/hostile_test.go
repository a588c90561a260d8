package lambdazip_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/hostile"
	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
)

// TestHostileModulesUnderEmulator gives every hostile module to the
// bootstrap under the Lambda emulator, in an artifact laid out as Package
// lays it out (Package itself would refuse most of them), and checks the
// error, the time, and the peak memory of the emulator's process tree.
func TestHostileModulesUnderEmulator(t *testing.T) {
	requireEmulator(t)
	if testing.Short() {
		t.Skip("starts the emulator for each of the hostile modules")
	}
	base := ziptest.Extract(t, pack(t, fixtureSpec(t, "empty"), fixture(t, "empty"), func(o *lambdazip.PackageOptions) { o.NoPrecompile = true }))
	srv := fakes3.Start(t)
	srv.CreateBucket(t, "hostile")
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			fe, took, peak := invokeHostile(t, srv, base, c.Wasm, c.WriteTo, nil, hostile.MemoryMiB, c.CompileTimeoutSeconds())
			if c.File != nil {
				assert.Equal(t, "Glacier.Init", fe.Type, fe.Message)
			} else {
				assert.Equal(t, "Glacier."+string(c.Kind.Failure()), fe.Type, fe.Message)
			}
			assert.Contains(t, fe.Message, c.Says)
			assert.Less(t, took, hostileBound)
			assert.LessOrEqual(t, peak, int64(hostile.TreeBound), "the emulator's process tree peaked at %d MiB", peak>>20)
			t.Logf("%s in %v; the process tree peaked at %d MiB (sampled)", fe.Type, took.Round(time.Millisecond), peak>>20)
		})
	}
}

// TestHostileGuestsUnderEmulator runs every guest that drives the host to
// allocate outside its linear memory, or writes what breaks its output's
// contract, under the Lambda emulator, and checks that each fails as it
// must (a trap; a broken contract, nothing committed) with the emulator's process tree within the task's
// memory and the documented overhead.
func TestHostileGuestsUnderEmulator(t *testing.T) {
	requireEmulator(t)
	if testing.Short() {
		t.Skip("starts the emulator for each hostile guest")
	}
	base := ziptest.Extract(t, pack(t, fixtureSpec(t, "empty"), fixture(t, "empty"), func(o *lambdazip.PackageOptions) { o.NoPrecompile = true }))
	srv := fakes3.Start(t)
	srv.CreateBucket(t, "hostile")
	for _, c := range hostile.RunCases() {
		t.Run(c.Name, func(t *testing.T) {
			write := func(path string) error { return os.WriteFile(path, c.Wasm, 0o644) }
			fe, _, peak := invokeHostile(t, srv, base, c.Wasm, write, c.Contract(), hostile.RunMemoryMiB, hostile.CompileSeconds*10)
			assert.Equal(t, "Glacier."+string(c.Kind), fe.Type, fe.Message)
			assert.Contains(t, fe.Message, c.Says)
			assert.LessOrEqual(t, peak, int64(hostile.RunPeakBound), "the emulator's process tree peaked at %d MiB", peak>>20)
			t.Logf("%s; the process tree peaked at %d MiB (sampled)", fe.Type, peak>>20)
		})
	}
}

// invokeHostile runs the module write makes (wasm, or a special file when
// wasm is nil) as task t of a function whose output has the contract
// given (none when nil), with
// the bootstrap in base, and returns its failure, how long the invocation
// took and the peak memory of the emulator's process tree. The function
// must fail cleanly, before Lambda's timeout, and commit nothing.
func invokeHostile(t *testing.T, srv *fakes3.Server, base string, wasm []byte, write func(string) error, contract json.RawMessage, memoryMiB, compileSeconds int) (*lambdarie.FunctionError, time.Duration, int64) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Link(filepath.Join(base, lambdazip.BootstrapFile), filepath.Join(dir, lambdazip.BootstrapFile)))
	require.NoError(t, write(filepath.Join(dir, fnspec.ModuleFile)))
	spec := fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "hostile", Task: "t", ModuleSHA256: sha(wasm),
		Outputs: []string{"out"}, MemoryMiB: memoryMiB, TimeoutSecs: 30,
		CompileMemoryMiB: hostile.CompileMemoryMiB, CompileTimeoutSecs: compileSeconds,
	}
	if contract != nil {
		spec.Schemas = map[string]json.RawMessage{"out": contract}
	}
	specJSON, err := spec.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.SpecFile), specJSON, 0o644))

	// 512 MiB leaves the compile budget whole (see fnrt.Options.PlatformMemoryMiB).
	fn, _ := functionIn(t, srv, dir, map[string]string{"out": "s3://hostile/out"}, 30*time.Second, 512)
	tree := hostile.WatchTree(fn.Pid)
	start := time.Now()
	body, err := fn.Invoke(context.Background(), []byte(`{"run_id":"r"}`))
	took := time.Since(start)
	peak := tree.Stop()

	require.False(t, errors.Is(err, lambdarie.ErrTimedOut), "the bootstrap must fail the task before Lambda's timeout: %s", body)
	var fe *lambdarie.FunctionError
	require.ErrorAs(t, err, &fe, "body: %s", body)
	assert.NotContains(t, fe.Message, "goroutine")
	_, ok := srv.GetObject(t, "hostile", "out")
	assert.False(t, ok, "a failed task must commit nothing")
	return fe, took, peak
}

// hostileBound is how long refusing any hostile module may take, cold start
// included, however slow the machine.
const hostileBound = 30 * time.Second
