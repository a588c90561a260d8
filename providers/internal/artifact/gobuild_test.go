package artifact

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// small is a main package of this module with no dependencies, cheap to
// build.
const small = ModulePath + "/examples/etl/internal/gendata"

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := moduleRoot(wd, true)
	require.NoError(t, err)
	return root
}

func TestGoBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program twice")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	ctx := context.Background()
	var bins [2][]byte
	for i := range bins {
		cache := t.TempDir()
		opts := Options{Pkg: small, GOOS: "linux", GOARCH: "arm64", CacheDir: cache, Out: filepath.Join(t.TempDir(), "prog")}
		path, err := GoBuild(ctx, opts)
		require.NoError(t, err)
		assert.Equal(t, opts.Out, path)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
		bins[i], err = os.ReadFile(path)
		require.NoError(t, err)

		// Again with the same cache: the cached binary, untouched.
		cached, err := GoBuild(ctx, Options{Pkg: small, GOOS: "linux", GOARCH: "arm64", CacheDir: cache})
		require.NoError(t, err)
		before, err := os.Stat(cached)
		require.NoError(t, err)
		again, err := GoBuild(ctx, Options{Pkg: small, GOOS: "linux", GOARCH: "arm64", CacheDir: cache})
		require.NoError(t, err)
		assert.Equal(t, cached, again)
		after, err := os.Stat(again)
		require.NoError(t, err)
		assert.Equal(t, before.ModTime(), after.ModTime(), "a cached binary is not rebuilt")
		b, err := os.ReadFile(cached)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(bins[i], b))

		// Other tags are another binary.
		tagged, err := GoBuild(ctx, Options{Pkg: small, GOOS: "linux", GOARCH: "arm64", CacheDir: cache, Tags: []string{"lambda.norpc"}})
		require.NoError(t, err)
		assert.NotEqual(t, cached, tagged)
	}
	assert.True(t, bytes.Equal(bins[0], bins[1]), "two builds in fresh caches must give the same bytes")
	// ELF, 64-bit, little-endian, machine AArch64 (0xb7).
	assert.Equal(t, []byte("\x7fELF\x02\x01"), bins[0][:6])
	assert.Equal(t, byte(0xb7), bins[0][18])
	assert.NotContains(t, string(bins[0]), repoRoot(t), "-trimpath keeps the build directory out")
}

func TestGoBuildErrors(t *testing.T) {
	ctx := context.Background()
	_, err := GoBuild(ctx, Options{Pkg: small})
	assert.ErrorContains(t, err, "needs Pkg, GOOS and GOARCH")

	_, err = GoBuild(ctx, Options{Pkg: ModulePath + "/no/such/pkg", GOOS: "linux", GOARCH: "amd64", CacheDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no/such/pkg")
	assert.Contains(t, err.Error(), "go build")

	t.Setenv(SourceEnv, t.TempDir())
	_, err = GoBuild(ctx, Options{Pkg: small, GOOS: "linux", GOARCH: "amd64", CacheDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), SourceEnv)
	assert.Contains(t, err.Error(), "no go.mod")
}

func TestLocate(t *testing.T) {
	root := repoRoot(t)
	here, err := os.Getwd()
	require.NoError(t, err)
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644))
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		probe   probe
		wantDir string
		wantErr []string
	}{
		{"env", probe{env: root, callerDir: "/nowhere"}, root, nil},
		{"env must be the module root", probe{env: here}, "", []string{SourceEnv, "no go.mod in " + here}},
		{"env of another module", probe{env: other}, "", []string{"declares module example.com/other"}},
		{"caller", probe{callerDir: here, version: "(devel)"}, root, nil},
		{"dirty VCS build from a tree", probe{callerDir: here, version: "v0.0.0-20261126020304-abcdef123456+dirty"}, root, nil},
		{"replacement directory", probe{replaceDir: root, callerDir: "/nowhere"}, root, nil},
		{"trimmed and unversioned", probe{callerDir: "github.com/glacier-pipeline/glacier/providers/internal/artifact", version: "(devel)"},
			"", []string{"-trimpath", SourceEnv}},
		{"tree gone", probe{callerDir: filepath.Join(other, "gone")}, "", []string{"source tree", SourceEnv}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := locate(ctx, "go", tc.probe)
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDir, src.dir)
			assert.Empty(t, src.id, "a tree is identified by hashing it, when building")
		})
	}
}

func TestSourceDir(t *testing.T) {
	dir, err := SourceDir(context.Background())
	require.NoError(t, err)
	assert.Equal(t, repoRoot(t), dir, "a test binary is built from the tree")
}

func TestVersionKinds(t *testing.T) {
	for _, tc := range []struct {
		v                      string
		released, downloadable bool
	}{
		{"v1.2.3", true, true},
		{"v1.2.3-rc.1", true, true},
		{"v0.0.0-20261126020304-abcdef123456", false, true},
		{"v1.2.4-0.20261126020304-abcdef123456", false, true},
		{"v0.0.0-20261126020304-abcdef123456+dirty", false, false},
		{"(devel)", false, false},
		{"", false, false},
	} {
		assert.Equal(t, tc.released, released(tc.v), "released(%q)", tc.v)
		assert.Equal(t, tc.downloadable, downloadable(tc.v), "downloadable(%q)", tc.v)
	}
}

func TestTreeSourceIdentity(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	write("go.mod", "module "+ModulePath+"\n")
	write("cmd/main.go", "package main\n")
	id := func() string {
		id, err := treeID(root)
		require.NoError(t, err)
		assert.Regexp(t, `^tree [0-9a-f]{64}$`, id)
		return id
	}
	base := id()
	// What no build reads leaves the identity alone.
	write("cmd/main_test.go", "package main\n")
	write("cmd/testdata/big", "x")
	write(".glacier/cache/x", "x")
	write("_scratch/x.go", "package x\n")
	write("nested/go.mod", "module other\n")
	write("nested/x.go", "package x\n")
	assert.Equal(t, base, id())
	// Sources and embedded files change it.
	write("cmd/main.go", "package main\n\nfunc main() {}\n")
	changed := id()
	assert.NotEqual(t, base, changed)
	write("cmd/template.txt", "embedded")
	assert.NotEqual(t, changed, id())

	// A nested module the go.mod puts in place of a requirement is read by
	// the build, so its files count too.
	replacing, err := treeID(root, "nested")
	require.NoError(t, err)
	assert.NotEqual(t, id(), replacing)
	write("nested/x.go", "package x\n\nconst C = 1\n")
	again, err := treeID(root, "nested")
	require.NoError(t, err)
	assert.NotEqual(t, replacing, again)
}

func TestLocalReplacements(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/m\n\ngo 1.26\n\n"+
		"replace example.com/a => ./a/\n\nreplace example.com/b v1.0.0 => ../b\n\nreplace example.com/c => example.com/fork v1.2.3\n\n"+
		"replace example.com/d => ./a\n"), 0o644))
	got, err := localReplacements(context.Background(), goCmd, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"../b", "a"}, got)
}

func TestCacheDir(t *testing.T) {
	assert.Equal(t, "given", CacheDir("given"))
	user, err := os.UserCacheDir()
	if err != nil {
		assert.Equal(t, filepath.Join(os.TempDir(), "glacier-cache"), CacheDir(""))
		return
	}
	assert.Equal(t, filepath.Join(user, "glacier"), CacheDir(""))
}
