package compiletest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
)

// Packer packs one task: a target's packager, or a stand-in.
type Packer func(ctx context.Context, spec fnspec.TaskSpec, wasmPath string) ([]byte, error)

// StandIn returns a packer whose artifacts hold the task's module, its
// spec, and extra, the files the target checks of an artifact: a stand-in
// for the real packer that builds nothing. Its artifacts are the same for
// the same task.
func StandIn(extra ...artifact.File) Packer {
	return func(_ context.Context, spec fnspec.TaskSpec, wasmPath string) ([]byte, error) {
		wasm, err := os.ReadFile(wasmPath)
		if err != nil {
			return nil, err
		}
		js, err := json.Marshal(spec)
		if err != nil {
			return nil, err
		}
		files := append([]artifact.File{
			{Name: fnspec.ModuleFile, Mode: artifact.ModeFile, Data: wasm},
			{Name: fnspec.SpecFile, Mode: artifact.ModeFile, Data: js},
		}, extra...)
		return artifact.Zip(files)
	}
}

// Modules writes a small distinct stand-in module for every task of p, so
// compiling needs no Go build.
func Modules(t *testing.T, p *glacier.Pipeline) map[string]build.Module {
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

// ETL loads examples/etl, found from the module root above the working
// directory.
func ETL(t *testing.T) *manifest.Manifest {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the working directory")
		dir = parent
	}
	m, err := manifest.Load(filepath.Join(dir, "examples", "etl", manifest.DefaultFile))
	require.NoError(t, err)
	return m
}

// pipeline is in -> clean -> out, with the given compute and output
// storage; in's source is in.csv (see project).
func pipeline(t *testing.T, name string, compute glacier.Compute, out glacier.Storage) *glacier.Pipeline {
	t.Helper()
	p := glacier.New(name)
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv"}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: out}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "clean", Module: "clean.wasm", Inputs: []string{"in"}, Outputs: []string{"out"}, Compute: compute}))
	require.NoError(t, p.Validate().Err())
	return p
}

// ProjectDir is a project directory holding in.csv, the source the
// suite's small pipelines read.
func ProjectDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a,b\n"), 0o644))
	return dir
}

// Update is the -update flag of a target's tests: Golden then rewrites the
// golden files instead of comparing.
var Update = flag.Bool("update", false, "rewrite the golden files, and the Pulumi go.mod and go.sum templates under GLACIER_PULUMI_TESTS=1")

// Golden compares each named file of the project in dir with
// testdata/golden/<name>.golden, or rewrites the golden file under
// -update, so that every change to generated output shows in a diff.
func Golden(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		golden := filepath.Join("testdata", "golden", name+".golden")
		if *Update {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, got, 0o644))
			continue
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "no golden file; run scripts/regen (or this test with -update) to write it")
		assert.Equal(t, string(want), string(got),
			"%s differs from %s; if the change is meant, run scripts/regen (or this test with -update) and review the diff", name, golden)
	}
}
