package aws

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/schema"
)

// TestFunctionMemory: a function has its task's memory and the runtime's
// reserve beside it, at least Lambda's smallest size.
func TestFunctionMemory(t *testing.T) {
	tests := []struct{ task, function int }{
		{1, 128},
		{32, 128},
		{33, 129},
		{256, 352},
		{512, 608},
		{10144, 10240},
	}
	for _, tt := range tests {
		dep, probs := designFor(t, pipeline(t, serverless(tt.task, 0, nil)), Options{Dir: project(t)})
		require.NoError(t, probs.Err())
		assert.Equal(t, tt.task, dep.Tasks[0].Limits.MemoryMiB, "the sandbox keeps the task's memory")
		assert.Equal(t, tt.function, dep.Tasks[0].FunctionMemoryMiB, "function of a %d MiB task", tt.task)
		assert.Equal(t, tt.task, dep.Tasks[0].TaskSpec(dep.Pipeline).MemoryMiB, "the runtime caps the sandbox at the task's memory")
	}
}

// TestCompileBudgetReachesSpec: the task's compile budget is what the
// bootstrap enforces.
func TestCompileBudgetReachesSpec(t *testing.T) {
	task := glacier.Task{Compute: glacier.Serverless{Memory: 128, Compile: glacier.CompileBudget{MemoryMiB: 2048, TimeoutSecs: 90}}}
	dep, probs := designFor(t, pipeline(t, task), Options{Dir: project(t)})
	require.NoError(t, probs.Err())
	spec := dep.Tasks[0].TaskSpec(dep.Pipeline)
	assert.Equal(t, 2048, spec.CompileMemoryMiB)
	assert.Equal(t, 90, spec.CompileTimeoutSecs)
}

func TestSourceMissing(t *testing.T) {
	p := pipeline(t, serverless(0, 0, nil))
	errs, _ := check(t, p, Options{Dir: t.TempDir()})
	assertProblems(t, errs, []string{`dataset "in": source in.csv does not exist`})
}

func TestBucketNameClash(t *testing.T) {
	p := pipeline(t, glacier.Task{Compute: glacier.Serverless{}, Inputs: []string{"a_b"}, Outputs: []string{"a-b"}},
		glacier.Dataset{Name: "a_b", Storage: glacier.ObjectStorage{}, Source: "in.csv"},
		glacier.Dataset{Name: "a-b", Storage: glacier.ObjectStorage{}})
	errs, _ := check(t, p, Options{})
	assertProblems(t, errs, []string{`dataset "a-b": would share the bucket name "p-a-b" with dataset "a_b"`})
}

// TestStateBucketClash: a dataset whose bucket would take the store's
// state bucket's name is refused.
func TestStateBucketClash(t *testing.T) {
	p := pipeline(t, glacier.Task{Compute: glacier.Serverless{}, Inputs: []string{"in"}, Outputs: []string{"glacier_state"}},
		glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv"},
		glacier.Dataset{Name: "glacier_state", Storage: glacier.ObjectStorage{}})
	errs, _ := check(t, p, Options{})
	assertProblems(t, errs, []string{`dataset "glacier_state": would share the bucket name "p-glacier-state" with the store's state bucket (S3 names fold '_' to '-'); rename the dataset`})
}

// TestSchemasReachSpec: each output's contract is in the task's spec, for
// the bootstrap to enforce; an input's is not (its producer enforced it).
func TestSchemasReachSpec(t *testing.T) {
	ids := &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "id", Type: schema.Integer}}}
	p := pipeline(t, glacier.Task{Compute: glacier.Serverless{}},
		glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv", Schema: &schema.Schema{Format: schema.Bytes}},
		glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}, Schema: ids})
	dep, probs := designFor(t, p, Options{Dir: project(t)})
	require.NoError(t, probs.Err())
	spec := dep.Tasks[0].TaskSpec(dep.Pipeline)
	want, err := ids.Encode()
	require.NoError(t, err)
	assert.Equal(t, map[string]json.RawMessage{"out": want}, spec.Schemas)
}

// TestSourceBreaksContract: a source the program would upload is checked
// against its contract, as glacier run checks what it imports.
func TestSourceBreaksContract(t *testing.T) {
	cols := func(names ...string) *schema.Schema {
		s := &schema.Schema{Format: schema.CSV}
		for _, n := range names {
			s.Columns = append(s.Columns, schema.Column{Name: n, Type: schema.String})
		}
		return s
	}
	for _, tt := range []struct {
		contract *schema.Schema
		problem  string
	}{
		{cols("a", "b"), ""},
		{cols("a", "c"), `dataset "in": source in.csv breaks its contract: dataset "in": line 1, column 2 "c": the header names column 2 "b", but the contract names it "c"`},
	} {
		p := pipeline(t, glacier.Task{Compute: glacier.Serverless{}},
			glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv", Schema: tt.contract},
			glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}})
		errs, _ := check(t, p, Options{})
		if tt.problem == "" {
			assert.Empty(t, errs)
		} else {
			assertProblems(t, errs, []string{tt.problem})
		}
	}
}

// TestMapResultsExpire: a map task's Distributed Map results, in its first
// output's bucket, expire as the task's logs do; kept when its logs are.
func TestMapResultsExpire(t *testing.T) {
	m := logsExample(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	got := map[string][2]any{}
	for _, d := range dep.Datasets {
		if d.MapResults != "" {
			got[d.Name] = [2]any{d.MapResults, d.MapResultsDays}
		}
	}
	assert.Equal(t, map[string][2]any{
		"hits":  {"hits.map-results/", DefaultLogRetentionDays},
		"daily": {"daily.map-results/", DefaultLogRetentionDays},
	}, got, "the first output of each map task")

	task, ok := m.Pipeline.Task("parse")
	require.True(t, ok)
	require.Equal(t, "hits", task.Outputs[0])
	compute, ok := task.Compute.(glacier.Serverless)
	require.True(t, ok)
	compute.Hints = glacier.Hints{hintLogRetentionDays: "0"} // keep its logs forever
	task.Compute = compute
	p := glacier.New("keep")
	for _, d := range m.Pipeline.Datasets() {
		require.NoError(t, p.AddDataset(d))
	}
	for _, tk := range m.Pipeline.Tasks() {
		if tk.Name == task.Name {
			tk = task
		}
		require.NoError(t, p.AddTask(tk))
	}
	dep, probs = designFor(t, p, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	for _, d := range dep.Datasets {
		if d.Name == "hits" {
			assert.Zero(t, d.MapResultsDays, "kept, as the task's logs are")
		}
	}
}
