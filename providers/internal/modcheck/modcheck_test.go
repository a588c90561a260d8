package modcheck_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/hostile"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/internal/modcheck"
)

// cacheDir holds the checker built by this test process, and its results.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "glacier-modcheck-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	wasmbuild.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

func fixture(tb testing.TB, name string) string {
	tb.Helper()
	return wasmbuild.Build(tb, filepath.Join("..", "..", "..", "testdata", "wasm", name))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// spec is the spec of the module at path run as task name.
func spec(tb testing.TB, name, path string) fnspec.TaskSpec {
	tb.Helper()
	wasm, err := os.ReadFile(path)
	require.NoError(tb, err)
	return fnspec.TaskSpec{ABI: abi.Version, Pipeline: "p", Task: name, ModuleSHA256: sha(wasm),
		Inputs: []string{"in"}, Outputs: []string{"out"}, MemoryMiB: 64, TimeoutSecs: 30}
}

func TestCheck(t *testing.T) {
	path := fixture(t, "copy")
	wasm, err := os.ReadFile(path)
	require.NoError(t, err)
	mod, err := modcheck.Check(context.Background(), modcheck.Options{Spec: spec(t, "copy", path), ModulePath: path, CacheDir: cacheDir})
	require.NoError(t, err)
	assert.Equal(t, wasm, mod.Wasm)
	assert.Empty(t, mod.Precompiled, "no machine code unless asked")
}

// TestPrecompile checks that precompiling gives one cache entry, made once:
// existing code is kept as it is.
func TestPrecompile(t *testing.T) {
	path := fixture(t, "copy")
	opts := modcheck.Options{Spec: spec(t, "copy", path), ModulePath: path, CacheDir: cacheDir, Precompile: true}
	mod, err := modcheck.Check(context.Background(), opts)
	require.NoError(t, err)
	var entries []string
	require.NoError(t, filepath.WalkDir(mod.Precompiled, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return err
	}))
	assert.Len(t, entries, 1, "one module, one cache entry: %q", entries)

	mark := filepath.Join(mod.Precompiled, "kept")
	require.NoError(t, os.WriteFile(mark, nil, 0o644))
	again, err := modcheck.Check(context.Background(), opts)
	require.NoError(t, err)
	assert.Equal(t, mod.Precompiled, again.Precompiled)
	assert.FileExists(t, mark, "existing code is kept as it is")
}

// TestCheckKeysResultsByLimits checks that a module checked under one
// memory limit is checked again under another: a success is remembered,
// but only for the limits it was found under.
func TestCheckKeysResultsByLimits(t *testing.T) {
	path := fixture(t, "copy")
	s := spec(t, "copy", path)
	ctx := context.Background()
	for range 2 {
		_, err := modcheck.Check(ctx, modcheck.Options{Spec: s, ModulePath: path, CacheDir: cacheDir})
		require.NoError(t, err)
	}
	s.MemoryMiB = 1 // less than a Go module's memory starts with
	for _, precompile := range []bool{false, true} {
		_, err := modcheck.Check(ctx, modcheck.Options{Spec: s, ModulePath: path, CacheDir: cacheDir, Precompile: precompile})
		var refused *modcheck.Error
		require.ErrorAs(t, err, &refused, "precompile %v", precompile)
		assert.Equal(t, fnspec.KindMemoryLimit, refused.Kind)
		assert.Contains(t, refused.Message, "more than the task's 1 MiB limit")
	}
}

func TestCheckRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wasm")
	require.NoError(t, os.WriteFile(bad, []byte("not wasm"), 0o644))
	copyPath := fixture(t, "copy")
	for _, tc := range []struct {
		name       string
		spec       fnspec.TaskSpec
		path       string
		kind       fnspec.Kind // empty for an error that is not a refusal
		says       []string
		precompile bool
	}{
		{"wrong module", spec(t, "copy", copyPath), fixture(t, "exit3"), "", []string{`task "copy"`, "but the spec says"}, false},
		{"missing module", spec(t, "copy", copyPath), filepath.Join(dir, "nope.wasm"), fnspec.KindInvalidModule, []string{`task "copy"`, "nope.wasm"}, false},
		{"device", spec(t, "copy", copyPath), "/dev/zero", fnspec.KindInvalidModule, []string{"/dev/zero is a character device, not a regular file"}, false},
		{"not a module", spec(t, "bad", bad), bad, fnspec.KindInvalidModule, []string{`task "bad"`, bad, "not a WebAssembly binary"}, false},
		{"not a module, precompiled", spec(t, "bad", bad), bad, fnspec.KindInvalidModule, []string{`task "bad"`, bad, "not a WebAssembly binary"}, true},
		{"another ABI", spec(t, "abiv2", fixture(t, "abiv2")), fixture(t, "abiv2"), fnspec.KindABIVersion, []string{`task "abiv2"`, "host ABI version 2"}, false},
		{"another ABI, precompiled", spec(t, "abiv2", fixture(t, "abiv2")), fixture(t, "abiv2"), fnspec.KindABIVersion, []string{`task "abiv2"`, "host ABI version 2"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			_, err := modcheck.Check(context.Background(), modcheck.Options{Spec: tc.spec, ModulePath: tc.path, CacheDir: cache, Precompile: tc.precompile})
			require.Error(t, err)
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
			var refused *modcheck.Error
			if tc.kind == "" {
				assert.False(t, errors.As(err, &refused), "%v is not the sandbox's refusal", err)
			} else if assert.ErrorAs(t, err, &refused) {
				assert.Equal(t, tc.kind, refused.Kind)
			}
			_, serr := os.Stat(filepath.Join(cache, "precompiled"))
			if tc.precompile && serr == nil {
				entries, err := os.ReadDir(filepath.Join(cache, "precompiled"))
				require.NoError(t, err)
				assert.Empty(t, entries, "a refused module leaves no machine code")
			}
		})
	}
}

// TestCheckRefusesHostileModules checks every hostile module as the
// packagers do, and checks that it is refused as the function's sandbox
// refuses it: the same kind, the same words, in bounded time. Only
// precompiling compiles as the function does; checking alone uses the
// interpreter, which compiles a module that is merely slow to compile well
// within the budget (it is then refused for what it lacks).
func TestCheckRefusesHostileModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the checker for each hostile module, twice")
	}
	for _, precompile := range []bool{false, true} {
		for _, c := range hostile.Cases() {
			t.Run(fmt.Sprintf("%s/precompile=%v", c.Name, precompile), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "t.wasm")
				require.NoError(t, c.WriteTo(path))
				s := fnspec.TaskSpec{ABI: abi.Version, Pipeline: "hostile", Task: "t", ModuleSHA256: sha(c.Wasm),
					Outputs: []string{"out"}, MemoryMiB: hostile.MemoryMiB, TimeoutSecs: hostile.TimeoutSeconds,
					CompileMemoryMiB: hostile.CompileMemoryMiB, CompileTimeoutSecs: c.CompileTimeoutSeconds()}
				start := time.Now()
				_, err := modcheck.Check(context.Background(), modcheck.Options{Spec: s, ModulePath: path, CacheDir: cacheDir, Precompile: precompile})
				took := time.Since(start)
				var refused *modcheck.Error
				require.ErrorAs(t, err, &refused)
				assert.Contains(t, refused.Message, `task "t"`)
				assert.NotContains(t, refused.Message, "goroutine")
				assert.Less(t, took, 30*time.Second)
				t.Logf("%s in %v: %v", refused.Kind, took.Round(time.Millisecond), refused.Message)
				if c.Kind == hostile.CompileTime && !precompile {
					assert.Equal(t, fnspec.KindInvalidModule, refused.Kind)
					assert.Contains(t, refused.Message, "exports no _start function")
					return
				}
				assert.Equal(t, c.Kind.Failure(), refused.Kind)
				assert.Contains(t, refused.Message, c.Says)
			})
		}
	}
}
