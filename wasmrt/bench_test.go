package wasmrt_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/testdata/wasm/byteloop/kernel"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// Run the benchmarks with, for example:
//
//	go test -run '^$' -bench . -benchtime 5x ./wasmrt/
//
// Each compares side-by-side variants; see docs/sandbox.md for the figures.

// BenchmarkCompile loads a typical Go task (the copy fixture, about 3.4 MB)
// into a new Runtime: compiled from scratch, and from the on-disk cache a
// second process would find.
func BenchmarkCompile(b *testing.B) {
	wasm := fixtureBytes(b, "copy")
	ctx := context.Background()
	load := func(b *testing.B, cfg wasmrt.Config) {
		rt, err := wasmrt.NewRuntimeWithConfig(ctx, cfg)
		require.NoError(b, err)
		_, err = rt.Load(ctx, wasm)
		require.NoError(b, err)
		require.NoError(b, rt.Close(ctx))
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			load(b, wasmrt.NewConfig())
		}
		b.ReportMetric(float64(len(wasm))/(1<<20), "wasm-MiB")
	})
	b.Run("disk-cache", func(b *testing.B) {
		cfg := wasmrt.NewConfig().WithCacheDir(b.TempDir())
		load(b, cfg) // fill the cache
		for b.Loop() {
			load(b, cfg)
		}
	})
}

// BenchmarkRunEmpty instantiates and runs a Go task that does nothing: the
// fixed cost of an invocation (mostly the Go runtime starting up), in
// process and through a Pool (the difference is the Pool's per-job cost).
func BenchmarkRunEmpty(b *testing.B) {
	m := load(b, "empty")
	rt := sharedRuntime(b)
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := rt.Run(context.Background(), m, wasmrt.Invocation{Task: "empty"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pool-serial", func(b *testing.B) {
		job := poolJob(b, "empty")
		pool := sharedPool(b)
		for range 2 { // both workers have the module compiled
			_, err := pool.Run(context.Background(), job)
			require.NoError(b, err)
		}
		for b.Loop() {
			if _, err := pool.Run(context.Background(), job); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := rt.Run(context.Background(), m, wasmrt.Invocation{Task: "empty"}); err != nil {
					b.Error(err)
				}
			}
		})
	})
}

// BenchmarkRunPart runs one part of a map task as the local Map benchmark
// does (the concat fixture over a one-line input, its output kept in
// memory), in process: what instantiating and starting a typical Go task
// costs each part, without the worker pool or the store; "empty" is a Go
// module that does nothing, for comparison. Each reports the CPU time of
// a run (cpu-ms/op), which unlike ns/op barely changes when other work
// shares the machine. See docs/local.md.
func BenchmarkRunPart(b *testing.B) {
	for _, name := range []string{"empty", "concat"} {
		b.Run(name, func(b *testing.B) {
			m := load(b, name)
			rt := sharedRuntime(b)
			_, before := usage()
			for b.Loop() {
				st := newMemStorage(map[string]string{"logs": "line 1\n"})
				inv := wasmrt.Invocation{Task: "parse", Storage: st, Part: "000/00001.log", Params: map[string]string{"suffix": "+x"}}
				if name == "concat" {
					inv.Inputs, inv.Outputs = []string{"logs"}, []string{"parsed"}
				}
				if _, err := rt.Run(context.Background(), m, inv); err != nil {
					b.Fatal(err)
				}
				if got, _ := st.get("parsed"); name == "concat" && got != "line 1\n+x" {
					b.Fatalf("parsed = %q", got)
				}
			}
			_, after := usage()
			b.ReportMetric((after-before).Seconds()*1000/float64(b.N), "cpu-ms/op")
		})
	}
}

const streamSize = 256 << 20

// BenchmarkStream moves 256 MiB through the data plane in 1 MiB guest
// buffers: host to guest (dataset_read) and guest to host (dataset_write),
// with the output's SHA-256 computed on the way, as by default, and
// without (Invocation.SkipDigests).
func BenchmarkStream(b *testing.B) {
	rt := sharedRuntime(b)
	b.Run("host-to-guest", func(b *testing.B) {
		m := load(b, "streamin")
		b.SetBytes(streamSize)
		for b.Loop() {
			res, err := rt.Run(context.Background(), m, wasmrt.Invocation{
				Task: "streamin", Inputs: []string{"in"}, Storage: benchStorage{},
			})
			require.NoError(b, err)
			require.EqualValues(b, streamSize, res.BytesIn)
		}
	})
	// The same stream from a file, as glacier run serves inputs, with and
	// without the digest check the local store asks for (WithDigest).
	path := filepath.Join(b.TempDir(), "in")
	data := bytes.Repeat(pattern, streamSize/len(pattern))
	require.NoError(b, os.WriteFile(path, data, 0o600))
	sum := sha256.Sum256(data)
	for _, verify := range []bool{false, true} {
		name, u := "host-to-guest-file", filestore.URL(path)
		if verify {
			name, u = name+"-verified", storage.WithDigest(u, hex.EncodeToString(sum[:]), int64(len(data)))
		}
		b.Run(name, func(b *testing.B) {
			m := load(b, "streamin")
			b.SetBytes(streamSize)
			for b.Loop() {
				res, err := rt.Run(context.Background(), m, wasmrt.Invocation{
					Task: "streamin", Inputs: []string{"in"}, Storage: storage.URLs{"in": u},
				})
				require.NoError(b, err)
				require.EqualValues(b, streamSize, res.BytesIn)
			}
		})
	}
	for _, skip := range []bool{false, true} {
		name := "guest-to-host"
		if skip {
			name += "-no-digest"
		}
		b.Run(name, func(b *testing.B) {
			m := load(b, "streamout")
			b.SetBytes(streamSize)
			for b.Loop() {
				res, err := rt.Run(context.Background(), m, wasmrt.Invocation{
					Task: "streamout", Outputs: []string{"out"}, Storage: benchStorage{},
					Params:      map[string]string{"mib": strconv.Itoa(streamSize >> 20)},
					SkipDigests: skip,
				})
				require.NoError(b, err)
				require.EqualValues(b, streamSize, res.BytesOut)
			}
		})
	}
}

// benchStorage serves streamSize bytes of a repeating pattern for any input
// and discards outputs, so the benchmark measures the sandbox, not a disk.
type benchStorage struct{}

var pattern = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

func (benchStorage) Open(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(&patternReader{left: streamSize}), nil
}

func (benchStorage) Stage(context.Context, string) (storage.Staged, error) { return discard{}, nil }

type patternReader struct{ left int }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.left, len(pattern))]
	n := copy(p, pattern)
	r.left -= n
	return n, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error)   { return len(p), nil }
func (discard) Commit(context.Context) error  { return nil }
func (discard) Discard(context.Context) error { return nil }

// loopRounds makes each byte loop run for about 0.1 s.
const loopRounds = 64

// BenchmarkByteLoop runs the same byte-by-byte loops (package kernel, over
// 1 MiB, 64 times) natively and as a Wasm task; each wasm variant reports
// how many times slower than native it is as x-native. "hash" is bound by
// the latency of a multiply chain, "scan" by loading and testing each byte.
func BenchmarkByteLoop(b *testing.B) {
	buf := make([]byte, 1<<20)
	kernel.Fill(buf)
	for _, kind := range []string{"hash", "scan"} {
		var nativeNs float64
		b.Run(kind+"/native", func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				sink = kernel.Run(kind, buf, loopRounds)
			}
			nativeNs = float64(time.Since(start)) / float64(b.N)
		})
		b.Run(kind+"/wasm", func(b *testing.B) {
			m := load(b, "byteloop")
			rt := sharedRuntime(b)
			params := map[string]string{"kind": kind, "rounds": strconv.Itoa(loopRounds)}
			start := time.Now()
			for b.Loop() {
				runLoop(b, func() (wasmrt.Result, error) {
					return rt.Run(context.Background(), m, wasmrt.Invocation{Task: "byteloop", Params: params})
				})
			}
			if nativeNs > 0 {
				b.ReportMetric(float64(time.Since(start))/float64(b.N)/nativeNs, "x-native")
			}
		})
	}
}

var sink uint32

func runLoop(b *testing.B, run func() (wasmrt.Result, error)) {
	if _, err := run(); err != nil {
		b.Fatal(err)
	}
}

// loopJob makes the scan loop run for about half a second in the sandbox
// (1 MiB, rounds times), so the fixed cost of a job does not hide a slowdown
// of guest code.
func loopJob(rounds int) map[string]string {
	return map[string]string{"kind": "scan", "rounds": strconv.Itoa(rounds)}
}

// timeLoop runs run in a b.Loop and reports ns per MiB scanned, which
// compares variants that scan different amounts.
func timeLoop(b *testing.B, rounds int, run func() (wasmrt.Result, error)) {
	start := time.Now()
	for b.Loop() {
		runLoop(b, run)
	}
	b.ReportMetric(float64(time.Since(start))/float64(b.N)/float64(rounds), "ns/MiB")
}

// BenchmarkLoopTimeout runs a long byte loop in process with no timeout at
// all, through a Pool with a timeout, and in process with
// WithCloseOnContextDone (on an eighth of the work: it is that slow). The
// Pool's way of enforcing timeouts must not slow guest code down: compare
// the ns/MiB of the variants.
func BenchmarkLoopTimeout(b *testing.B) {
	const rounds = 384
	b.Run("runtime-no-timeout", func(b *testing.B) {
		m := load(b, "byteloop")
		rt := sharedRuntime(b)
		timeLoop(b, rounds, func() (wasmrt.Result, error) {
			return rt.Run(context.Background(), m, wasmrt.Invocation{Task: "byteloop", Params: loopJob(rounds)})
		})
	})
	b.Run("pool-timeout", func(b *testing.B) {
		job := poolJob(b, "byteloop")
		job.Params, job.Timeout = loopJob(1), time.Minute
		pool := sharedPool(b)
		for range 2 { // both workers have the module compiled
			runLoop(b, func() (wasmrt.Result, error) { return pool.Run(context.Background(), job) })
		}
		job.Params = loopJob(rounds)
		timeLoop(b, rounds, func() (wasmrt.Result, error) { return pool.Run(context.Background(), job) })
	})
	b.Run("runtime-close-on-ctx-done", func(b *testing.B) {
		rt, err := wasmrt.NewRuntimeWithConfig(context.Background(), wasmrt.NewConfig().WithCacheDir(cacheDir).WithCloseOnContextDone(true))
		require.NoError(b, err)
		defer rt.Close(context.Background())
		m, err := rt.Load(context.Background(), fixtureBytes(b, "byteloop"))
		require.NoError(b, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		timeLoop(b, rounds/8, func() (wasmrt.Result, error) {
			return rt.Run(ctx, m, wasmrt.Invocation{Task: "byteloop", Params: loopJob(rounds / 8)})
		})
	})
}

func poolJob(b *testing.B, name string) wasmrt.Job {
	path := fixture(b, name)
	wasm, err := os.ReadFile(path)
	require.NoError(b, err)
	return wasmrt.Job{ModulePath: path, ModuleSHA256: sha(string(wasm)), Task: name}
}

// BenchmarkPoolThroughput runs trivial tasks through a two-worker Pool from
// several goroutines and reports tasks/s.
func BenchmarkPoolThroughput(b *testing.B) {
	job := poolJob(b, "empty")
	pool := sharedPool(b)
	for range 4 { // both workers have the module compiled
		_, err := pool.Run(context.Background(), job)
		require.NoError(b, err)
	}
	var failed atomic.Int64
	b.SetParallelism(2) // 2 x GOMAXPROCS goroutines keep both workers busy
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := pool.Run(context.Background(), job); err != nil {
				failed.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tasks/s")
	require.Zero(b, failed.Load())
}

// BenchmarkRunSmall runs tasks in process with tiny datasets kept in memory,
// so only the sandbox's per-invocation work is measured: "empty" does
// nothing and imports nothing; "copy" copies a 16-byte input to its output
// through the guest SDK, as an ordinary small task does. Each reports the
// page faults it caused (faults/op), a large part of the cost of starting
// a guest, and the CPU time it used (cpu-ns/op), which unlike ns/op does
// not grow when other work shares the machine.
func BenchmarkRunSmall(b *testing.B) {
	rt := sharedRuntime(b)
	for _, name := range []string{"empty", "copy"} {
		b.Run(name, func(b *testing.B) {
			m := load(b, name)
			inv := func() wasmrt.Invocation {
				if name == "empty" {
					return wasmrt.Invocation{Task: name}
				}
				return wasmrt.Invocation{Task: name, Inputs: []string{"in"}, Outputs: []string{"out"},
					Params: map[string]string{"suffix": "!"}, Storage: newMemStorage(map[string]string{"in": "0123456789abcdef"})}
			}
			faults, cpu := usage()
			for b.Loop() {
				if _, err := rt.Run(context.Background(), m, inv()); err != nil {
					b.Fatal(err)
				}
			}
			faults2, cpu2 := usage()
			b.ReportMetric(float64(faults2-faults)/float64(b.N), "faults/op")
			b.ReportMetric(float64(cpu2-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
