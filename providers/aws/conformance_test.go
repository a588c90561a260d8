package aws

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
)

// standIn packs what the compiler checks of a zip, quickly.
var standIn = compiletest.StandIn(artifact.File{Name: lambdazip.BootstrapFile, Mode: artifact.ModeExec, Data: []byte("#!bootstrap")})

// withPacker returns the compiler for the shared options o that packs
// with pack.
func withPacker(o compile.Options, pack compiletest.Packer) *compile.Compiler[*deployment] {
	opts := Options{Dir: o.Dir, Out: o.Out, Region: o.Region, Prefix: o.Prefix, Tags: o.Tags, Defaults: Defaults{Serverless: o.Serverless},
		Modules: o.Modules, CacheDir: o.CacheDir}
	return compile.New(target{opts: opts.resolve(), pack: func(ctx context.Context, _ Arch, spec fnspec.TaskSpec, wasmPath, _ string) ([]byte, error) {
		return pack(ctx, spec, wasmPath)
	}}, o)
}

func TestConformance(t *testing.T) {
	compiletest.RunConformanceTests(t, compiletest.Harness[*deployment]{New: withPacker, Pack: standIn,
		Clash: compiletest.Clash{Kind: "dataset", Names: [2]string{"a_b", "a-b"}, What: "bucket name"}})
}

// TestGolden compares the program and the state machine written for
// examples/etl, and for examples/logs (map tasks over partitioned
// datasets) under testdata/golden/logs, with testdata/golden; -update
// rewrites them.
func TestGolden(t *testing.T) {
	m := compiletest.ETL(t)
	out := t.TempDir()
	c := withPacker(compile.Options{Dir: m.Dir, Out: out, Modules: compiletest.Modules(t, m.Pipeline), Tags: sharedOpts.Tags}, standIn)
	_, err := m.Pipeline.Compile(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	compiletest.Golden(t, out, "main.go", "statemachine.asl.json")

	logs := logsExample(t)
	c = withPacker(compile.Options{Dir: logs.Dir, Out: filepath.Join(out, "logs"), Modules: compiletest.Modules(t, logs.Pipeline), Tags: sharedOpts.Tags}, standIn)
	if _, err := logs.Pipeline.Compile(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	compiletest.Golden(t, out, "logs/main.go", "logs/statemachine.asl.json")
}
