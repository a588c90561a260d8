package fnrt_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// BenchmarkInvoke measures what running a task in a Pool worker, which is
// what lets a function stop a runaway task before the platform's deadline,
// costs each invocation: a Handler's warm Invoke against the same module run
// by a Runtime in this process, over the same small file datasets (in
// memory when /dev/shm exists, so the file driver's fsync does not drown
// the difference).
func BenchmarkInvoke(b *testing.B) {
	fn, _ := artifact(b, "copy", func(s *fnspec.TaskSpec) { s.Inputs = []string{"in"} })
	data := memDir(b)
	require.NoError(b, os.WriteFile(filepath.Join(data, "in"), []byte("0123456789"), 0o644))
	urls := fileURLs(data, "in", "out")
	ctx := context.Background()

	b.Run("handler", func(b *testing.B) {
		h := newHandler(b, fnrt.Options{Dir: fn, Datasets: urls, Log: io.Discard})
		_, err := h.Invoke(ctx, fnspec.Request{}) // warm the worker
		require.NoError(b, err)
		for b.Loop() {
			if _, err := h.Invoke(ctx, fnspec.Request{RunID: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		rt, err := wasmrt.NewRuntimeWithConfig(ctx, wasmrt.NewConfig().WithCacheDir(precompiled(b, "copy")))
		require.NoError(b, err)
		defer rt.Close(ctx)
		wasm, err := os.ReadFile(filepath.Join(fn, fnspec.ModuleFile))
		require.NoError(b, err)
		m, err := rt.Load(ctx, wasm)
		require.NoError(b, err)
		inv := wasmrt.Invocation{Task: "copy", RunID: "bench", Inputs: []string{"in"}, Outputs: []string{"out"},
			Storage: storage.URLs(urls), MemoryLimit: 64 << 20}
		for b.Loop() {
			if _, err := rt.Run(ctx, m, inv); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFirstInvoke measures a Handler's cold path: New (which starts
// the sandbox worker) and the first Invoke (which loads the module from the
// precompiled cache) and Close. A worker killed for a timeout is replaced
// at about this cost on the next invocation.
func BenchmarkFirstInvoke(b *testing.B) {
	fn, _ := artifact(b, "copy", func(s *fnspec.TaskSpec) { s.Inputs = []string{"in"} })
	data := memDir(b)
	require.NoError(b, os.WriteFile(filepath.Join(data, "in"), []byte("0123456789"), 0o644))
	urls := fileURLs(data, "in", "out")
	ctx := context.Background()
	scratch := b.TempDir()
	for b.Loop() {
		h, err := fnrt.New(ctx, fnrt.Options{Dir: fn, Datasets: urls, ScratchDir: scratch, Log: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Invoke(ctx, fnspec.Request{}); err != nil {
			b.Fatal(err)
		}
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// memDir returns a temporary directory in memory if the system has one.
func memDir(b *testing.B) string {
	b.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "glacier-bench-")
		require.NoError(b, err)
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkNew measures a cold start's share of the runtime: reading and
// checking the artifact, linking the precompiled cache and starting the
// sandbox worker (then Close).
func BenchmarkNew(b *testing.B) {
	fn, _ := artifact(b, "copy", func(s *fnspec.TaskSpec) { s.Inputs = []string{"in"} })
	urls := fileURLs(b.TempDir(), "in", "out")
	ctx := context.Background()
	scratch := b.TempDir()
	for b.Loop() {
		h, err := fnrt.New(ctx, fnrt.Options{Dir: fn, Datasets: urls, ScratchDir: scratch, Log: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
