package lambdazip_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	"github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/store"
)

// benchTask is the examples/etl task the benchmarks package: the first,
// whose input is a source file.
const benchTask = "clean_orders"

// etlTask builds examples/etl's benchTask and returns its spec, module
// path and source data.
func etlTask(b *testing.B) (fnspec.TaskSpec, string, []byte) {
	b.Helper()
	ctx := context.Background()
	m, err := manifest.Load(filepath.Join(repoRoot(b), "examples", "etl", manifest.DefaultFile))
	require.NoError(b, err)
	mods, err := build.Modules(ctx, m.Pipeline, build.Options{Dir: m.Dir, OutDir: b.TempDir()})
	require.NoError(b, err)
	task, ok := m.Pipeline.Task(benchTask)
	require.True(b, ok)
	var mod build.Module
	for _, md := range mods {
		if md.Task == benchTask {
			mod = md
		}
	}
	src, ok := m.Pipeline.Dataset(task.Inputs[0])
	require.True(b, ok)
	data, err := os.ReadFile(m.Resolve(src.Source))
	require.NoError(b, err)
	limits := glacier.LimitsOf(task.Compute)
	return fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: m.Pipeline.Name(), Task: task.Name, ModuleSHA256: mod.SHA256,
		Params: task.Params, Inputs: task.Inputs, Outputs: task.Outputs,
		MemoryMiB: limits.MemoryMiB, TimeoutSecs: limits.TimeoutSecs,
	}, mod.Path, data
}

// BenchmarkArtifactSize reports the sizes of examples/etl's clean_orders
// function for x86_64 (with precompiled code) and arm64 (without):
// bootstrap, module, zip and unzipped bytes. The time per op is that of
// packaging with every cache warm.
func BenchmarkArtifactSize(b *testing.B) {
	spec, wasm, _ := etlTask(b)
	for _, arch := range []string{lambdazip.ArchX86_64, lambdazip.ArchARM64} {
		b.Run(arch, func(b *testing.B) {
			var zb []byte
			for b.Loop() {
				var err error
				zb, err = lambdazip.Package(context.Background(), lambdazip.PackageOptions{Arch: arch, Spec: spec, WasmPath: wasm, CacheDir: cacheDir})
				require.NoError(b, err)
			}
			files := ziptest.Files(b, zb)
			var unzipped, cache int
			for name, data := range files {
				unzipped += len(data)
				if strings.HasPrefix(name, fnspec.PrecompiledDir+"/") {
					cache += len(data)
				}
			}
			b.ReportMetric(mib(len(files[lambdazip.BootstrapFile])), "bootstrap-MiB")
			b.ReportMetric(mib(len(files[fnspec.ModuleFile])), "wasm-MiB")
			b.ReportMetric(mib(cache), "precompiled-MiB")
			b.ReportMetric(mib(len(zb)), "zip-MiB")
			b.ReportMetric(mib(unzipped), "unzipped-MiB")
		})
	}
}

var (
	reportLine = regexp.MustCompile(`REPORT RequestId: (\w+)\t(?:Init Duration: [0-9.]+ ms\t)?Duration: ([0-9.]+) ms`)
)

// invokeDurations returns the Duration of each REPORT line, in order.
func invokeDurations(out string) []time.Duration {
	var ds []time.Duration
	for _, m := range reportLine.FindAllStringSubmatch(out, -1) {
		ms, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			ds = append(ds, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	return ds
}

// BenchmarkColdStart starts examples/etl's clean_orders under the Lambda
// Runtime Interface Emulator, with S3 on gofakes3, and invokes it twice,
// with and without precompiled machine code in the zip. It reports, from
// the emulator's lines: init-ms (INIT REPORT: the bootstrap's start-up,
// including the sandbox worker's), first-ms (the first invocation, which
// loads or compiles the module), cold-ms (their sum, what a cold request
// waits for beyond the emulator's own overhead) and warm-ms (the second
// invocation). The peak resident memory of the bootstrap and of its
// sandbox worker after the invocations are in bootstrap-MiB and worker-MiB.
func BenchmarkColdStart(b *testing.B) {
	requireEmulator(b)
	spec, wasm, data := etlTask(b)
	for _, tc := range []struct {
		name         string
		noPrecompile bool
	}{{"precompiled", false}, {"compile", true}} {
		b.Run(tc.name, func(b *testing.B) {
			zb := pack(b, spec, wasm, func(o *lambdazip.PackageOptions) { o.NoPrecompile = tc.noPrecompile })
			srv := fakes3.Start(b)
			srv.CreateBucket(b, "bench")
			srv.PutObject(b, "bench", spec.Inputs[0], data)
			urls := map[string]string{}
			for _, n := range append(append([]string{}, spec.Inputs...), spec.Outputs...) {
				urls[n] = "s3://bench/" + n
			}
			var init, first, warm time.Duration
			var bootRSS, workerRSS float64
			for b.Loop() {
				fn, dir := function(b, srv, zb, urls, time.Duration(spec.TimeoutSecs)*time.Second, fnspec.FunctionMemoryMiB(spec.MemoryMiB))
				for range 2 {
					body, err := fn.Invoke(context.Background(), []byte(`{"run_id":"bench"}`))
					require.NoError(b, err, "%s", body)
				}
				inits, durs := fn.InitDurations(), invokeDurations(fn.Output())
				require.Len(b, inits, 1)
				require.Len(b, durs, 2)
				init += inits[0]
				first += durs[0]
				warm += durs[1]
				boot, worker := peakRSS(b, dir)
				bootRSS += boot
				workerRSS += worker
			}
			n := float64(b.N)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
			b.ReportMetric(ms(init), "init-ms")
			b.ReportMetric(ms(first), "first-ms")
			b.ReportMetric(ms(init+first), "cold-ms")
			b.ReportMetric(ms(warm), "warm-ms")
			b.ReportMetric(bootRSS/n, "bootstrap-MiB")
			b.ReportMetric(workerRSS/n, "worker-MiB")
		})
	}
}

// BenchmarkCachedInvoke serves examples/etl's clean_orders under the
// Lambda Runtime Interface Emulator with a store on gofakes3, its source
// recorded as a deployment records it. The first invocation runs the
// guest; every one after it finds the memo entry and commits the recorded
// output without starting a guest. It reports, per cached invocation,
// cached-ms (the emulator's Duration: the handler's own time) and
// roundtrip-ms (from sending the invocation to reading its response, the
// emulator's overhead included).
func BenchmarkCachedInvoke(b *testing.B) {
	requireEmulator(b)
	ctx := context.Background()
	spec, wasm, data := etlTask(b)
	spec.Producers = nil // its one input is a source
	zb := pack(b, spec, wasm, nil)
	srv := fakes3.Start(b)
	for _, bucket := range []string{"bench", "bench-state"} {
		srv.CreateBucket(b, bucket)
	}
	drv, err := s3store.New(srv.Client, nil)
	require.NoError(b, err)
	s3store.SetDefault(drv)
	b.Cleanup(func() { s3store.SetDefault(nil) })
	urls, roots := map[string]string{}, map[string]string{}
	for _, n := range append(append([]string{}, spec.Inputs...), spec.Outputs...) {
		urls[n], roots[n] = "s3://bench/"+n, "s3://bench"
	}
	st, err := store.New(nil, store.Layout{State: "s3://bench-state", Datasets: roots})
	require.NoError(b, err)
	v := fnspec.Version{Digest: sha(data), Size: int64(len(data))}
	srv.PutObject(b, "bench", store.ObjectName(v.Digest), data)
	require.NoError(b, st.PutSource(ctx, spec.Pipeline, store.SourceRef{Dataset: spec.Inputs[0], Version: v}))

	env, _ := functionEnv(b, srv, urls)
	env[fnspec.StateEnv] = "s3://bench-state"
	fn := lambdarie.Start(b, lambdarie.Options{BootstrapDir: ziptest.Extract(b, zb), Env: env,
		Timeout: time.Duration(spec.TimeoutSecs) * time.Second, MemoryMiB: fnspec.FunctionMemoryMiB(spec.MemoryMiB)})
	status := func(body []byte) string {
		var r fnspec.Response
		require.NoError(b, json.Unmarshal(body, &r), "%s", body)
		return r.Status
	}
	body, err := fn.Invoke(ctx, []byte(`{"run_id":"bench-0"}`))
	require.NoError(b, err, "%s", body)
	require.Equal(b, "succeeded", status(body))
	var roundtrip time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		body, err := fn.Invoke(ctx, fmt.Appendf(nil, `{"run_id":"bench-%d"}`, i))
		roundtrip += time.Since(start)
		require.NoError(b, err, "%s", body)
		require.Equal(b, "cached", status(body))
	}
	durs := invokeDurations(fn.Output())
	require.Len(b, durs, i+1)
	var cached time.Duration
	for _, d := range durs[1:] {
		cached += d
	}
	n := float64(i)
	b.ReportMetric(float64(cached)/float64(time.Millisecond)/n, "cached-ms")
	b.ReportMetric(float64(roundtrip)/float64(time.Millisecond)/n, "roundtrip-ms")
}

// peakRSS returns the peak resident memory (VmHWM), in MiB, of the
// bootstrap running from dir and of its sandbox worker (the process of the
// same program whose parent it is).
func peakRSS(b *testing.B, dir string) (bootstrap, worker float64) {
	b.Helper()
	exe := filepath.Join(dir, lambdazip.BootstrapFile)
	procs, err := filepath.Glob("/proc/[0-9]*/exe")
	if err != nil || len(procs) == 0 {
		return 0, 0
	}
	for _, p := range procs {
		target, err := os.Readlink(p)
		if err != nil || target != exe {
			continue
		}
		status, err := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if err != nil {
			continue
		}
		var hwm float64
		var ppid int
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				hwm = kb / 1024
			}
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				ppid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		parent, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", ppid))
		if parent == exe {
			worker = hwm
		} else {
			bootstrap = hwm
		}
	}
	return bootstrap, worker
}

// mib is n bytes in MiB, the unit every size in the README is given in.
func mib[N int | int64 | uint64](n N) float64 { return float64(n) / (1 << 20) }
