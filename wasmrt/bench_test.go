package wasmrt_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
// fixed cost of an invocation (mostly the Go runtime starting up).
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

const streamSize = 256 << 20

// BenchmarkStream moves 256 MiB through the data plane in 1 MiB guest
// buffers: host to guest (dataset_read) and guest to host (dataset_write,
// which includes computing the output's SHA-256).
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
	b.Run("guest-to-host", func(b *testing.B) {
		m := load(b, "streamout")
		b.SetBytes(streamSize)
		for b.Loop() {
			res, err := rt.Run(context.Background(), m, wasmrt.Invocation{
				Task: "streamout", Outputs: []string{"out"}, Storage: benchStorage{},
				Params: map[string]string{"mib": strconv.Itoa(streamSize >> 20)},
			})
			require.NoError(b, err)
			require.EqualValues(b, streamSize, res.BytesOut)
		}
	})
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

func (benchStorage) Stage(context.Context, string) (wasmrt.Staged, error) { return discard{}, nil }

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

// loopRounds makes the byte loop run about half a second in the sandbox.
const loopRounds = 64

// BenchmarkByteLoop runs the same byte-by-byte loop (kernel.Loop over 1 MiB,
// 64 times) natively and as a Wasm task; the wasm variant reports how many
// times slower it is as x-native.
func BenchmarkByteLoop(b *testing.B) {
	buf := make([]byte, 1<<20)
	kernel.Fill(buf)
	native := func() time.Duration {
		start := time.Now()
		kernel.Loop(buf, loopRounds)
		return time.Since(start)
	}
	b.Run("native", func(b *testing.B) {
		for b.Loop() {
			kernel.Loop(buf, loopRounds)
		}
	})
	b.Run("wasm", func(b *testing.B) {
		m := load(b, "byteloop")
		rt := sharedRuntime(b)
		ref := min(native(), native(), native())
		start := time.Now()
		n := 0
		for b.Loop() {
			runLoop(b, func() (wasmrt.Result, error) {
				return rt.Run(context.Background(), m, wasmrt.Invocation{Task: "byteloop", Params: loopParams})
			})
			n++
		}
		b.ReportMetric(float64(time.Since(start))/float64(n)/float64(ref), "x-native")
	})
}

var loopParams = map[string]string{"rounds": strconv.Itoa(loopRounds)}

func runLoop(b *testing.B, run func() (wasmrt.Result, error)) {
	if _, err := run(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLoopTimeout runs the byte loop in process with no timeout at all
// and through a Pool with a timeout: the Pool's way of enforcing timeouts
// must not slow guest code down. Compare the two ns/op.
func BenchmarkLoopTimeout(b *testing.B) {
	b.Run("runtime-no-timeout", func(b *testing.B) {
		m := load(b, "byteloop")
		rt := sharedRuntime(b)
		for b.Loop() {
			runLoop(b, func() (wasmrt.Result, error) {
				return rt.Run(context.Background(), m, wasmrt.Invocation{Task: "byteloop", Params: loopParams})
			})
		}
	})
	b.Run("pool-timeout", func(b *testing.B) {
		job := poolJob(b, "byteloop")
		job.Params, job.Timeout = loopParams, time.Minute
		pool := sharedPool(b)
		runLoop(b, func() (wasmrt.Result, error) { return pool.Run(context.Background(), job) }) // warm both workers' caches
		runLoop(b, func() (wasmrt.Result, error) { return pool.Run(context.Background(), job) })
		for b.Loop() {
			runLoop(b, func() (wasmrt.Result, error) { return pool.Run(context.Background(), job) })
		}
	})
	b.Run("runtime-close-on-ctx-done", func(b *testing.B) {
		rt, err := wasmrt.NewRuntimeWithConfig(context.Background(), wasmrt.NewConfig().WithCacheDir(cacheDir).WithCloseOnContextDone(true))
		require.NoError(b, err)
		defer rt.Close(context.Background())
		m, err := rt.Load(context.Background(), fixtureBytes(b, "byteloop"))
		require.NoError(b, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for b.Loop() {
			runLoop(b, func() (wasmrt.Result, error) {
				return rt.Run(ctx, m, wasmrt.Invocation{Task: "byteloop", Params: loopParams})
			})
		}
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
