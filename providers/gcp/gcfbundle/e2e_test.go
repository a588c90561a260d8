package gcfbundle_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/iterator"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/etlgolden"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// etlDir is the example pipeline the end-to-end test deploys.
var etlDir = filepath.Join("..", "..", "..", "examples", "etl")

// etlFixture is examples/etl built, planned, packaged and each bundle
// built, once per test process.
type etlFixture struct {
	dir     string
	plan    *plan.Flow
	zips    map[string][]byte
	bundles map[string]builtBundle
}

var etl struct {
	once sync.Once
	fix  *etlFixture
}

func etlBundles(tb testing.TB) *etlFixture {
	tb.Helper()
	needGo(tb)
	etl.once.Do(func() { etl.fix = makeETL(tb) })
	if etl.fix == nil {
		tb.Fatal("packaging examples/etl failed in an earlier test")
	}
	return etl.fix
}

// etlSpec is the spec the compiler gives a task, its outputs' contracts
// included.
func etlSpec(pl *plan.Flow, t plan.Task) fnspec.TaskSpec {
	spec := fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: pl.Name, Task: t.Name, ModuleSHA256: t.Module.SHA256,
		Params: t.Params, Inputs: t.Reads, Outputs: t.Writes,
		MemoryMiB: t.Limits.MemoryMiB, TimeoutSecs: t.Limits.TimeoutSecs,
	}
	for _, out := range t.Writes {
		if d, _ := pl.Dataset(out); d.Schema != nil {
			raw, err := d.Schema.Encode()
			if err != nil {
				panic(err)
			}
			if spec.Schemas == nil {
				spec.Schemas = map[string]json.RawMessage{}
			}
			spec.Schemas[out] = raw
		}
	}
	return spec
}

func makeETL(tb testing.TB) *etlFixture {
	ctx := context.Background()
	m, err := manifest.Load(filepath.Join(etlDir, manifest.DefaultFile))
	require.NoError(tb, err)
	mods, err := build.Modules(ctx, m.Pipeline, build.Options{Dir: m.Dir, OutDir: workDir(tb, "modules")})
	require.NoError(tb, err)
	pl, err := plan.New(m.Pipeline, mods)
	require.NoError(tb, err)
	fix := &etlFixture{dir: m.Dir, plan: pl, zips: map[string][]byte{}, bundles: map[string]builtBundle{}}
	for _, t := range pl.Tasks {
		zb, err := gcfbundle.Package(ctx, gcfbundle.PackageOptions{Spec: etlSpec(pl, t), WasmPath: t.Module.Path, CacheDir: testCacheDir(tb)})
		require.NoError(tb, err, "package task %s", t.Name)
		fix.zips[t.Name] = zb
		fix.bundles[t.Name] = buildBundle(tb, t.Name, zb)
	}
	return fix
}

// bucketOf names the bucket of a dataset, one per dataset as the compiler
// lays them out; the object is the dataset's name.
func bucketOf(prefix, dataset string) string {
	return prefix + "-" + strings.ReplaceAll(dataset, "_", "-")
}

// TestETL serves every task of examples/etl from its own bundle, with the
// functions framework and a fake Cloud Storage, runs them wave by wave as
// the workflow does, and checks that every dataset is byte for byte what
// the local sandbox writes and what the example's golden files hold.
func TestETL(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and serves five Cloud Functions bundles (minutes); run without -short")
	}
	fix := etlBundles(t)
	ctx := t.Context()
	srv := fakegcs.Start(t)
	urls := map[string]string{}
	for _, d := range fix.plan.Datasets {
		b := bucketOf("etl", d.Name)
		srv.CreateBucket(t, b)
		urls[d.Name] = "gs://" + b + "/" + d.Name
	}
	for _, d := range fix.plan.Sources() {
		data, err := os.ReadFile(filepath.Join(fix.dir, filepath.FromSlash(d.Source)))
		require.NoError(t, err)
		srv.PutObject(t, bucketOf("etl", d.Name), d.Name, data)
	}

	// Start every function at once; they are ready in any order.
	fns := map[string]*function{}
	for _, task := range fix.plan.Tasks {
		fns[task.Name] = launch(t, fix.bundles[task.Name], map[string]string{
			"STORAGE_EMULATOR_HOST": srv.Host,
			fnspec.DatasetsEnv:      datasetsEnv(t, urls, task.Touches()...),
		})
	}
	for name, f := range fns {
		require.NoError(t, f.WaitReady(2*time.Minute), "function %s:\n%s", name, f.Output())
	}

	responses := map[string]fnspec.Response{}
	var mu sync.Mutex
	for i, wave := range fix.plan.Waves {
		var wg sync.WaitGroup
		for _, name := range wave {
			wg.Go(func() {
				status, body, err := fns[name].Invoke(ctx, "e2e-run")
				mu.Lock()
				defer mu.Unlock()
				if !assert.NoError(t, err, "invoke %s", name) ||
					!assert.Equal(t, http.StatusOK, status, "task %s (wave %d): %s\nfunction output:\n%s", name, i, body, fns[name].Output()) {
					return
				}
				var r fnspec.Response
				if assert.NoError(t, json.Unmarshal(body, &r)) {
					responses[name] = r
					t.Logf("wave %d: %s", i, body)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}

	local := runLocally(t, fix)
	for _, d := range fix.plan.Datasets {
		if d.Producer == "" {
			continue
		}
		got, ok := srv.GetObject(t, bucketOf("etl", d.Name), d.Name)
		require.True(t, ok, "dataset %s was not written", d.Name)
		assert.Equal(t, sha(local[d.Name]), sha(got), "dataset %s differs from the local sandbox's", d.Name)
		assert.Equal(t, sha(etlgolden.Output(t, d.Name)), sha(got), "dataset %s differs from its golden file", d.Name)
		out := responses[d.Producer].Outputs[d.Name]
		assert.Equal(t, fnspec.OutputInfo{Size: int64(len(got)), SHA256: sha(got)}, out, "response of %s", d.Producer)
		assert.Equal(t, "e2e-run", responses[d.Producer].RunID)
	}
	// The task's log reaches the function's log, prefixed.
	assert.Contains(t, fns["clean_orders"].Output(), "[clean_orders] ")
	// The precompiled code was used: no function compiled its module.
	if gcfbundle.Precompilable() {
		for name, f := range fns {
			assert.Empty(t, f.CompiledFiles(t), "function %s compiled its module instead of loading the bundle's precompiled code", name)
		}
	}
}

// runLocally runs the pipeline's modules in the local sandbox, in plan
// order, over files, and returns every dataset's bytes.
func runLocally(t *testing.T, fix *etlFixture) map[string][]byte {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	urls := map[string]string{}
	for _, d := range fix.plan.Datasets {
		urls[d.Name] = filestore.URL(filepath.Join(dir, d.Name))
		if d.Source != "" {
			data, err := os.ReadFile(filepath.Join(fix.dir, filepath.FromSlash(d.Source)))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, d.Name), data, 0o644))
		}
	}
	rt, err := wasmrt.NewRuntimeWithConfig(ctx, wasmrt.NewConfig().WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	defer rt.Close(ctx)
	for _, wave := range fix.plan.Waves {
		for _, name := range wave {
			task, _ := fix.plan.Task(name)
			wasm, err := os.ReadFile(task.Module.Path)
			require.NoError(t, err)
			m, err := rt.Load(ctx, wasm)
			require.NoError(t, err)
			st := storage.URLs{}
			for _, n := range task.Touches() {
				st[n] = urls[n]
			}
			_, err = rt.Run(ctx, m, wasmrt.Invocation{
				Task: name, RunID: "local", Params: task.Params, Inputs: task.Reads, Outputs: task.Writes,
				Storage: st, MemoryLimit: uint64(task.Limits.MemoryMiB) << 20,
			})
			require.NoError(t, err, "local run of %s", name)
		}
	}
	out := map[string][]byte{}
	for n := range urls {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		out[n] = b
	}
	return out
}

// hostile is a guest that misbehaves, and how its function must fail.
type hostile struct {
	fixture string
	// name tells apart two cases of one fixture; empty means the fixture's.
	name    string
	outputs []string
	edit    func(*fnspec.TaskSpec)
	// kind is the fnspec Kind of the failure; empty for a task that succeeds.
	kind fnspec.Kind
	msg  string
}

var hostiles = []hostile{
	{fixture: "errorpartial", outputs: []string{"out"}, kind: fnspec.KindTaskFailed, msg: "row 7: bad currency code"},
	{fixture: "panicpartial", outputs: []string{"out"}, kind: fnspec.KindTaskFailed, msg: "code 2"},
	{fixture: "exit3", outputs: []string{"out"}, kind: fnspec.KindTaskFailed, msg: "exited with code 3"},
	{fixture: "membomb", outputs: []string{"out"}, edit: func(s *fnspec.TaskSpec) { s.MemoryMiB = 64 }, kind: fnspec.KindMemoryLimit, msg: "ran out of memory"},
	{fixture: "undeclared", kind: fnspec.KindTaskFailed, msg: "secret"},
	{fixture: "loop", outputs: []string{"out"}, edit: func(s *fnspec.TaskSpec) { s.TimeoutSecs = 2 }, kind: fnspec.KindTimeout, msg: "before the function's deadline"},
	{fixture: "environ", outputs: []string{"env"}},
	// A task that succeeds, but writes what breaks its output's contract.
	{fixture: "environ", name: "environ-contract", outputs: []string{"env"},
		edit: func(s *fnspec.TaskSpec) {
			s.Schemas = map[string]json.RawMessage{"env": json.RawMessage(`{"format":"jsonl"}`)}
		},
		kind: fnspec.KindContract, msg: `breaks its contract: dataset "env": line 1 (record 1): the record is not valid JSON: unexpected "e" at byte 1`},
}

// id names the case: its bundle, its bucket and its subtest.
func (h hostile) id() string {
	if h.name != "" {
		return h.name
	}
	return h.fixture
}

func (h hostile) spec(tb testing.TB, wasmPath string) fnspec.TaskSpec {
	s := specFor(tb, h.fixture, wasmPath, nil, h.outputs)
	if h.edit != nil {
		h.edit(&s)
	}
	return s
}

func fixturePath(tb testing.TB, name string) string {
	return wasmbuild.Build(tb, filepath.Join("..", "..", "..", "testdata", "wasm", name))
}

var hostileBuilds struct {
	once    sync.Once
	bundles map[string]builtBundle
}

func hostileBundles(tb testing.TB) map[string]builtBundle {
	tb.Helper()
	needGo(tb)
	for _, h := range hostiles {
		fixturePath(tb, h.fixture) // skips here, not inside once, if wasip1 cannot be built
	}
	hostileBuilds.once.Do(func() {
		out := map[string]builtBundle{}
		for _, h := range hostiles {
			wasmPath := fixturePath(tb, h.fixture)
			zb, err := gcfbundle.Package(context.Background(), gcfbundle.PackageOptions{
				Spec: h.spec(tb, wasmPath), WasmPath: wasmPath, CacheDir: testCacheDir(tb),
			})
			require.NoError(tb, err, "package %s", h.id())
			out[h.id()] = buildBundle(tb, h.id(), zb)
		}
		hostileBuilds.bundles = out
	})
	if hostileBuilds.bundles == nil {
		tb.Fatal("packaging the hostile fixtures failed in an earlier test")
	}
	return hostileBuilds.bundles
}

// TestHostile serves misbehaving guests from their bundles and checks
// that each fails as it does in the local sandbox, with nothing committed,
// and that the guest sees nothing of the function's environment.
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and serves eight Cloud Functions bundles (minutes); run without -short")
	}
	bundles := hostileBundles(t)
	srv := fakegcs.Start(t)
	const secrets = "hostile-secrets"
	srv.CreateBucket(t, secrets)
	srv.PutObject(t, secrets, "secret", []byte("the task must not read this"))
	pool, err := wasmrt.NewPool(t.Context(), wasmrt.PoolOptions{Workers: 2, CacheDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close() })

	for _, h := range hostiles {
		t.Run(h.id(), func(t *testing.T) {
			t.Parallel()
			bucket := bucketOf("hostile", h.id())
			srv.CreateBucket(t, bucket)
			urls := map[string]string{}
			for _, o := range h.outputs {
				urls[o] = "gs://" + bucket + "/" + o
			}
			f := serve(t, bundles[h.id()], map[string]string{
				"STORAGE_EMULATOR_HOST": srv.Host,
				fnspec.DatasetsEnv:      datasetsEnv(t, urls, h.outputs...),
			})
			status, body, err := f.Invoke(t.Context(), "hostile-run")
			require.NoError(t, err)
			local, localErr := runHostileLocally(t, pool, h)

			if h.kind == "" {
				require.Equal(t, http.StatusOK, status, "%s\nfunction output:\n%s", body, f.Output())
				require.NoError(t, localErr)
				for _, o := range h.outputs {
					got, ok := srv.GetObject(t, bucket, o)
					require.True(t, ok)
					assert.Equal(t, string(local[o]), string(got), "output %s differs from the local sandbox's", o)
				}
				checkEnviron(t, string(local["env"]))
				return
			}
			want := http.StatusInternalServerError
			if h.kind.Permanent() {
				want = gcfrt.StatusPermanent
			}
			require.Equal(t, want, status, "%s\nfunction output:\n%s", body, f.Output())
			var fail gcfrt.Failure
			require.NoError(t, json.Unmarshal(body, &fail))
			assert.Equal(t, gcfrt.Failure{Task: h.fixture, RunID: "hostile-run", Status: "failed", Kind: h.kind, Error: fail.Error}, fail)
			assert.Contains(t, fail.Error, h.msg)
			assert.Contains(t, fail.Error, "nothing was committed")
			require.Error(t, localErr)
			assert.Equal(t, string(h.kind), wasmrt.KindOf(localErr), "local error: %v", localErr)
			if h.kind != fnspec.KindTimeout { // the function says how long before its deadline it stopped
				assert.Equal(t, localErr.Error(), fail.Error, "the function's error differs from the local sandbox's")
			}
			assert.Empty(t, objects(t, srv, bucket), "a failed task committed something")
		})
	}
	t.Run("secret untouched", func(t *testing.T) {
		assert.Equal(t, []string{"secret"}, objects(t, srv, secrets))
	})
}

// checkEnviron checks what the environ fixture wrote: no environment at
// all, and its task name as its only argument.
func checkEnviron(t *testing.T, got string) {
	t.Helper()
	assert.Equal(t, "environ:\nargs:environ\n", got)
	for _, leak := range []string{"GOOGLE", "GCP", "K_SERVICE", "STORAGE_EMULATOR_HOST", "GLACIER", "secret-project", "do-not-leak"} {
		assert.NotContains(t, got, leak)
	}
}

// runHostileLocally runs a hostile fixture as glacier run does: in a
// wasmrt.Pool worker, over files.
func runHostileLocally(t *testing.T, pool *wasmrt.Pool, h hostile) (map[string][]byte, error) {
	t.Helper()
	wasmPath := fixturePath(t, h.fixture)
	spec := h.spec(t, wasmPath)
	dir := t.TempDir()
	job := wasmrt.Job{
		ModulePath: wasmPath, ModuleSHA256: spec.ModuleSHA256, Task: spec.Task, RunID: "local",
		Outputs: map[string]string{}, MemoryLimit: uint64(spec.MemoryMiB) << 20,
		Timeout: time.Duration(spec.TimeoutSecs) * time.Second, Schemas: spec.Schemas,
	}
	for _, o := range h.outputs {
		job.Outputs[o] = filestore.URL(filepath.Join(dir, o))
	}
	_, err := pool.Run(t.Context(), job)
	out := map[string][]byte{}
	for _, o := range h.outputs {
		if b, rerr := os.ReadFile(filepath.Join(dir, o)); rerr == nil {
			out[o] = b
		}
	}
	if err != nil {
		assert.Empty(t, out, "the local sandbox committed output of a failed task")
	}
	return out, err
}

// objects lists a bucket's object names, sorted.
func objects(t *testing.T, srv *fakegcs.Server, bucket string) []string {
	t.Helper()
	var names []string
	it := srv.Client.Bucket(bucket).Objects(t.Context(), nil)
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		require.NoError(t, err)
		names = append(names, a.Name)
	}
	sort.Strings(names)
	return names
}
