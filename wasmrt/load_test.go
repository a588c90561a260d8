package wasmrt

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/hostile"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmenc"
)

// start is a module whose _start runs body.
func start(body []byte, imports ...wasmenc.Import) []byte {
	return wasmenc.Module{
		Imports:  imports,
		Funcs:    []wasmenc.Func{{Export: "_start", Body: body}},
		MemPages: 1,
	}.Encode()
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name   string
		wasm   []byte
		abi    bool // the error matches ErrABIVersion
		substr []string
	}{
		{
			name:   "unknown glacier_v1 function",
			wasm:   start(nil, wasmenc.Import{Module: "glacier_v1", Name: "dataset_seek", Params: 2, Results: 1}),
			abi:    true,
			substr: []string{"glacier_v1.dataset_seek", "does not provide", "dataset_open"},
		},
		{
			name:   "wrong signature",
			wasm:   start(nil, wasmenc.Import{Module: "glacier_v1", Name: "dataset_close", Params: 2, Results: 1}),
			abi:    true,
			substr: []string{"glacier_v1.dataset_close as (i32,i32) -> (i32)", "host's is (i32) -> (i32)"},
		},
		{
			name:   "future version",
			wasm:   start(nil, wasmenc.Import{Module: "glacier_v7", Name: "dataset_open", Params: 4, Results: 1}),
			abi:    true,
			substr: []string{"glacier_v7.dataset_open", "version 7", "speaks version 1 (glacier_v1)"},
		},
		{
			name:   "odd version",
			wasm:   start(nil, wasmenc.Import{Module: "glacier_vNext", Name: "x"}),
			abi:    true,
			substr: []string{`version "Next"`},
		},
		{
			name:   "other module",
			wasm:   start(nil, wasmenc.Import{Module: "env", Name: "abort"}),
			substr: []string{"imports env.abort", "provides only the modules glacier_v1 and wasi_snapshot_preview1"},
		},
		{
			name:   "unknown WASI function",
			wasm:   start(nil, wasmenc.Import{Module: "wasi_snapshot_preview1", Name: "sock_magic"}),
			substr: []string{"wasi_snapshot_preview1.sock_magic"},
		},
		{
			name:   "no _start",
			wasm:   wasmenc.Module{Funcs: []wasmenc.Func{{Export: "main"}}}.Encode(),
			substr: []string{"exports no _start", "WASI command"},
		},
		{
			name:   "not wasm",
			wasm:   []byte("#!/bin/sh\necho hi\n"),
			substr: []string{"not a WebAssembly binary"},
		},
	}
	r, err := NewRuntime(context.Background())
	require.NoError(t, err)
	defer r.Close(context.Background())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Load(context.Background(), tt.wasm)
			require.Error(t, err)
			if tt.abi {
				assert.ErrorIs(t, err, ErrABIVersion)
			} else {
				assert.NotErrorIs(t, err, ErrABIVersion)
				assert.ErrorIs(t, err, ErrInvalidModule)
			}
			for _, s := range tt.substr {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestLoadOnceBySHA(t *testing.T) {
	r, err := NewRuntime(context.Background())
	require.NoError(t, err)
	defer r.Close(context.Background())
	wasm := start(nil)
	m1, err := r.Load(context.Background(), wasm)
	require.NoError(t, err)
	m2, err := r.Load(context.Background(), append([]byte(nil), wasm...))
	require.NoError(t, err)
	assert.Same(t, m1, m2)
	assert.Len(t, m1.SHA256(), 64)
	assert.Same(t, m1, r.cached(m1.SHA256()))
}

func TestRunHandMadeModules(t *testing.T) {
	r, err := NewRuntime(context.Background())
	require.NoError(t, err)
	defer r.Close(context.Background())
	run := func(t *testing.T, wasm []byte, inv Invocation) error {
		m, err := r.Load(context.Background(), wasm)
		require.NoError(t, err)
		_, err = r.Run(context.Background(), m, inv)
		return err
	}
	t.Run("returns from _start", func(t *testing.T) {
		assert.NoError(t, run(t, start(nil), Invocation{Task: "ret"}))
	})
	t.Run("trap", func(t *testing.T) {
		var log syncLog
		err := run(t, start([]byte{wasmenc.OpUnreachable}), Invocation{Task: "trap", Log: &log})
		require.ErrorIs(t, err, ErrTrap)
		assert.Contains(t, err.Error(), `task "trap" trapped: `)
		assert.Contains(t, err.Error(), "unreachable")
		assert.NotContains(t, err.Error(), "\n", "the stack trace goes to the log")
		assert.Contains(t, log.String(), "wasm stack trace")
	})
	t.Run("fault, then exit 0", func(t *testing.T) {
		// dataset_close(77) on a handle never opened, result dropped.
		body := append(wasmenc.I32Const(77), wasmenc.Call(0)...)
		body = append(body, wasmenc.OpDrop)
		err := run(t, start(body, wasmenc.Import{Module: "glacier_v1", Name: "dataset_close", Params: 1, Results: 1}),
			Invocation{Task: "closer"})
		require.ErrorIs(t, err, ErrFault)
		assert.Contains(t, err.Error(), "dataset_close: handle 77 is not open")
	})
	t.Run("exit code", func(t *testing.T) {
		body := append(wasmenc.I32Const(9), wasmenc.Call(0)...)
		err := run(t, start(body, wasmenc.Import{Module: "wasi_snapshot_preview1", Name: "proc_exit", Params: 1}),
			Invocation{Task: "exit9"})
		var exit *ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 9, exit.ExitCode())
		assert.Equal(t, `task "exit9" exited with code 9; nothing was committed; its log may say why`, err.Error())
	})
}

type syncLog struct{ b []byte }

func (l *syncLog) Write(p []byte) (int, error) { l.b = append(l.b, p...); return len(p), nil }
func (l *syncLog) String() string              { return string(l.b) }

func TestClosedRuntime(t *testing.T) {
	r, err := NewRuntime(context.Background())
	require.NoError(t, err)
	m, err := r.Load(context.Background(), start(nil))
	require.NoError(t, err)
	require.NoError(t, r.Close(context.Background()))
	_, err = r.Run(context.Background(), m, Invocation{Task: "t"})
	assert.ErrorContains(t, err, "closed Runtime")
	_, err = r.Load(context.Background(), start(nil))
	assert.ErrorContains(t, err, "closed Runtime")
}

// TestValidateAgreesWithLoad checks modules Load accepts and refuses with
// Validate: the same verdict, the same error.
func TestValidateAgreesWithLoad(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx)
	require.NoError(t, err)
	defer rt.Close(ctx)
	good := start(nil)
	bad := start(nil, wasmenc.Import{Module: "env", Name: "abort"})
	for _, wasm := range [][]byte{good, bad, []byte("#!/bin/sh\n"), good[:len(good)-1]} {
		_, lerr := rt.Load(ctx, wasm)
		verr := Validate(ctx, wasm, 0)
		if lerr == nil {
			assert.NoError(t, verr)
			continue
		}
		require.Error(t, verr)
		assert.Equal(t, lerr.Error(), verr.Error())
	}
	// The memory limit.
	err = Validate(ctx, start(nil), 32<<10)
	require.ErrorIs(t, err, ErrMemoryLimit)
}

// TestHostFunctionsWithoutMemory runs a module without memory that calls a
// host function, past the load check that refuses such modules, as a
// broken or hostile engine setup might: the host function must not panic
// (wazero hands it a nil pointer in a non-nil interface), and the task
// fails with ErrFault.
func TestHostFunctionsWithoutMemory(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx)
	require.NoError(t, err)
	defer rt.Close(ctx)
	cm, err := rt.wr.CompileModule(ctx, hostile.NoMemoryHostCall())
	require.NoError(t, err)
	var log strings.Builder
	_, err = rt.Run(ctx, &Module{sha: "nomemory", compiled: cm}, Invocation{Task: "t", Log: &log})
	require.ErrorIs(t, err, ErrFault)
	assert.Contains(t, err.Error(), "lies outside guest memory")
	assert.NotContains(t, log.String(), "goroutine")
	assert.NotContains(t, log.String(), ".go:")
}

// TestLoadRefusesWhatTheABIForbids checks the refusals docs/abi.md lists
// for a module's shape.
func TestLoadRefusesWhatTheABIForbids(t *testing.T) {
	sec := wasmenc.Section
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	header := []byte("\x00asm\x01\x00\x00\x00")
	types := sec(1, []byte{2, 0x60, 0, 0, 0x60, 0, 1, 0x7f})
	memory := sec(5, []byte{1, 0, 1})
	exports := func(memName string) []byte {
		return sec(7, cat([]byte{2}, wasmenc.Name("_start"), []byte{0, 0}, wasmenc.Name(memName), []byte{2, 0}))
	}
	code := func(body ...byte) []byte {
		b := cat([]byte{0}, body, []byte{0x0b})
		return sec(10, cat([]byte{1}, wasmenc.ULEB(uint64(len(b))), b))
	}
	tests := []struct {
		name string
		wasm []byte
		says string
	}{
		{"start section", cat(header, types, sec(3, []byte{1, 0}), memory, exports("memory"), sec(8, []byte{0}), code()),
			"has a start section"},
		{"global import", cat(header, types, sec(2, cat([]byte{1}, wasmenc.Name("glacier_v1"), wasmenc.Name("g"), []byte{3, 0x7f, 0})),
			sec(3, []byte{1, 0}), memory, exports("memory"), code()),
			"imports glacier_v1.g (global)"},
		{"_start returns a value", cat(header, types, sec(3, []byte{1, 1}), memory, exports("memory"), code(0x41, 0)),
			"exports _start as () -> (i32)"},
		{"memory under another name", cat(header, types, sec(3, []byte{1, 0}), memory, exports("mem"), code()),
			`exports no memory named "memory"`},
	}
	ctx := context.Background()
	rt, err := NewRuntime(ctx)
	require.NoError(t, err)
	defer rt.Close(ctx)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Load(ctx, tt.wasm)
			require.ErrorIs(t, err, ErrInvalidModule)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}

// TestDocumentedWASIFunctions checks docs/abi.md's list of the WASI
// functions the host provides against what it provides.
func TestDocumentedWASIFunctions(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "abi.md"))
	require.NoError(t, err)
	_, list, ok := strings.Cut(string(doc), "the host provides exactly these")
	require.True(t, ok, "docs/abi.md lists no WASI functions")
	list, _, _ = strings.Cut(list, "With no preopened")
	var documented []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(list, -1) {
		documented = append(documented, m[1])
	}
	rt, err := NewRuntime(context.Background())
	require.NoError(t, err)
	defer rt.Close(context.Background())
	assert.ElementsMatch(t, slices.Sorted(maps.Keys(rt.provided["wasi_snapshot_preview1"])), documented)
	assert.True(t, strings.HasPrefix(strings.Join(strings.Fields(list), " "), fmt.Sprintf("%d functions", len(documented))), "docs/abi.md gives the count")
}
