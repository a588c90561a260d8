package gcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// TestWorkflowInvokes: the workflow's account invokes exactly the
// pipeline's functions, and each task's grants are its own.
func TestWorkflowInvokes(t *testing.T) {
	m := etl(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	assert.Equal(t, []string{"clean_orders", "clean_customers", "enrich", "daily_revenue", "customer_stats"}, dep.Invokes)
	require.NotEmpty(t, dep.StateLogical, "examples/etl keeps a store")
	for _, td := range dep.Tasks {
		assert.Equal(t, taskGrants(td.Task.Task, "etl", "glacier_etl_objectReplacer", td.Retire), td.Grants, td.Name)
	}
}

// TestTaskGrants: a task's account may read its
// inputs' versions and exactly the refs or source records naming them;
// write its outputs through its own staging names, their versions and
// their stable names, replacing only the stable names and removing only
// its staged copies; and write its own memo entries, ref and run records,
// nothing of another task's.
func TestTaskGrants(t *testing.T) {
	task := plan.Task{Task: glacier.Task{Name: "enrich"}, Reads: []string{"orders", "rates"}, Writes: []string{"enriched"},
		Producers: map[string]string{"orders": "clean"}}
	const w = "writer"
	assert.Equal(t, []grant{
		{What: "reads", Dataset: "orders", Role: roleObjectViewer, Keys: []string{"objects/*"}},
		{What: "reads", Dataset: "rates", Role: roleObjectViewer, Keys: []string{"objects/*"}},
		{What: "writes", Dataset: "enriched", Role: roleObjectCreator, Keys: []string{"staging/*/enrich/enriched", "objects/*", "enriched"}},
		{What: "versions", Dataset: "enriched", Role: roleObjectViewer, Keys: []string{"staging/*/enrich/enriched", "objects/*"}},
		{What: "replaces", Dataset: "enriched", Role: w, Keys: []string{"staging/*/enrich/enriched", "enriched"}},
		{What: "reads", Dataset: "glacier-state", Role: roleObjectViewer, Keys: []string{
			"memo/enrich/*", "pipelines/p/tasks/enrich.json", "pipelines/p/tasks/clean.json", "pipelines/p/sources/rates.json"}},
		{What: "writes", Dataset: "glacier-state", Role: roleObjectCreator, Keys: []string{
			"memo/enrich/*", "pipelines/p/tasks/enrich.json", "runs/*/tasks/enrich.json"}},
		{What: "replaces", Dataset: "glacier-state", Role: w, Keys: []string{"pipelines/p/tasks/enrich.json", "runs/*/tasks/enrich.json"}},
	}, taskGrants(task, "p", w, nil))

	// An output with retention_days has its replaced versions retired:
	// moved under retired/ (and brought back), removed from objects/.
	grants := taskGrants(task, "p", w, []string{"enriched"})
	assert.Equal(t, []grant{
		{What: "writes", Dataset: "enriched", Role: roleObjectCreator, Keys: []string{"staging/*/enrich/enriched", "objects/*", "enriched", "retired/*"}},
		{What: "versions", Dataset: "enriched", Role: roleObjectViewer, Keys: []string{"staging/*/enrich/enriched", "objects/*", "retired/*"}},
		{What: "replaces", Dataset: "enriched", Role: w, Keys: []string{"staging/*/enrich/enriched", "enriched", "objects/*", "retired/*"}},
	}, grants[2:5])
}

// TestMapGrants: examples/logs' map task stages its parts in a folder of
// their own, and lists nothing: its commit finds its parts in its memo
// entries.
func TestMapGrants(t *testing.T) {
	m := logs(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	require.NotEmpty(t, dep.StateLogical, "examples/logs keeps a store")
	byTask := map[string][]grant{}
	for _, td := range dep.Tasks {
		byTask[td.Name] = td.Grants
		assert.Equal(t, taskGrants(td.Task.Task, "logs", "glacier_logs_objectReplacer", td.Retire), td.Grants, td.Name)
	}
	staged := []string{"staging/*/parse/hits", "staging/parse/hits.parts/*"}
	assert.Equal(t, []grant{
		{What: "writes", Dataset: "hits", Role: roleObjectCreator, Keys: append(staged, "objects/*", "hits")},
		{What: "versions", Dataset: "hits", Role: roleObjectViewer, Keys: append(staged, "objects/*")},
		{What: "replaces", Dataset: "hits", Role: "glacier_logs_objectReplacer", Keys: append(staged, "hits")},
	}, byTask["parse"][2:5])
	for _, g := range byTask["parse"] {
		assert.NotEqual(t, "lists", g.What)
	}
	own := []string{"pipelines/logs/tasks/parse.json", "runs/*/tasks/parse.json", "parts/parse/*"}
	assert.Equal(t, grant{What: "replaces", Dataset: "glacier-state", Role: "glacier_logs_objectReplacer", Keys: own}, byTask["parse"][len(byTask["parse"])-1],
		"a map task also records its parts")
}
