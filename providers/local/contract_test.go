package local_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/schema"
)

// ids is a csv contract of one integer column, id, whose values match
// pattern when it is set.
func ids(pattern string) *schema.Schema {
	return &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "id", Type: schema.Integer, Pattern: pattern}}}
}

// TestContracts runs a task whose source and output have contracts: what
// keeps them runs and is cached; an output that breaks its contract fails
// the task with nothing committed; a source that breaks its contract stops
// the run before any task starts, and so does an unchanged source whose
// contract changed.
func TestContracts(t *testing.T) {
	pr := newProject(t)
	pr.writeSource("src", "id\n1\n2\n")
	declare := func(srcSchema, outSchema *schema.Schema) {
		pr.p = glacier.New("test")
		require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "src", Storage: glacier.ObjectStorage{}, Source: "data/src", Schema: srcSchema}))
		require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}, Schema: outSchema}))
		pr.task("a", []string{"src"}, []string{"out"}, map[string]string{"suffix": "3\n"}, 2)
	}

	declare(ids(""), ids(""))
	_, st, err := pr.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "succeeded"}, st)
	assert.Equal(t, "id\n1\n2\n3\n", pr.current("out"))
	_, st, err = pr.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "cached"}, st)

	// A stricter contract on the output runs the task again, which now
	// breaks it: the task fails at once (no retry), and out keeps its
	// version.
	declare(ids(""), ids("[12]"))
	rep, st, err := pr.run(local.Options{})
	require.Error(t, err)
	assert.Equal(t, map[string]string{"a": "failed"}, st)
	assert.Equal(t, 1, rep.Tasks[0].Attempts, "a broken contract is not retried")
	assert.Contains(t, rep.Tasks[0].Err.Error(),
		`task "a" wrote an output that breaks its contract: dataset "out": line 4 (record 3), column 1 "id": "3" does not match the column's pattern "[12]" (header id); nothing was committed`)
	assert.Equal(t, "id\n1\n2\n3\n", pr.current("out"))

	// A source that breaks its contract stops the run before any task.
	declare(ids(""), ids(""))
	pr.writeSource("src", "id\n1\nx\n")
	rep, _, err = pr.run(local.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no task was started")
	assert.Contains(t, err.Error(), `data/src breaks its contract: dataset "src": line 3 (record 2), column 1 "id": "x" is not an integer`)
	if rep != nil {
		for _, tr := range rep.Tasks {
			assert.NotEqual(t, glacier.StatusSucceeded, tr.Status)
		}
	}

	// An unchanged source is checked again when its contract changes.
	pr.writeSource("src", "id\n1\n2\n")
	_, _, err = pr.run(local.Options{})
	require.NoError(t, err)
	declare(ids("1"), ids(""))
	_, _, err = pr.run(local.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `dataset "src": line 3 (record 2), column 1 "id": "2" does not match the column's pattern "1"`)
}

// TestPartitionedContracts: every part of a partitioned dataset keeps the
// dataset's contract. A part of the source that breaks it stops the run,
// naming the file; a map task's part that writes what breaks it fails, the
// violation naming the part.
func TestPartitionedContracts(t *testing.T) {
	pr := newProject(t)
	pr.writeSource("logs/a.csv", "id\n1\n")
	pr.writeSource("logs/b.csv", "id\n2\n")
	declare := func(logs, parsed *schema.Schema, suffix string) {
		pr.p = glacier.New("test")
		require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "logs", Storage: glacier.ObjectStorage{}, Source: "data/logs", Partitioned: true, Schema: logs}))
		require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "parsed", Storage: glacier.ObjectStorage{}, Partitioned: true, Schema: parsed}))
		require.NoError(t, pr.p.AddTask(glacier.Task{Name: "parse", Module: pr.module, Inputs: []string{"logs"}, Outputs: []string{"parsed"},
			Map: "logs", Params: map[string]string{"suffix": suffix}, Compute: glacier.Local{Timeout: 60}}))
	}
	declare(ids(""), ids(""), "3\n")
	_, st, err := pr.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"parse": "succeeded"}, st)
	assert.Equal(t, map[string]string{"a.csv": "id\n1\n3\n", "b.csv": "id\n2\n3\n"}, pr.parts("parsed"))

	// Each part's output breaks the contract on its third record.
	declare(ids(""), ids(""), "x\n")
	rep, st, err := pr.run(local.Options{})
	require.Error(t, err)
	assert.Equal(t, map[string]string{"parse": "failed"}, st)
	assert.Regexp(t, `dataset "parsed" part "[ab].csv": line 3 \(record 2\), column 1 "id": "x" is not an integer`, rep.Tasks[0].Err.Error())
	assert.Equal(t, map[string]string{"a.csv": "id\n1\n3\n", "b.csv": "id\n2\n3\n"}, pr.parts("parsed"), "nothing was committed")

	pr.writeSource("logs/b.csv", "id\nnot a number\n")
	declare(ids(""), ids(""), "3\n")
	_, _, err = pr.run(local.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `logs/b.csv breaks its contract: dataset "logs" part "b.csv": line 2 (record 1), column 1 "id": "not a number" is not an integer`)
}
