package aws

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/glacier"
	"github.com/glacier-pipeline/glacier/glacier/manifest"
	"github.com/glacier-pipeline/glacier/internal/build"
	zipart "github.com/glacier-pipeline/glacier/providers/internal/artifact"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

// interimPack lays out a zip as lambdaboot does, with a stand-in
// bootstrap, while the real bootstrap is being finished.
func interimPack(_ context.Context, dep *deployment, t taskDecl, _ string) ([]byte, error) {
	wasm, err := os.ReadFile(t.Module.Path)
	if err != nil {
		return nil, err
	}
	spec, err := taskSpec(dep, t).Encode()
	if err != nil {
		return nil, err
	}
	return zipart.Zip([]zipart.File{
		{Name: "bootstrap", Mode: zipart.ModeExec, Data: []byte("#!/bin/sh\nexit 1\n")},
		{Name: fnrt.ModuleFile, Mode: zipart.ModeFile, Data: wasm},
		{Name: fnrt.SpecFile, Mode: zipart.ModeFile, Data: spec},
	})
}

// etlDir is the example every end-to-end test compiles.
const etlDir = "../../examples/etl"

var (
	modDir  string // where TestMain's tests build modules
	etlOnce sync.Once
	etlMods map[string]build.Module
	etlErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "glacier-aws-test-")
	if err != nil {
		panic(err)
	}
	modDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// etl loads examples/etl and builds its modules, once per test process.
func etl(t *testing.T) (*manifest.Manifest, map[string]build.Module) {
	t.Helper()
	m, err := manifest.Load(filepath.Join(etlDir, manifest.DefaultFile))
	require.NoError(t, err)
	etlOnce.Do(func() {
		var mods []build.Module
		mods, etlErr = build.Modules(context.Background(), m.Pipeline, build.Options{Dir: m.Dir, OutDir: filepath.Join(modDir, "etl")})
		etlMods = map[string]build.Module{}
		for _, mod := range mods {
			etlMods[mod.Task] = mod
		}
	})
	require.NoError(t, etlErr, "building examples/etl's modules")
	return m, etlMods
}

// compileETL compiles examples/etl into out.
func compileETL(t *testing.T, out string, opts Options) *glacier.Compilation {
	t.Helper()
	m, mods := etl(t)
	opts.Dir, opts.Out, opts.Modules = m.Dir, out, mods
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(modDir, "cache")
	}
	comp := New(opts)
	comp.pack = interimPack
	c, err := m.Pipeline.Compile(context.Background(), comp)
	require.NoError(t, err)
	return c
}

// pipeline builds a pipeline for table tests: datasets in, out (object
// storage unless given) and one task t reading in and writing out.
func pipeline(t *testing.T, task glacier.Task, datasets ...glacier.Dataset) *glacier.Pipeline {
	t.Helper()
	p := glacier.New("p")
	if len(datasets) == 0 {
		datasets = []glacier.Dataset{
			{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv"},
			{Name: "out", Storage: glacier.ObjectStorage{}},
		}
	}
	for _, d := range datasets {
		require.NoError(t, p.AddDataset(d))
	}
	if task.Name == "" {
		task.Name = "t"
	}
	if task.Build == "" && task.Module == "" {
		task.Module = "t.wasm"
	}
	if task.Inputs == nil {
		task.Inputs = []string{"in"}
	}
	if task.Outputs == nil {
		task.Outputs = []string{"out"}
	}
	require.NoError(t, p.AddTask(task))
	require.NoError(t, p.Validate().Err())
	return p
}

// project is a directory with in.csv, for pipelines built by pipeline.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a,b\n"), 0o644))
	return dir
}
