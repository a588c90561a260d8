package gcp

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/manifest"
)

// etl loads examples/etl.
func etl(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load("../../examples/etl/glacier.yaml")
	require.NoError(t, err)
	return m
}

// fakeModules writes a small distinct stand-in module for every task, so
// compiling needs no Go build.
func fakeModules(t *testing.T, p *glacier.Pipeline) map[string]build.Module {
	t.Helper()
	dir := t.TempDir()
	mods := map[string]build.Module{}
	for _, task := range p.Tasks() {
		data := []byte("\x00asm\x01\x00\x00\x00 module of " + task.Name)
		path := filepath.Join(dir, task.Name+".wasm")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		sum := sha256.Sum256(data)
		mods[task.Name] = build.Module{Task: task.Name, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	}
	return mods
}

// fakeGoLine is the go line of fakePack's bundles.
const fakeGoLine = "1.26.0"

// fakePack packs what the compiler inspects of a bundle: go.mod at the
// root and the task's module, deterministically.
func fakePack(ctx context.Context, pipeline string, t taskDecl, cacheDir string) ([]byte, error) {
	wasm, err := os.ReadFile(t.Module.Path)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"go.mod", []byte("module example.com/fn\n\ngo " + fakeGoLine + "\n")},
		{"function.go", []byte("package fn\n\n// Run serves " + pipeline + "/" + t.Name + ".\nfunc Run() {}\n")},
		{"task.wasm", wasm},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// compileETL compiles examples/etl with fake bundles into out.
func compileETL(t *testing.T, out string, opts Options) *glacier.Compilation {
	t.Helper()
	m := etl(t)
	opts.Dir, opts.Out = m.Dir, out
	if opts.Modules == nil {
		opts.Modules = fakeModules(t, m.Pipeline)
	}
	c := New(opts)
	c.pack = fakePack
	comp, err := m.Pipeline.Compile(context.Background(), c)
	require.NoError(t, err)
	return comp
}

// tree reads every file under dir: slash path -> mode and content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	require.NoError(t, err)
	return files
}

func TestCompile(t *testing.T) {
	out := t.TempDir()
	m := etl(t)
	mods := fakeModules(t, m.Pipeline)
	comp := compileETL(t, out, Options{Project: "my-project", Modules: mods})

	assert.Equal(t, Target, comp.Target)
	assert.Equal(t, out, comp.Dir)
	// daily_revenue is infrequent (NEARLINE) and rewritten by every run.
	require.Len(t, comp.Warnings, 1)
	assert.Contains(t, comp.Warnings[0], `dataset "daily_revenue": task "daily_revenue" replaces the object on every run`)
	require.Len(t, comp.Artifacts, len(m.Pipeline.Tasks()))
	for i, task := range m.Pipeline.Tasks() {
		a := comp.Artifacts[i]
		assert.Equal(t, task.Name, a.Task)
		assert.Equal(t, "bundles/"+task.Name+".zip", a.Path)
		assert.Equal(t, mods[task.Name].SHA256, a.ModuleSHA256, "the bundle must hold the built module")
		fi, err := os.Stat(filepath.Join(out, a.Path))
		require.NoError(t, err)
		assert.Equal(t, fi.Size(), a.Size)
	}

	files := tree(t, out)
	for _, name := range []string{"Pulumi.yaml", "main.go", "go.mod", "go.sum", "workflow.yaml", "README.md",
		"sources/orders_raw/orders.csv", "sources/customers_raw/customers.csv"} {
		assert.Contains(t, files, name)
	}
	assert.Len(t, files, 8+len(comp.Artifacts))
	src, err := os.ReadFile(filepath.Join(m.Dir, "data", "orders.csv"))
	require.NoError(t, err)
	assert.Equal(t, string(src), strings.SplitN(files["sources/orders_raw/orders.csv"], "\n", 2)[1])

	goMod := files["go.mod"]
	assert.Contains(t, goMod, "module etl/gcp\n")
	assert.Contains(t, goMod, "github.com/pulumi/pulumi/sdk/v3 "+PulumiSDKVersion+"\n")
	assert.Contains(t, goMod, "github.com/pulumi/pulumi-gcp/sdk/v9 "+PulumiGCPSDKVersion+"\n")
	pulumiYAML := files["Pulumi.yaml"]
	assert.Contains(t, pulumiYAML, marker)
	assert.Contains(t, pulumiYAML, "value: my-project")
	assert.Contains(t, pulumiYAML, "value: us-central1")

	mainGo := files["main.go"]
	for _, want := range []string{
		`Runtime:      "go127"`, `EntryPoint:   "` + entryPoint + `"`,
		`MemoryMiB:    1024`, `CPU:          "0.583"`, `TimeoutSecs:  120`, // enrich: 512 MiB and the reserve
		`Reads:        []*dataset{orders, customers}`,
		`Writes:       []*dataset{enrichedOrders}`,
		`const region = "us-central1"`,
		`"glacier-pipeline": "etl"`,
	} {
		assert.Contains(t, mainGo, want)
	}
	// The bundle object is named after the bundle's content.
	zb, err := os.ReadFile(filepath.Join(out, "bundles", "enrich.zip"))
	require.NoError(t, err)
	sum := sha256.Sum256(zb)
	assert.Contains(t, mainGo, `BundleObject: "enrich-`+hex.EncodeToString(sum[:])[:16]+`.zip"`)
}

func TestCompileDeterministic(t *testing.T) {
	m := etl(t)
	mods := fakeModules(t, m.Pipeline)
	opts := Options{Labels: map[string]string{"team": "data", "env": "prod"}, Modules: mods}
	a, b := t.TempDir(), t.TempDir()
	compileETL(t, a, opts)
	compileETL(t, b, opts)
	ta, tb := tree(t, a), tree(t, b)
	require.Equal(t, len(ta), len(tb))
	for name, content := range ta {
		assert.Equal(t, content, tb[name], "%s differs between two compilations", name)
	}

	// Compiling again over an earlier output gives the same tree, and
	// removes what the pipeline no longer has.
	stale := filepath.Join(a, "bundles", "gone.zip")
	require.NoError(t, os.WriteFile(stale, []byte("old"), 0o644))
	stack := filepath.Join(a, "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(stack, []byte("config: {}\n"), 0o644))
	compileETL(t, a, opts)
	again := tree(t, a)
	assert.NotContains(t, again, "bundles/gone.zip")
	assert.Contains(t, again, "Pulumi.dev.yaml", "a stack's settings are left alone")
	delete(again, "Pulumi.dev.yaml")
	assert.Equal(t, ta, again)
}

func TestCompileRefusesForeignOut(t *testing.T) {
	m := etl(t)
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644))
	c := New(Options{Dir: m.Dir, Out: out, Modules: fakeModules(t, m.Pipeline)})
	c.pack = fakePack
	_, err := m.Pipeline.Compile(context.Background(), c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not empty")
	assert.Equal(t, []string{"notes.txt"}, keys(tree(t, out)), "nothing is written")

	_, err = New(Options{Dir: m.Dir}).Compile(context.Background(), m.Pipeline)
	assert.ErrorContains(t, err, "Options.Out is empty")
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCompileChecksBundles(t *testing.T) {
	m := etl(t)
	tests := []struct {
		name string
		pack packFunc
		want string
	}{
		{"other module", func(ctx context.Context, p string, td taskDecl, c string) ([]byte, error) {
			td.Module.Path = writeTemp(t, "other bytes")
			return fakePack(ctx, p, td, c)
		}, "not the built module's"},
		{"not a zip", func(context.Context, string, taskDecl, string) ([]byte, error) {
			return []byte("nope"), nil
		}, "not a zip"},
		{"pack fails", func(context.Context, string, taskDecl, string) ([]byte, error) {
			return nil, errors.New("no toolchain")
		}, `packaging task "clean_orders": no toolchain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{Dir: m.Dir, Out: t.TempDir(), Modules: fakeModules(t, m.Pipeline)})
			c.pack = tt.pack
			_, err := m.Pipeline.Compile(context.Background(), c)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}
