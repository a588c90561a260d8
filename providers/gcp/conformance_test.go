package gcp

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
)

// TestConformance runs the shared suite; Cloud Storage bucket names keep
// '_', so it is two tasks' functions that would share a name.
func TestConformance(t *testing.T) {
	newCompiler := func(o compile.Options, pack compiletest.Packer) *compile.Compiler[*deployment] {
		return withOptions(Options{Dir: o.Dir, Out: o.Out, Region: o.Region, Prefix: o.Prefix, Labels: o.Tags,
			Defaults: Defaults{Serverless: o.Serverless}, Modules: o.Modules, CacheDir: o.CacheDir},
			func(ctx context.Context, spec fnspec.TaskSpec, wasmPath, _ string) ([]byte, error) {
				return pack(ctx, spec, wasmPath)
			})
	}
	compiletest.RunConformanceTests(t, compiletest.Harness[*deployment]{New: newCompiler, Pack: standIn,
		Clash: compiletest.Clash{Kind: "task", Names: [2]string{"x-y", "x_y"}, What: "function name"}})
}

// TestGolden compares the program and the workflow written for
// examples/etl with testdata/golden; -update rewrites them.
func TestGolden(t *testing.T) {
	out := t.TempDir()
	compileETL(t, out, Options{Project: "my-project", Labels: map[string]string{"team": "data"}})
	compiletest.Golden(t, out, "main.go", "workflow.yaml")
}

// TestGoldenMap compares the program and the workflow written for
// examples/logs, whose
// tasks map, with testdata/golden/logs; -update rewrites them.
func TestGoldenMap(t *testing.T) {
	out := t.TempDir()
	compileLogs(t, filepath.Join(out, "logs"), Options{Project: "my-project"})
	compiletest.Golden(t, out, "logs/main.go", "logs/workflow.yaml")
}
