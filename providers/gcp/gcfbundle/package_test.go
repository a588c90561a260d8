package gcfbundle_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt"
)

// TestPackage checks a bundle's layout: what the buildpack needs at the
// root, the module byte for byte, the spec, the vendored packages.
func TestPackage(t *testing.T) {
	needGo(t)
	wasmPath := fixturePath(t, "copy")
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	spec := specFor(t, "copy", wasmPath, []string{"in"}, []string{"out"})
	zb, err := gcfbundle.Package(t.Context(), gcfbundle.PackageOptions{Spec: spec, WasmPath: wasmPath, CacheDir: testCacheDir(t)})
	require.NoError(t, err)
	files := ziptest.Files(t, zb)
	t.Logf("bundle: %d bytes zipped, %d files", len(zb), len(files))

	assert.Equal(t, sha(wasm), sha(files[fnspec.ModuleFile]), "the bundle's module is not the task's")
	var got fnspec.TaskSpec
	require.NoError(t, json.Unmarshal(files[fnspec.SpecFile], &got))
	assert.Equal(t, spec, got)

	gomod := string(files["go.mod"])
	assert.Contains(t, gomod, "module glacier.local/function\n")
	assert.Contains(t, gomod, "\ngo 1.26")
	assert.Contains(t, gomod, "replace github.com/glacier-pipeline/glacier => ./vendor/github.com/glacier-pipeline/glacier\n")
	assert.Contains(t, gomod, "github.com/GoogleCloudPlatform/functions-framework-go v1.9.2\n")
	assert.NotContains(t, gomod, "aws", "the bundle requires modules it does not use")
	assert.NotContains(t, string(files["vendor/modules.txt"]), os.Getenv("HOME"), "the bundle names a path of the packaging machine")
	for _, name := range []string{
		"go.sum", "function.go", "cmd/main.go", "vendor/modules.txt",
		"vendor/github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt/gcfrt.go",
		"vendor/github.com/GoogleCloudPlatform/functions-framework-go/funcframework/framework.go",
		"vendor/github.com/tetratelabs/wazero/runtime.go",
	} {
		assert.Contains(t, files, name)
	}
	// The buildpack uses its declarative template only for a function
	// package that imports the framework's functions package itself.
	assert.Contains(t, string(files["function.go"]), `"github.com/GoogleCloudPlatform/functions-framework-go/functions"`)
	assert.Contains(t, string(files["function.go"]), "functions.HTTP(gcfrt.EntryPoint")
	wasms := 0
	for name := range files {
		if strings.HasSuffix(name, ".wasm") {
			wasms++
		}
	}
	assert.Equal(t, 1, wasms, "the bundle must hold exactly one .wasm file")

	cache := 0
	for name := range files {
		if strings.HasPrefix(name, fnspec.PrecompiledDir+"/") {
			cache++
		}
	}
	if gcfbundle.Precompilable() {
		assert.Positive(t, cache, "no precompiled code on a machine that can make it")
	} else {
		assert.Zero(t, cache)
	}

	plain, err := gcfbundle.Package(t.Context(), gcfbundle.PackageOptions{Spec: spec, WasmPath: wasmPath, CacheDir: testCacheDir(t), NoPrecompile: true})
	require.NoError(t, err)
	for name := range ziptest.Files(t, plain) {
		assert.False(t, strings.HasPrefix(name, fnspec.PrecompiledDir+"/"), "NoPrecompile bundle holds %s", name)
	}
}

// TestPackageDeterministic packages a task twice, the second time with a
// fresh cache (so the module checker is rebuilt and the module recompiled),
// and checks the bundles are byte for byte the same.
func TestPackageDeterministic(t *testing.T) {
	needGo(t)
	if testing.Short() {
		t.Skip("skipping: rebuilds the module checker from scratch; run without -short")
	}
	wasmPath := fixturePath(t, "copy")
	spec := specFor(t, "copy", wasmPath, []string{"in"}, []string{"out"})
	first, err := gcfbundle.Package(t.Context(), gcfbundle.PackageOptions{Spec: spec, WasmPath: wasmPath, CacheDir: testCacheDir(t)})
	require.NoError(t, err)
	second, err := gcfbundle.Package(t.Context(), gcfbundle.PackageOptions{Spec: spec, WasmPath: wasmPath, CacheDir: t.TempDir()})
	require.NoError(t, err)
	if !bytes.Equal(first, second) {
		a, b := ziptest.Files(t, first), ziptest.Files(t, second)
		for name, data := range a {
			assert.Equal(t, sha(data), sha(b[name]), "file %s differs", name)
		}
		assert.Equal(t, len(a), len(b), "the bundles hold different files")
		t.Fatalf("two packagings differ: %s and %s", sha(first), sha(second))
	}
}

func TestPackageRefuses(t *testing.T) {
	wasmPath := fixturePath(t, "copy")
	good := specFor(t, "copy", wasmPath, []string{"in"}, []string{"out"})
	for _, tc := range []struct {
		name string
		opts gcfbundle.PackageOptions
		msg  string
	}{
		{"other module", gcfbundle.PackageOptions{Spec: good, WasmPath: fixturePath(t, "empty")}, "but the spec says " + good.ModuleSHA256},
		{"no module", gcfbundle.PackageOptions{Spec: good, WasmPath: filepath.Join(t.TempDir(), "missing.wasm")}, "read module"},
		{"bad spec", gcfbundle.PackageOptions{Spec: func() fnspec.TaskSpec { s := good; s.TimeoutSecs = 0; return s }(), WasmPath: wasmPath}, "timeout_s is 0"},
		{"module is a device", gcfbundle.PackageOptions{Spec: good, WasmPath: "/dev/zero"}, "/dev/zero is a character device, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gcfbundle.Package(t.Context(), tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestRuntimeFollowsGoDirective(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "go.mod"))
	require.NoError(t, err)
	var goLine string
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			goLine = v
		}
	}
	parts := strings.SplitN(goLine, ".", 3)
	require.GreaterOrEqual(t, len(parts), 2, "go directive %q", goLine)
	assert.Equal(t, "go"+parts[0]+parts[1], gcfbundle.Runtime, "gcfbundle.Runtime must follow the module's go directive")
}

// TestEntryPoint keeps the packager's entry point in step with the name the
// runtime registers.
func TestEntryPoint(t *testing.T) {
	if gcfbundle.EntryPoint != gcfrt.EntryPoint {
		t.Errorf("gcfbundle.EntryPoint = %q, but gcfrt registers %q", gcfbundle.EntryPoint, gcfrt.EntryPoint)
	}
}
