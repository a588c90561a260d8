package lambdazip_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
)

func TestPackageContents(t *testing.T) {
	if !lambdazip.Precompilable(lambdazip.ArchX86_64) {
		t.Skipf("precompiling needs linux/amd64, this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	spec := fixtureSpec(t, "copy", "out")
	spec.Inputs = []string{"in"}
	spec.Params = map[string]string{"suffix": "!"}
	wasm, err := os.ReadFile(fixture(t, "copy"))
	require.NoError(t, err)

	zb := pack(t, spec, fixture(t, "copy"), nil)
	files, modes := ziptest.Files(t, zb), ziptest.Modes(t, zb)
	assert.Equal(t, sha(wasm), sha(files[fnspec.ModuleFile]), "the zip must hold the module byte for byte")
	assert.Equal(t, os.FileMode(0o755), modes[lambdazip.BootstrapFile])
	assert.Equal(t, os.FileMode(0o644), modes[fnspec.ModuleFile])
	assert.Equal(t, []byte("\x7fELF"), files[lambdazip.BootstrapFile][:4])
	var got fnspec.TaskSpec
	require.NoError(t, json.Unmarshal(files[fnspec.SpecFile], &got))
	assert.Equal(t, spec, got)
	var cached []string
	for name := range files {
		if strings.HasPrefix(name, fnspec.PrecompiledDir+"/") {
			cached = append(cached, name)
		}
	}
	assert.Len(t, cached, 1, "one precompiled module: %v", cached)
	assert.Len(t, files, 4)

	// Packaging again gives the same bytes, also from fresh caches: a new
	// bootstrap build and a new compilation in another process.
	again := pack(t, spec, fixture(t, "copy"), nil)
	assertSameZip(t, zb, again, "packaging twice must give identical zips")
	fresh := pack(t, spec, fixture(t, "copy"), func(o *lambdazip.PackageOptions) { o.CacheDir = t.TempDir() })
	assertSameZip(t, zb, fresh, "packaging from empty caches must give identical zips")

	plain := pack(t, spec, fixture(t, "copy"), func(o *lambdazip.PackageOptions) { o.NoPrecompile = true })
	files = ziptest.Files(t, plain)
	assert.Len(t, files, 3, "NoPrecompile leaves the cache out")
}

func TestPackageARM64(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the arm64 bootstrap")
	}
	spec := fixtureSpec(t, "copy", "out")
	spec.Inputs = []string{"in"}
	zb := pack(t, spec, fixture(t, "copy"), func(o *lambdazip.PackageOptions) { o.Arch = lambdazip.ArchARM64 })
	files := ziptest.Files(t, zb)
	assert.Len(t, files, 3, "no precompiled code for another architecture")
	boot := files[lambdazip.BootstrapFile]
	require.Greater(t, len(boot), 20)
	assert.Equal(t, []byte("\x7fELF\x02\x01"), boot[:6])
	assert.Equal(t, byte(0xb7), boot[18], "the bootstrap must be an AArch64 executable")
	again := pack(t, spec, fixture(t, "copy"), func(o *lambdazip.PackageOptions) { o.Arch = lambdazip.ArchARM64 })
	assertSameZip(t, zb, again, "packaging twice must give identical zips")
}

func TestPackageErrors(t *testing.T) {
	spec := fixtureSpec(t, "copy", "out")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts lambdazip.PackageOptions
		want []string
	}{
		{"arch", lambdazip.PackageOptions{Arch: "amd64", Spec: spec, WasmPath: fixture(t, "copy")}, []string{`"amd64"`, "arm64", "x86_64"}},
		{"spec", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: fnspec.TaskSpec{Task: "t"}, WasmPath: fixture(t, "copy")},
			[]string{"abi", "pipeline", "module_sha256", "memory_mib", "timeout_s"}},
		{"module", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: spec, WasmPath: fixture(t, "exit3")},
			[]string{`task "copy"`, "but the spec says"}},
		{"missing module", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: spec, WasmPath: "nope.wasm"},
			[]string{`task "copy"`, "nope.wasm"}},
		{"module is a device", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: spec, WasmPath: "/dev/zero"},
			[]string{`task "copy"`, "/dev/zero is a character device, not a regular file"}},
		{"module of another ABI, not precompiled", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: fixtureSpec(t, "abiv2", "out"), WasmPath: fixture(t, "abiv2")},
			[]string{`task "abiv2"`, "host ABI version 2"}},
		{"not a module", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: fileSpec(t, shadow(t)), WasmPath: shadow(t)},
			[]string{"not a WebAssembly binary"}},
		{"malformed module", lambdazip.PackageOptions{Arch: lambdazip.ArchARM64, Spec: fileSpec(t, countBomb(t)), WasmPath: countBomb(t)},
			[]string{`task "copy"`, "export section (at byte 10): declares 4294967295 exports"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.CacheDir = cacheDir
			_, err := lambdazip.Package(ctx, tc.opts)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// shadow writes a file that is not a module, as a careless module: could
// name.
func shadow(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "evil.wasm")
	require.NoError(t, os.WriteFile(p, []byte("root:$6$salt$hash:19000:0:99999:7:::\n"), 0o600))
	return p
}

// fileSpec is the copy fixture's spec with the SHA-256 of the file at path.
func fileSpec(t *testing.T, path string) fnspec.TaskSpec {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := fixtureSpec(t, "copy", "out")
	s.ModuleSHA256 = sha(b)
	return s
}

// countBomb writes a module that declares 2^32-1 exports in 16 bytes.
func countBomb(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "bomb.wasm")
	require.NoError(t, os.WriteFile(p, []byte("\x00asm\x01\x00\x00\x00\x07\x06\xff\xff\xff\xff\x0f\x00"), 0o644))
	return p
}

func TestPackageRefusesModuleTheSandboxCannotLoad(t *testing.T) {
	if !lambdazip.Precompilable(lambdazip.ArchX86_64) {
		t.Skip("only precompiling loads the module")
	}
	spec := fixtureSpec(t, "abiv2", "out")
	_, err := lambdazip.Package(context.Background(), lambdazip.PackageOptions{
		Arch: lambdazip.ArchX86_64, Spec: spec, WasmPath: fixture(t, "abiv2"), CacheDir: cacheDir,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host ABI")
}

// assertSameZip checks that two zips are the same bytes and, when they are
// not, names the entries that differ.
func assertSameZip(t *testing.T, a, b []byte, msg string) {
	t.Helper()
	if bytes.Equal(a, b) {
		return
	}
	fa := ziptest.Files(t, a)
	fb := ziptest.Files(t, b)
	var diff []string
	for name, data := range fa {
		if other, ok := fb[name]; !ok || !bytes.Equal(data, other) {
			diff = append(diff, name)
		}
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			diff = append(diff, name)
		}
	}
	t.Errorf("%s: the zips differ (%d and %d bytes); entries that differ: %q", msg, len(a), len(b), diff)
}
