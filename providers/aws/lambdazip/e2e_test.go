package lambdazip_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// function starts the emulator on an unzipped function with S3 served by
// srv and the given dataset URLs. It returns the function and the
// directory it runs from.
func function(tb testing.TB, srv *fakes3.Server, zb []byte, datasets map[string]string, timeout time.Duration, memoryMiB int) (*lambdarie.Function, string) {
	tb.Helper()
	dir := ziptest.Extract(tb, zb)
	fn, _ := functionIn(tb, srv, dir, datasets, timeout, memoryMiB)
	return fn, dir
}

// functionIn starts the emulator on the function laid out in dir. It
// returns the function and its scratch directory (Lambda's /tmp).
func functionIn(tb testing.TB, srv *fakes3.Server, dir string, datasets map[string]string, timeout time.Duration, memoryMiB int) (*lambdarie.Function, string) {
	tb.Helper()
	env, scratch := functionEnv(tb, srv, datasets)
	return lambdarie.Start(tb, lambdarie.Options{
		BootstrapDir: dir,
		Env:          env,
		Timeout:      timeout,
		MemoryMiB:    memoryMiB,
	}), scratch
}

// functionEnv is the environment a deployment gives a function whose
// datasets are on srv, and the function's scratch directory.
func functionEnv(tb testing.TB, srv *fakes3.Server, datasets map[string]string) (map[string]string, string) {
	tb.Helper()
	env := srv.Env()
	urls, err := json.Marshal(datasets)
	require.NoError(tb, err)
	env[fnspec.DatasetsEnv] = string(urls)
	// Scratch space (the compilation cache, the log pipe) goes where the
	// test cleans up; Lambda's is /tmp.
	scratch := tb.TempDir()
	env["TMPDIR"] = scratch
	return env, scratch
}

// compiledFiles returns the compilation cache entries a function wrote in
// its scratch directory: those it compiled itself, rather than links to
// the code its zip ships.
func compiledFiles(tb testing.TB, scratch string) []string {
	tb.Helper()
	var own []string
	require.NoError(tb, filepath.WalkDir(scratch, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.Contains(p, string(filepath.Separator)+"wazero-") {
			own = append(own, p)
		}
		return err
	}))
	return own
}

// runLocal runs a job in the sandbox glacier run uses, a wasmrt.Pool, in
// this process's worker over files, for comparison.
func runLocal(t *testing.T, ctx context.Context, job wasmrt.Job) error {
	t.Helper()
	wasm, err := os.ReadFile(job.ModulePath)
	require.NoError(t, err)
	job.ModuleSHA256 = sha(wasm)
	_, err = localPool(t).Run(ctx, job)
	return err
}

// bucketOf names the bucket of a dataset: S3 bucket names have no
// underscores.
func bucketOf(dataset string) string { return "ds-" + strings.ReplaceAll(dataset, "_", "-") }

// TestETLUnderEmulator packages every task of examples/etl, runs each
// bootstrap under the Lambda Runtime Interface Emulator in DAG order with
// the datasets in S3, and checks that every dataset is byte for byte what
// the local sandbox makes of the same inputs.
func TestETLUnderEmulator(t *testing.T) {
	requireEmulator(t)
	if testing.Short() {
		t.Skip("builds and runs every task of examples/etl")
	}
	ctx := context.Background()
	m, err := manifest.Load(filepath.Join(repoRoot(t), "examples", "etl", manifest.DefaultFile))
	require.NoError(t, err)
	p := m.Pipeline
	mods, err := build.Modules(ctx, p, build.Options{Dir: m.Dir, OutDir: t.TempDir()})
	require.NoError(t, err)
	modules := map[string]build.Module{}
	for _, mod := range mods {
		modules[mod.Task] = mod
	}
	levels, err := p.Levels()
	require.NoError(t, err)

	srv := fakes3.Start(t)
	local := t.TempDir()
	urls, files := map[string]string{}, map[string]string{}
	for _, d := range p.Datasets() {
		srv.CreateBucket(t, bucketOf(d.Name))
		urls[d.Name] = "s3://" + bucketOf(d.Name) + "/" + d.Name
		files[d.Name] = filepath.Join(local, d.Name)
		if d.Source != "" {
			data, err := os.ReadFile(m.Resolve(d.Source))
			require.NoError(t, err)
			srv.PutObject(t, bucketOf(d.Name), d.Name, data)
			require.NoError(t, os.WriteFile(files[d.Name], data, 0o644))
		}
	}

	for _, level := range levels {
		for _, task := range level {
			mod := modules[task.Name]
			limits := glacier.LimitsOf(task.Compute)
			spec := fnspec.TaskSpec{
				ABI: abi.Version, Pipeline: p.Name(), Task: task.Name, ModuleSHA256: mod.SHA256,
				Params: task.Params, Inputs: task.Inputs, Outputs: task.Outputs,
				MemoryMiB: limits.MemoryMiB, TimeoutSecs: limits.TimeoutSecs,
			}
			// The example's contracts, as the compiler puts them in the
			// spec: the bootstrap checks every output against its own.
			for _, out := range task.Outputs {
				if d, _ := p.Dataset(out); d.Schema != nil {
					raw, err := d.Schema.Encode()
					require.NoError(t, err)
					if spec.Schemas == nil {
						spec.Schemas = map[string]json.RawMessage{}
					}
					spec.Schemas[out] = raw
				}
			}
			require.NotEmpty(t, spec.Schemas, "task %s: examples/etl declares a contract for every output", task.Name)
			zb := pack(t, spec, mod.Path, nil)
			zfiles := ziptest.Files(t, zb)
			require.Equal(t, mod.SHA256, sha(zfiles[fnspec.ModuleFile]), "task %s: the zip must hold the built module", task.Name)

			fnURLs := map[string]string{}
			for _, n := range append(append([]string{}, task.Inputs...), task.Outputs...) {
				fnURLs[n] = urls[n]
			}
			fn, scratch := functionIn(t, srv, ziptest.Extract(t, zb), fnURLs, time.Duration(limits.TimeoutSecs)*time.Second, fnspec.FunctionMemoryMiB(limits.MemoryMiB))
			body, err := fn.Invoke(ctx, []byte(`{"run_id":"e2e-1"}`))
			require.NoError(t, err, "task %s: %s", task.Name, body)
			if lambdazip.Precompilable(lambdazip.ArchX86_64) {
				// The module checker's code is what the bootstrap looks up.
				assert.Empty(t, compiledFiles(t, scratch), "task %s: the function compiled its module instead of loading the zip's precompiled code", task.Name)
			}
			var resp fnspec.Response
			require.NoError(t, json.Unmarshal(body, &resp), "task %s: %s", task.Name, body)
			assert.Equal(t, task.Name, resp.Task)
			assert.Equal(t, "e2e-1", resp.RunID)
			assert.Equal(t, "succeeded", resp.Status)
			require.Len(t, resp.Outputs, len(task.Outputs))
			for _, n := range task.Outputs {
				got, ok := srv.GetObject(t, bucketOf(n), n)
				require.True(t, ok, "task %s committed no %s", task.Name, n)
				assert.Equal(t, fnspec.OutputInfo{Size: int64(len(got)), SHA256: sha(got)}, resp.Outputs[n], "task %s output %s", task.Name, n)
			}
			require.NoError(t, fn.WaitOutput(ctx, "["+task.Name+"] "), "the task's log reaches the function's log")

			// The same module in the local sandbox, over files.
			job := wasmrt.Job{
				ModulePath: mod.Path, Task: task.Name, RunID: "e2e-1", Params: task.Params,
				Inputs: map[string]string{}, Outputs: map[string]string{},
				MemoryLimit: uint64(limits.MemoryMiB) << 20, Timeout: time.Duration(limits.TimeoutSecs) * time.Second,
			}
			for _, n := range task.Inputs {
				job.Inputs[n] = filestore.URL(files[n])
			}
			for _, n := range task.Outputs {
				job.Outputs[n] = filestore.URL(files[n])
			}
			require.NoError(t, runLocal(t, ctx, job), "task %s locally", task.Name)
		}
	}

	for _, d := range p.Datasets() {
		want, err := os.ReadFile(files[d.Name])
		require.NoError(t, err, "dataset %s locally", d.Name)
		got, ok := srv.GetObject(t, bucketOf(d.Name), d.Name)
		require.True(t, ok, "dataset %s in S3", d.Name)
		assert.NotEmpty(t, want, d.Name)
		assert.True(t, bytes.Equal(want, got), "dataset %s: S3 has %d bytes (sha256 %s), the local sandbox %d (sha256 %s)",
			d.Name, len(got), sha(got), len(want), sha(want))
	}
}

// TestHostileUnderEmulator runs the hostile fixtures in the bootstrap and
// in the local sandbox: each fails the same way in both, with a clear
// message, and commits nothing to S3.
func TestHostileUnderEmulator(t *testing.T) {
	requireEmulator(t)
	if testing.Short() {
		t.Skip("packages and runs seven fixtures")
	}
	const memoryMiB = 64
	for _, tc := range []struct {
		fixture string
		errType string
		// same: the message is the local sandbox's, word for word; else it
		// holds these.
		same    bool
		holds   []string
		timeout time.Duration
	}{
		{fixture: "errorpartial", errType: "Glacier.TaskFailed", same: true},
		{fixture: "panicpartial", errType: "Glacier.TaskFailed", same: true},
		{fixture: "exit3", errType: "Glacier.TaskFailed", same: true},
		{fixture: "membomb", errType: "Glacier.MemoryLimit", same: true},
		{fixture: "undeclared", errType: "Glacier.TaskFailed", same: true},
		// Lambda's shortest timeouts leave the least margin (a tenth, at
		// least 200 ms); 5 s leaves half a second to stop the task and
		// answer, even on a slow machine.
		{fixture: "loop", errType: "Glacier.Timeout", timeout: 5 * time.Second,
			holds: []string{`task "loop" timed out`, "nothing was committed", "before the function's deadline"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			ctx := context.Background()
			srv := fakes3.Start(t)
			srv.CreateBucket(t, "hostile")
			spec := fixtureSpec(t, tc.fixture, "out")
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 30 * time.Second
			}
			spec.TimeoutSecs = int(timeout / time.Second)
			fn, _ := function(t, srv, pack(t, spec, fixture(t, tc.fixture), nil),
				map[string]string{"out": "s3://hostile/out"}, timeout, fnspec.FunctionMemoryMiB(memoryMiB))
			body, err := fn.Invoke(ctx, []byte(`{"run_id":"r"}`))
			require.False(t, errors.Is(err, lambdarie.ErrTimedOut), "the bootstrap must stop the task before Lambda does: %s", body)
			var fe *lambdarie.FunctionError
			require.ErrorAs(t, err, &fe, "body: %s", body)
			assert.Equal(t, tc.errType, fe.Type, fe.Message)
			_, ok := srv.GetObject(t, "hostile", "out")
			assert.False(t, ok, "a failed task must commit nothing")

			// The local sandbox, with the same limits.
			out := filepath.Join(t.TempDir(), "out")
			lerr := runLocal(t, ctx, wasmrt.Job{
				ModulePath: fixture(t, tc.fixture), Task: tc.fixture, RunID: "r",
				Outputs:     map[string]string{"out": filestore.URL(out)},
				MemoryLimit: memoryMiB << 20, Timeout: timeout,
			})
			require.Error(t, lerr)
			_, serr := os.Stat(out)
			assert.True(t, errors.Is(serr, os.ErrNotExist), "the local run committed %s", out)
			if tc.same {
				assert.Equal(t, lerr.Error(), fe.Message)
			}
			for _, h := range tc.holds {
				assert.Contains(t, fe.Message, h)
			}
			assert.Contains(t, fe.Message, "nothing was committed")
		})
	}
}

// TestGuestSeesNoAWSEnvironment runs a task that writes out its whole
// environment: in Lambda, that must not include the function's credentials
// or anything else of AWS.
func TestGuestSeesNoAWSEnvironment(t *testing.T) {
	requireEmulator(t)
	srv := fakes3.Start(t)
	srv.CreateBucket(t, "env")
	spec := fixtureSpec(t, "environ", "env")
	fn, _ := function(t, srv, pack(t, spec, fixture(t, "environ"), nil), map[string]string{"env": "s3://env/env"}, 30*time.Second, 512)
	body, err := fn.Invoke(context.Background(), nil)
	require.NoError(t, err, "body: %s", body)
	got, ok := srv.GetObject(t, "env", "env")
	require.True(t, ok)
	assert.NotContains(t, string(got), "AWS_")
	assert.NotContains(t, string(got), "GLACIER_")
	assert.Equal(t, "environ:\nargs:environ\n", string(got))
	// The function itself did have credentials: it reached S3 with them.
	assert.Contains(t, fn.Output(), "START RequestId")
}

func TestDeploymentErrorUnderEmulator(t *testing.T) {
	requireEmulator(t)
	srv := fakes3.Start(t)
	spec := fixtureSpec(t, "environ", "env")
	fn, _ := function(t, srv, pack(t, spec, fixture(t, "environ"), nil), map[string]string{"other": "s3://b/other"}, 30*time.Second, 512)
	for range 2 { // every invocation reports it
		body, err := fn.Invoke(context.Background(), []byte(`{}`))
		var fe *lambdarie.FunctionError
		require.ErrorAs(t, err, &fe, "body: %s", body)
		assert.Equal(t, "Glacier.Init", fe.Type)
		assert.Contains(t, fe.Message, `no URL for output dataset "env"`)
		assert.Contains(t, fe.Message, `names dataset "other"`)
	}
	body, err := fn.Invoke(context.Background(), []byte(`[1]`))
	require.Error(t, err, "body: %s", body)
}
