package wasmbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

func TestBuildOncePerDir(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "testdata", "wasm", "empty")
	var wg sync.WaitGroup
	paths := make([]string, 4)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i] = Build(t, dir)
		}()
	}
	wg.Wait()
	for _, p := range paths {
		assert.Equal(t, paths[0], p, "one build, shared")
	}
	wasm, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(wasm, []byte("\x00asm")), "a WebAssembly module")
}

func TestCompileReportsPackageErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken\n\ngo 1.21\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644))
	_, toolchain, err := compile(dir)
	require.Error(t, err)
	assert.False(t, toolchain, "the package is at fault, not the toolchain")
	assert.Contains(t, err.Error(), "undefinedThing")
}
