package fnrt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// BenchmarkInvoke measures what running a task in a Pool worker, which is
// what lets a function stop a runaway task before the platform's deadline,
// costs each invocation: a Handler's warm Invoke against the same module run
// by a Runtime in this process, over the same small file datasets.
func BenchmarkInvoke(b *testing.B) {
	fn, _ := artifact(b, "copy", func(s *fnrt.TaskSpec) { s.Inputs = []string{"in"} })
	data := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(data, "in"), []byte("0123456789"), 0o644))
	urls := fileURLs(data, "in", "out")
	ctx := context.Background()

	b.Run("handler", func(b *testing.B) {
		h := newHandler(b, fnrt.Options{Dir: fn, Datasets: urls})
		_, err := h.Invoke(ctx, fnrt.Request{}) // warm the worker
		require.NoError(b, err)
		for b.Loop() {
			if _, err := h.Invoke(ctx, fnrt.Request{RunID: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		rt, err := wasmrt.NewRuntimeWithConfig(ctx, wasmrt.NewConfig().WithCacheDir(precompiled(b, "copy")))
		require.NoError(b, err)
		defer rt.Close(ctx)
		wasm, err := os.ReadFile(filepath.Join(fn, fnrt.ModuleFile))
		require.NoError(b, err)
		m, err := rt.Load(ctx, wasm)
		require.NoError(b, err)
		inv := wasmrt.Invocation{Task: "copy", RunID: "bench", Inputs: []string{"in"}, Outputs: []string{"out"},
			Storage: wasmrt.URLStorage(urls), MemoryLimit: 64 << 20}
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
	fn, _ := artifact(b, "copy", func(s *fnrt.TaskSpec) { s.Inputs = []string{"in"} })
	data := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(data, "in"), []byte("0123456789"), 0o644))
	urls := fileURLs(data, "in", "out")
	ctx := context.Background()
	scratch := b.TempDir()
	for b.Loop() {
		h, err := fnrt.New(ctx, fnrt.Options{Dir: fn, Datasets: urls, ScratchDir: scratch})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Invoke(ctx, fnrt.Request{}); err != nil {
			b.Fatal(err)
		}
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
