package compile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// fake is a target with as little of its own as a target can have: it
// shows the driver and the conformance suite know no cloud.
type fake struct{ pack compiletest.Packer }

var fakeSpec = compile.Spec{
	Name: "fake", Cloud: "FAKE", Service: "Fake Functions", DefaultRegion: "here-1",
	DatasetHints: []string{"fake_class"},
	Tagging: compile.Tagging{Word: "tag", Pipeline: "glacier:pipeline", Max: 3, Check: func(k, _ string) string {
		if strings.HasPrefix(k, "glacier") {
			return "reserved"
		}
		return ""
	}},
	Memory: plan.Sizes{Platform: "Fake Functions", Min: 128, Max: 4096}, MaxTimeoutSecs: 900,
	Buckets:   compile.Naming{Rule: plan.S3Bucket, What: "bucket name", Why: "fake names fold '_' to '-'"},
	Functions: compile.Naming{Rule: plan.LambdaFunction, What: "function name", Why: "they are long"},
	Artifacts: "artifacts", Artifact: "zip", MaxArtifactBytes: 1 << 20, ArtifactLimit: "Fake takes",
	Program: fstest.MapFS{
		"templates/go.mod.txt": {Data: []byte("module x\n\ngo 1.26\n")},
		"templates/go.sum.txt": {Data: []byte("")},
		"program/helpers.go":   {Data: []byte("//go:build glacier_program\n\npackage main\n\nfunc newThing() {}\n")},
	},
	MainNames: []string{"main", "program"},
	Templates: pulumiproject.ParseTemplates(fakeTemplates, "*.tmpl", nil),
	SDK:       compile.Module{Path: "example.com/fake/sdk", Version: "v1.0.0"},
}

func (fake) Spec() *compile.Spec { return &fakeSpec }

func (fake) Design(d *compile.Deployment, report plan.Report) *compile.Deployment {
	for _, t := range d.Tasks {
		if t.Limits.TimeoutSecs > fakeSpec.MaxTimeoutSecs {
			report(glacier.Error, "task", t.Name)("timeout is %d s; Fake runs at most %d s", t.Limits.TimeoutSecs, fakeSpec.MaxTimeoutSecs)
		}
	}
	return d
}

func (f fake) Pack(ctx context.Context, d *compile.Deployment, i int) ([]byte, error) {
	return f.pack(ctx, d.Tasks[i].TaskSpec(d.Pipeline), d.Tasks[i].Module.Path)
}

func (fake) Packed(*compile.Deployment, int, *compile.Artifact, func(string, ...any)) error {
	return nil
}

func (fake) Definition(d *compile.Deployment) (pulumiproject.File, error) {
	return pulumiproject.File{Name: "waves.txt", Data: fmt.Appendf(nil, "%v\n", d.Waves)}, nil
}

// fakeTemplates write a main.go naming every resource.
var fakeTemplates = fstest.MapFS{
	"main.go.tmpl": {Data: []byte(`package main

// program names:
{{range .Datasets}}// {{.Var}} {{q .Logical}}
{{end}}{{range .Tasks}}// {{.Var}} {{q .FunctionName}} {{.FunctionMemoryMiB}} MiB
{{end}}`)},
	"Pulumi.yaml.tmpl": {Data: []byte("{{.Marker}}\nname: {{.Pipeline}}\n")},
	"README.md.tmpl":   {Data: []byte("{{range .Artifacts}}{{.Path}} {{.ModuleSHA256}}\n{{end}}")},
}

func TestConformance(t *testing.T) {
	compiletest.RunConformanceTests(t, compiletest.Harness[*compile.Deployment]{
		New: func(o compile.Options, pack compiletest.Packer) *compile.Compiler[*compile.Deployment] {
			return compile.New(fake{pack}, o)
		},
		Pack:  compiletest.StandIn(),
		Clash: compiletest.Clash{Kind: "dataset", Names: [2]string{"a_b", "a-b"}, What: "bucket name"},
	})
}

// TestDesign checks the shared decisions and the order of problems.
func TestDesign(t *testing.T) {
	p := glacier.New("orders_etl")
	obj := glacier.ObjectStorage{Hints: glacier.Hints{"fake_x": "1"}}
	for _, d := range []glacier.Dataset{
		{Name: "program", Storage: obj, Source: "missing.csv"},
		{Name: "newThing", Storage: glacier.ObjectStorage{}},
		{Name: "elsewhere", Storage: glacier.ObjectStorage{}},
	} {
		d.Name = strings.ToLower(d.Name)
		require.NoError(t, p.AddDataset(d))
	}
	require.NoError(t, p.AddTask(glacier.Task{Name: "main", Module: "m.wasm", Inputs: []string{"program"}, Outputs: []string{"newthing"},
		Compute: glacier.Serverless{Memory: 5000, Hints: glacier.Hints{"fake_y": "2"}}}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "here", Module: "h.wasm", Inputs: []string{"newthing"}, Outputs: []string{"elsewhere"},
		Compute: glacier.Local{}}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "late", Module: "l.wasm", Inputs: []string{"newthing"}, Outputs: []string{"out"},
		Compute: glacier.Serverless{Timeout: 0}, Retries: 2}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}}))
	require.NoError(t, p.Validate().Err())

	d, probs, err := compile.Design(p, fake{}, compile.Options{Dir: t.TempDir(), Tags: map[string]string{"team": "data", "glacier-x": "y"},
		Serverless: compile.ServerlessDefaults{TimeoutSecs: 1000}})
	require.NoError(t, err)
	var got []string
	for _, pr := range probs {
		got = append(got, pr.String())
	}
	// Options first, then culprits in declaration order, the shared checks
	// before the target's own.
	want := []string{
		`option "defaults": serverless timeout 1000 s is outside the 1 to 900 s a task may have on FAKE`,
		`option "tags": tag "glacier-x": reserved`,
		`dataset "program": the FAKE compiler does not know the hint "fake_x"`,
		`dataset "program": source missing.csv does not exist`,
		`task "main": the FAKE compiler knows no task hints and ignores "fake_y"`,
		`task "main": memory 5000 MiB needs a function of 5096 MiB`,
		`task "main": timeout is 1000 s; Fake runs at most 900 s`,
		`task "here": has local compute, which runs only on this machine and cannot be compiled for FAKE`,
		`task "late": timeout is 1000 s; Fake runs at most 900 s`,
	}
	require.Len(t, got, len(want), "%q", got)
	for i, w := range want {
		assert.True(t, strings.HasPrefix(got[i], w), "problem %d: %q does not start with %q", i, got[i], w)
	}

	assert.Equal(t, "orders-etl", d.Prefix, "the default prefix is the pipeline's name, '_' as '-'")
	assert.Equal(t, "here-1", d.Region)
	assert.Equal(t, []compile.Tag{{Key: "glacier-x", Value: "y"}, {Key: "glacier:pipeline", Value: "orders_etl"}, {Key: "team", Value: "data"}}, d.Tags)
	require.Len(t, d.Datasets, 4)
	assert.Equal(t, "programDataset", d.Datasets[0].Var, "a variable never takes a name of the program's")
	assert.Equal(t, "newthing", d.Datasets[1].Var)
	assert.Equal(t, "orders-etl-program", d.Datasets[0].Logical)
	assert.Equal(t, "program is uploaded from missing.csv and read by main.", d.Datasets[0].Comment)
	require.Len(t, d.Tasks, 2, "the local task is refused, not deployed")
	main, late := d.Tasks[0], d.Tasks[1]
	assert.Equal(t, "mainTask", main.Var)
	assert.Equal(t, "orders-etl-main", main.FunctionName)
	assert.Equal(t, "artifacts/main.zip", main.Artifact)
	assert.Equal(t, "programDataset", main.ReadVars)
	assert.Equal(t, "newthing", main.WriteVars)
	assert.Equal(t, "main reads program and writes newthing.", main.Comment)
	assert.Equal(t, 1000, late.Limits.TimeoutSecs, "the default timeout fills in what the task leaves unset")
	assert.Equal(t, 512+plan.HostReserveMiB, late.FunctionMemoryMiB)
	assert.Equal(t, "late reads newthing and writes out; a failed run is retried 2 times.", late.Comment)
	assert.Equal(t, "mainTask, lateTask", d.TaskVars([]string{"main", "late"}))
	assert.Equal(t, "orders_etl", d.OrchestratorName(plan.StateMachine), "the default prefix is not repeated")

	d, _, err = compile.Design(p, fake{}, compile.Options{Prefix: "prod"})
	require.NoError(t, err)
	assert.Equal(t, "prod-orders_etl", d.OrchestratorName(plan.StateMachine))
}

func TestList(t *testing.T) {
	assert.Equal(t, "", compile.List(nil))
	assert.Equal(t, "a", compile.List([]string{"a"}))
	assert.Equal(t, "a and b", compile.List([]string{"a", "b"}))
	assert.Equal(t, "a, b and c", compile.List([]string{"a", "b", "c"}))
	type class string
	assert.Equal(t, "HOT, COLD", compile.Join([]class{"HOT", "COLD"}))
}

// TestClass: a dataset's hint beats its access pattern; a class the target
// does not know is reported.
func TestClass(t *testing.T) {
	type class string
	byAccess := map[glacier.AccessPattern]class{"": "HOT", glacier.AccessArchive: "COLD"}
	known := []class{"HOT", "WARM", "COLD"}
	tests := []struct {
		storage glacier.ObjectStorage
		want    class
		problem string
	}{
		{glacier.ObjectStorage{}, "HOT", ""},
		{glacier.ObjectStorage{AccessPattern: glacier.AccessArchive}, "COLD", ""},
		{glacier.ObjectStorage{AccessPattern: glacier.AccessArchive, Hints: glacier.Hints{"x_class": "WARM"}}, "WARM", ""},
		{glacier.ObjectStorage{Hints: glacier.Hints{"y_class": "WARM"}}, "HOT", ""},
		{glacier.ObjectStorage{Hints: glacier.Hints{"x_class": "ICY"}}, "ICY", `x_class "ICY" is not a fake class; use one of HOT, WARM, COLD`},
	}
	for _, tt := range tests {
		var problems []string
		errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
		d := plan.Dataset{Dataset: glacier.Dataset{Name: "d", Storage: tt.storage}}
		got, ok := compile.Class(d, "x_class", byAccess, known, "a fake class", errorf)
		assert.Equal(t, tt.want, got, "%+v", tt.storage)
		assert.Equal(t, tt.problem == "", ok)
		if tt.problem != "" {
			assert.Equal(t, []string{tt.problem}, problems)
		}
	}
}

// TestRetention: in a deployment that keeps a store, a task output's
// retention_days applies to the versions its commits replace (the task
// retires them, and no rule expires its bucket by age); a source's keeps
// every version, with a warning; versioning keeps the rule for replaced
// objects, which retired and deleted versions become.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a\n"), 0o644))
	p := glacier.New("keep")
	for _, d := range []glacier.Dataset{
		{Name: "in", Storage: glacier.ObjectStorage{RetentionDays: 7}, Source: "in.csv"},
		{Name: "out", Storage: glacier.ObjectStorage{RetentionDays: 30}},
		{Name: "log", Storage: glacier.ObjectStorage{RetentionDays: 90, Versioning: true}},
		{Name: "all", Storage: glacier.ObjectStorage{}},
	} {
		require.NoError(t, p.AddDataset(d))
	}
	require.NoError(t, p.AddTask(glacier.Task{Name: "t", Module: "t.wasm", Inputs: []string{"in"}, Outputs: []string{"out", "log", "all"},
		Compute: glacier.Serverless{}}))
	d, probs, err := compile.Design(p, fake{}, compile.Options{Dir: dir})
	require.NoError(t, err)
	require.NotEmpty(t, d.StateLogical)
	require.Len(t, probs, 1)
	assert.Contains(t, probs[0].String(), `dataset "in": retention_days expires nothing here: the store keeps every version of a source`)

	retire, bucket := map[string]int{}, map[string]int{}
	for _, ds := range d.Datasets {
		retire[ds.Name], bucket[ds.Name] = ds.RetireDays, d.BucketRetentionDays(ds)
	}
	assert.Equal(t, map[string]int{"in": 0, "out": 30, "log": 90, "all": 0}, retire)
	assert.Equal(t, map[string]int{"in": 0, "out": 0, "log": 90, "all": 0}, bucket)
	assert.Equal(t, []string{"out", "log"}, d.Tasks[0].Retire)
	assert.Equal(t, []string{"out", "log"}, d.Tasks[0].TaskSpec(d.Pipeline).Retire)
}
