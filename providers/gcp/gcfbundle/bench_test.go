package gcfbundle_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/etlgolden"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// BenchmarkPackage packages each task of examples/etl, with and without
// precompiled code, and reports the bundle's size zipped and unzipped
// (the shared vendoring is done once, before timing).
func BenchmarkPackage(b *testing.B) {
	fix := etlBundles(b)
	for _, task := range fix.plan.Tasks {
		for _, variant := range []struct {
			name         string
			noPrecompile bool
		}{{"precompiled", false}, {"plain", true}} {
			if !variant.noPrecompile && !gcfbundle.Precompilable() {
				continue
			}
			b.Run(task.Name+"/"+variant.name, func(b *testing.B) {
				opts := gcfbundle.PackageOptions{Spec: etlSpec(fix.plan, task), WasmPath: task.Module.Path,
					CacheDir: testCacheDir(b), NoPrecompile: variant.noPrecompile}
				var zb []byte
				for b.Loop() {
					var err error
					zb, err = gcfbundle.Package(context.Background(), opts)
					require.NoError(b, err)
				}
				var unzipped, vendor, cache int
				for name, data := range ziptest.Files(b, zb) {
					unzipped += len(data)
					switch {
					case strings.HasPrefix(name, "vendor/"):
						vendor += len(data)
					case strings.HasPrefix(name, fnspec.PrecompiledDir+"/"):
						cache += len(data)
					}
				}
				b.ReportMetric(float64(len(zb))/(1<<20), "zip-MiB")
				b.ReportMetric(float64(unzipped)/(1<<20), "unzipped-MiB")
				b.ReportMetric(float64(vendor)/(1<<20), "vendor-MiB")
				b.ReportMetric(float64(cache)/(1<<20), "precompiled-MiB")
				b.ReportMetric(float64(task.Module.Size)/(1<<20), "wasm-MiB")
			})
		}
	}
}

// coldStartTask is the task whose function the cold-start benchmark
// starts: the pipeline's first, over the sample orders.
const coldStartTask = "clean_orders"

// BenchmarkColdStart measures a cold start of a bundle's function: from
// starting the process to the first successful response, which includes
// starting the sandbox worker, loading the module (compiled, or read from
// the precompiled code the bundle ships) and running the task once.
// ready-ms is the part until the function listens.
func BenchmarkColdStart(b *testing.B) {
	fix := etlBundles(b)
	task, _ := fix.plan.Task(coldStartTask)
	_, env := coldStartStorage(b, fix, task)
	bundles := map[string]builtBundle{"compile": plainBundle(b, fix, task)}
	if gcfbundle.Precompilable() {
		bundles["precompiled"] = fix.bundles[coldStartTask]
	}
	for _, name := range []string{"precompiled", "compile"} {
		bb, ok := bundles[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			var ready time.Duration
			for b.Loop() {
				start := time.Now()
				f := launch(b, bb, env)
				require.NoError(b, f.WaitReady(time.Minute), "%s", f.Output())
				ready += time.Since(start)
				status, body, err := f.Invoke(context.Background(), "bench")
				require.NoError(b, err)
				require.Equal(b, http.StatusOK, status, "%s\n%s", body, f.Output())
				b.StopTimer()
				f.Stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ready-ms")
		})
	}
}

// BenchmarkWarmInvoke measures a request to a function that has served
// one already: the per-run cost once the module is loaded.
func BenchmarkWarmInvoke(b *testing.B) {
	fix := etlBundles(b)
	task, _ := fix.plan.Task(coldStartTask)
	_, env := coldStartStorage(b, fix, task)
	f := serve(b, fix.bundles[coldStartTask], env)
	status, body, err := f.Invoke(context.Background(), "warm-up")
	require.NoError(b, err)
	require.Equal(b, http.StatusOK, status, "%s", body)
	for b.Loop() {
		status, body, err := f.Invoke(context.Background(), "bench")
		require.NoError(b, err)
		require.Equal(b, http.StatusOK, status, "%s", body)
	}
}

// coldStartStorage starts a fake Cloud Storage holding the task's inputs
// and returns the function's environment.
func coldStartStorage(b testing.TB, fix *etlFixture, task plan.Task) (*fakegcs.Server, map[string]string) {
	srv := fakegcs.Start(b)
	urls := map[string]string{}
	for _, n := range task.Touches() {
		bucket := bucketOf("bench", n)
		srv.CreateBucket(b, bucket)
		urls[n] = "gs://" + bucket + "/" + n
	}
	for _, d := range fix.plan.Sources() {
		if _, ok := urls[d.Name]; ok {
			data, err := os.ReadFile(filepath.Join(fix.dir, filepath.FromSlash(d.Source)))
			require.NoError(b, err)
			srv.PutObject(b, bucketOf("bench", d.Name), d.Name, data)
		}
	}
	return srv, map[string]string{
		"STORAGE_EMULATOR_HOST": srv.Host,
		fnspec.DatasetsEnv:      datasetsEnv(b, urls, task.Touches()...),
	}
}

var plain struct {
	once   sync.Once
	bundle *builtBundle
}

// plainBundle builds the task's bundle without precompiled code, once per
// process.
func plainBundle(tb testing.TB, fix *etlFixture, task plan.Task) builtBundle {
	plain.once.Do(func() {
		zb, err := gcfbundle.Package(context.Background(), gcfbundle.PackageOptions{
			Spec: etlSpec(fix.plan, task), WasmPath: task.Module.Path, CacheDir: testCacheDir(tb), NoPrecompile: true,
		})
		require.NoError(tb, err)
		b := buildBundle(tb, task.Name+"-plain", zb)
		plain.bundle = &b
	})
	if plain.bundle == nil {
		tb.Fatal("building the bundle without precompiled code failed in an earlier test")
	}
	return *plain.bundle
}

// TestWithoutPrecompiledCode serves a bundle that ships no machine code:
// the function compiles the module at cold start and runs as well.
func TestWithoutPrecompiledCode(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and serves a Cloud Functions bundle; run without -short")
	}
	fix := etlBundles(t)
	task, _ := fix.plan.Task(coldStartTask)
	srv, env := coldStartStorage(t, fix, task)
	f := serve(t, plainBundle(t, fix, task), env)
	status, body, err := f.Invoke(t.Context(), "plain")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s\n%s", body, f.Output())
	assert.NotEmpty(t, f.CompiledFiles(t), "the function did not compile its module, yet its bundle has no precompiled code")
	got, ok := srv.GetObject(t, bucketOf("bench", "orders"), "orders")
	require.True(t, ok)
	assert.Equal(t, sha(etlgolden.Output(t, "orders")), sha(got))
}
