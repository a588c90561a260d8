package gcp

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/gcp/internal/gcftest"
	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// TestMain lets the test binary serve as a wasmrt.Pool worker, for the
// glacier run the end-to-end tests compare with, and removes what the
// tests built.
func TestMain(m *testing.M) {
	wasmrt.ServeWorkerIfRequested()
	code := m.Run()
	wasmbuild.Cleanup()
	gcftest.Cleanup()
	os.Exit(code)
}

// etl loads examples/etl.
func etl(t *testing.T) *manifest.Manifest { return compiletest.ETL(t) }

// fakeGoLine is the go line of standIn's bundles.
const fakeGoLine = "1.26.0"

// standIn packs what the compiler checks of a bundle, quickly: go.mod at
// the root and the task's module.
var standIn = compiletest.StandIn(
	artifact.File{Name: "go.mod", Mode: artifact.ModeFile, Data: []byte("module example.com/fn\n\ngo " + fakeGoLine + "\n")},
	artifact.File{Name: "function.go", Mode: artifact.ModeFile, Data: []byte("package fn\n\n// Run serves the task.\nfunc Run() {}\n")},
)

// standInPack packs with standIn.
func standInPack(ctx context.Context, spec fnspec.TaskSpec, wasmPath, _ string) ([]byte, error) {
	return standIn(ctx, spec, wasmPath)
}

// withOptions returns the compiler for opts that packs with pack.
func withOptions(opts Options, pack packFunc) *compile.Compiler[*deployment] {
	return compile.New(target{opts: opts, pack: pack}, opts.common())
}

// compileETL compiles examples/etl with stand-in modules and bundles into
// out.
func compileETL(t *testing.T, out string, opts Options) *glacier.Compilation {
	t.Helper()
	m := etl(t)
	opts.Dir, opts.Out = m.Dir, out
	if opts.Modules == nil {
		opts.Modules = compiletest.Modules(t, m.Pipeline)
	}
	comp, err := m.Pipeline.Compile(context.Background(), withOptions(opts, standInPack))
	require.NoError(t, err)
	return comp
}

// designFor runs the compiler's checks and decisions on p with opts, as
// Compile does before it packs anything.
func designFor(t *testing.T, p *glacier.Pipeline, opts Options) (*deployment, glacier.Problems) {
	t.Helper()
	return compiletest.Design(t, p, target{opts: opts, pack: packBundle}, opts.common())
}

// logs loads examples/logs, a pipeline of map tasks, with every task
// serverless (the example runs locally) and, for the workflow to show
// both, parse bounded to 8 parts at once and daily in batches of 10.
func logs(t *testing.T) *manifest.Manifest {
	t.Helper()
	etl := compiletest.ETL(t)
	m, err := manifest.Load(filepath.Join(filepath.Dir(etl.Dir), "logs", manifest.DefaultFile))
	require.NoError(t, err)
	p := glacier.New(m.Pipeline.Name())
	for _, d := range m.Pipeline.Datasets() {
		require.NoError(t, p.AddDataset(d))
	}
	for _, task := range m.Pipeline.Tasks() {
		task.Compute = glacier.Serverless{Memory: 256, Timeout: 60}
		switch task.Name {
		case "parse":
			task.MaxConcurrency = 8
		case "daily":
			task.MapBatch = 10
		}
		require.NoError(t, p.AddTask(task))
	}
	require.NoError(t, p.Validate().Err())
	m.Pipeline = p
	return m
}

// compileLogs compiles logs(t) with stand-in modules and bundles into out.
func compileLogs(t *testing.T, out string, opts Options) *glacier.Compilation {
	t.Helper()
	m := logs(t)
	opts.Dir, opts.Out = m.Dir, out
	opts.Modules = compiletest.Modules(t, m.Pipeline)
	comp, err := m.Pipeline.Compile(context.Background(), withOptions(opts, standInPack))
	require.NoError(t, err)
	return comp
}
