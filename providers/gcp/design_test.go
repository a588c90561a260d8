package gcp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
)

// TestFunctionMemory: a function has its task's memory and the runtime's
// reserve beside it, rounded up to a Cloud Functions tier.
func TestFunctionMemory(t *testing.T) {
	tests := []struct {
		task, function int
		cpu            string
	}{
		{1, 128, "0.083"},
		{32, 128, "0.083"},
		{33, 256, "0.167"},
		{256, 512, "0.333"},
		{416, 512, "0.333"},
		{417, 1024, "0.583"},
		{512, 1024, "0.583"},
		{2048, 4096, "2"},
		{32672, 32768, "8"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		dep, probs := designFor(t, pipeline(t, dir, glacier.Serverless{Memory: tt.task}, glacier.ObjectStorage{}), Options{Dir: dir})
		require.NoError(t, probs.Err())
		td := dep.Tasks[0]
		assert.Equal(t, tt.task, td.Limits.MemoryMiB, "the sandbox keeps the task's memory")
		assert.Equal(t, tt.function, td.FunctionMemoryMiB, "function of a %d MiB task", tt.task)
		assert.Equal(t, tt.cpu, td.CPU, "vCPU of a %d MiB task", tt.task)
		assert.Equal(t, tt.task, td.TaskSpec("p").MemoryMiB, "the runtime caps the sandbox at the task's memory")
	}
}

// TestCompileBudgetReachesSpec: the task's compile budget is what the
// function enforces.
func TestCompileBudgetReachesSpec(t *testing.T) {
	dir := t.TempDir()
	p := pipeline(t, dir, glacier.Serverless{Compile: glacier.CompileBudget{MemoryMiB: 2048, TimeoutSecs: 90}}, glacier.ObjectStorage{})
	dep, probs := designFor(t, p, Options{Dir: dir})
	require.NoError(t, probs.Err())
	spec := dep.Tasks[0].TaskSpec("p")
	assert.Equal(t, 2048, spec.CompileMemoryMiB)
	assert.Equal(t, 90, spec.CompileTimeoutSecs)
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	obj := glacier.ObjectStorage{}
	sl := glacier.Serverless{}
	p := glacier.New("p")
	for _, d := range []string{"in", "bundles", "a_out", "b_out", "wf"} {
		ds := glacier.Dataset{Name: d, Storage: obj}
		if d == "in" {
			ds.Source = "in.csv"
		}
		require.NoError(t, p.AddDataset(ds))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), nil, 0o644))
	for _, task := range []glacier.Task{
		{Name: "a", Build: "./a", Inputs: []string{"in"}, Outputs: []string{"bundles"}, Compute: sl},
		{Name: "workflow", Build: "./w", Inputs: []string{"bundles"}, Outputs: []string{"a_out"}, Compute: sl},
		{Name: "x-y", Build: "./x", Inputs: []string{"in"}, Outputs: []string{"b_out"}, Compute: sl},
		{Name: "x_y", Build: "./x", Inputs: []string{"in"}, Outputs: []string{"wf"}, Compute: sl},
	} {
		require.NoError(t, p.AddTask(task))
	}
	require.NoError(t, p.Validate().Err())
	dep, probs := designFor(t, p, Options{Dir: dir, Prefix: "p", Region: DefaultRegion})

	// x-y and x_y would be the same function: refused, naming the second.
	require.Len(t, probs.Errors(), 1)
	assert.Equal(t, `task "x_y": would share the function name "p-x-y" with task "x-y" (Cloud Functions names fold '_' to '-'); rename one of them`,
		probs.Errors()[0].String())

	assert.Equal(t, "p-a-task", dep.Tasks[0].Account, "account IDs have at least 6 characters")
	assert.Equal(t, "p-workflow", dep.Tasks[1].Account)
	assert.Equal(t, "p-workflow-2", dep.WorkflowAccount, "the workflow's account never takes a task's")
	assert.Equal(t, "p-bundles", dep.Datasets[1].Logical)
	assert.Equal(t, "p-bundles-2", dep.Bundles, "the bundles bucket never takes a dataset's")
	assert.Equal(t, "x_y", dep.Tasks[2].Step)
	assert.Equal(t, "x_y_2", dep.Tasks[3].Step)
	assert.Equal(t, "p", dep.Workflow)
	assert.Equal(t, "glacier_p_objectReplacer", dep.WriterRole)
	for _, td := range dep.Tasks {
		assert.GreaterOrEqual(t, len(td.Account), minAccountID)
		assert.LessOrEqual(t, len(td.Account), 30)
	}
}
