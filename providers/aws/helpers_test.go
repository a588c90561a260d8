package aws

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// etlDir is the example every end-to-end test compiles; logsDir the
// example with map tasks over partitioned datasets.
const (
	etlDir  = "../../examples/etl"
	logsDir = "../../examples/logs"
)

// logsExample loads examples/logs, its tasks made serverless (the example
// runs them locally), so that it compiles for AWS.
func logsExample(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join(logsDir, manifest.DefaultFile))
	require.NoError(t, err)
	p := glacier.New(m.Pipeline.Name())
	for _, d := range m.Pipeline.Datasets() {
		require.NoError(t, p.AddDataset(d))
	}
	for _, task := range m.Pipeline.Tasks() {
		task.Compute = glacier.Serverless{}
		require.NoError(t, p.AddTask(task))
	}
	require.NoError(t, p.Validate().Err())
	m.Pipeline = p
	return m
}

var (
	modDir  string // where TestMain's tests build modules
	etlOnce sync.Once
	etlMods map[string]build.Module
	etlErr  error

	sharedOnce sync.Once
	sharedOut  string
	sharedComp *glacier.Compilation

	x86Once sync.Once
	x86Out  string
	x86Comp *glacier.Compilation
)

// x86Opts compile for this machine's architecture (x86_64), so the
// functions run here under the Lambda emulator, and set every option.
var x86Opts = Options{Prefix: "prod", Region: "eu-west-3", Arch: ArchX86_64,
	Tags: map[string]string{"team": "data"}, Defaults: Defaults{LogRetentionDays: 90}}

// x86ETL compiles examples/etl with x86Opts once per test process. Tests
// must not change the directory it returns.
func x86ETL(t *testing.T) (string, *glacier.Compilation) {
	t.Helper()
	x86Once.Do(func() {
		x86Out = filepath.Join(modDir, "etl-aws-x86")
		x86Comp = compileETL(t, x86Out, x86Opts)
	})
	if x86Comp == nil {
		t.Fatal("compiling examples/etl for x86_64 failed in an earlier test")
	}
	return x86Out, x86Comp
}

// sharedOpts are the options of the compilation tests share.
var sharedOpts = Options{Tags: map[string]string{"team": "data"}}

// sharedETL compiles examples/etl with sharedOpts once per test process.
// Tests must not change the directory it returns.
func sharedETL(t *testing.T) (string, *glacier.Compilation) {
	t.Helper()
	sharedOnce.Do(func() {
		sharedOut = filepath.Join(modDir, "etl-aws")
		sharedComp = compileETL(t, sharedOut, sharedOpts)
	})
	if sharedComp == nil {
		t.Fatal("compiling examples/etl failed in an earlier test")
	}
	return sharedOut, sharedComp
}

func TestMain(m *testing.M) {
	// glacier run's sandbox workers are this test binary, run again.
	wasmrt.ServeWorkerIfRequested()
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
	c, err := m.Pipeline.Compile(context.Background(), New(opts))
	require.NoError(t, err)
	return c
}

// designFor runs the compiler's checks and decisions on p with opts, as
// Compile does before it packs anything.
func designFor(t *testing.T, p *glacier.Pipeline, opts Options) (*deployment, glacier.Problems) {
	t.Helper()
	return compiletest.Design(t, p, target{opts: opts.resolve(), pack: packLambda}, opts.common())
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
var project = compiletest.ProjectDir

// invokeTaskState does what a Task state's lambda:invoke does with its input:
// it invokes the function fn returns for the name the input gives, with
// the input's payload, turns a function error into the task error Step
// Functions raises, and decodes the answer.
func invokeTaskState(ctx context.Context, input json.RawMessage, fn func(name string) (*lambdarie.Function, error)) (json.RawMessage, fnspec.Response, error) {
	var in struct {
		FunctionName string
		Payload      json.RawMessage
	}
	var resp fnspec.Response
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, resp, err
	}
	f, err := fn(in.FunctionName)
	if err != nil {
		return nil, resp, err
	}
	body, err := f.Invoke(ctx, in.Payload)
	var fe *lambdarie.FunctionError
	if errors.As(err, &fe) {
		return nil, resp, &sfntest.TaskError{Type: fe.Type, Message: fe.Message}
	}
	if err != nil {
		return nil, resp, err
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, resp, err
	}
	return body, resp, nil
}

// recompile compiles the project of m, examples/etl changed, with x86Opts
// and the modules mods into a new directory, as a redeployment would, and
// returns the directory, the compilation and its design.
func recompile(t *testing.T, m *manifest.Manifest, mods map[string]build.Module) (string, *glacier.Compilation, *deployment) {
	t.Helper()
	opts := x86Opts
	opts.Dir, opts.Out, opts.Modules, opts.CacheDir = m.Dir, t.TempDir(), mods, filepath.Join(modDir, "cache")
	comp, err := m.Pipeline.Compile(context.Background(), New(opts))
	require.NoError(t, err)
	dep, probs := designFor(t, m.Pipeline, opts)
	require.NoError(t, probs.Err())
	return opts.Out, comp, dep
}

// startFunctions starts each of dep's tasks' artifacts, compiled into out,
// under the Lambda emulator with the environment the program gives its
// function: the task's datasets in bucket, the store's state in state,
// and, from env, where S3 is and whose key signs. By task name.
func startFunctions(t *testing.T, dep *deployment, out string, bucket map[string]string, state string,
	env func(task string) map[string]string) map[string]*lambdarie.Function {
	t.Helper()
	functions := map[string]*lambdarie.Function{}
	for _, task := range dep.Tasks {
		urls := map[string]string{}
		for _, d := range task.Touches() {
			urls[d] = "s3://" + bucket[d] + "/" + d
		}
		envJSON, err := json.Marshal(urls)
		require.NoError(t, err)
		e := env(task.Name)
		e[fnspec.DatasetsEnv] = string(envJSON)
		e[fnspec.StateEnv] = "s3://" + state
		zb, err := os.ReadFile(filepath.Join(out, task.Artifact))
		require.NoError(t, err)
		functions[task.Name] = lambdarie.Start(t, lambdarie.Options{
			BootstrapDir: ziptest.Extract(t, zb),
			Env:          e,
			Timeout:      time.Duration(task.Limits.TimeoutSecs) * time.Second,
			MemoryMiB:    task.FunctionMemoryMiB,
		})
	}
	return functions
}

// everyTask maps each of dep's tasks to status.
func everyTask(dep *deployment, status string) map[string]string {
	out := map[string]string{}
	for _, task := range dep.Tasks {
		out[task.Name] = status
	}
	return out
}
