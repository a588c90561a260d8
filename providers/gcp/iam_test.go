package gcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// TestTaskGrants: a task's account may view exactly its inputs' buckets,
// create objects in its outputs' buckets and replace its outputs' objects
// alone, and a partitioned output's runs' parts; a map task may list its
// outputs' runs.
func TestTaskGrants(t *testing.T) {
	const writer, lister = "glacier_p_objectReplacer", "glacier_p_runLister"
	tests := []struct {
		name string
		task plan.Task
		want []grant
	}{
		{"reads and writes", plan.Task{Reads: []string{"orders", "customers"}, Writes: []string{"enriched"}}, []grant{
			{What: "reads", Dataset: "orders", Role: "roles/storage.objectViewer"},
			{What: "reads", Dataset: "customers", Role: "roles/storage.objectViewer"},
			{What: "writes", Dataset: "enriched", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "enriched", Role: writer, Scope: objectScope},
		}},
		{"writes only", plan.Task{Writes: []string{"a"}}, []grant{
			{What: "writes", Dataset: "a", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "a", Role: writer, Scope: objectScope},
		}},
		{"map", plan.Task{Task: glacier.Task{Map: "logs"}, Reads: []string{"logs", "lookup"}, Writes: []string{"parsed", "errors"},
			Partitioned: []string{"logs", "parsed", "errors"}}, []grant{
			{What: "reads", Dataset: "logs", Role: "roles/storage.objectViewer"},
			{What: "reads", Dataset: "lookup", Role: "roles/storage.objectViewer"},
			{What: "writes", Dataset: "parsed", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "parsed", Role: writer, Scope: objectAndRunsScope},
			{What: "lists", Dataset: "parsed", Role: lister, Scope: runListingScope},
			{What: "writes", Dataset: "errors", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "errors", Role: writer, Scope: objectAndRunsScope},
			{What: "lists", Dataset: "errors", Role: lister, Scope: runListingScope},
		}},
		{"fan-out", plan.Task{Reads: []string{"parsed"}, Writes: []string{"days", "total"}, Partitioned: []string{"parsed", "days"}}, []grant{
			{What: "reads", Dataset: "parsed", Role: "roles/storage.objectViewer"},
			{What: "writes", Dataset: "days", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "days", Role: writer, Scope: objectAndRunsScope},
			{What: "writes", Dataset: "total", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "total", Role: writer, Scope: objectScope},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, taskGrants(tt.task, writer, lister)) })
	}
}

// TestWorkflowInvokes: the workflow's account invokes exactly the
// pipeline's functions, and each task's grants are its own.
func TestWorkflowInvokes(t *testing.T) {
	m := etl(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	assert.Equal(t, []string{"clean_orders", "clean_customers", "enrich", "daily_revenue", "customer_stats"}, dep.Invokes)
	assert.Empty(t, dep.ListerRole, "no task maps: no lister role")
	require.NotEmpty(t, dep.StateLogical, "examples/etl keeps a store")
	for _, td := range dep.Tasks {
		assert.Equal(t, storeTaskGrants(td.Task.Task, "etl", "glacier_etl_objectReplacer", td.Retire), td.Grants, td.Name)
	}
}

// TestStoreTaskGrants: with a store, a task's account may read its
// inputs' versions and exactly the refs or source records naming them;
// write its outputs through its own staging names, their versions and
// their stable names, replacing only the stable names and removing only
// its staged copies; and write its own memo entries, ref and run records,
// nothing of another task's.
func TestStoreTaskGrants(t *testing.T) {
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
	}, storeTaskGrants(task, "p", w, nil))

	// An output with retention_days has its replaced versions retired:
	// moved under retired/ (and brought back), removed from objects/.
	grants := storeTaskGrants(task, "p", w, []string{"enriched"})
	assert.Equal(t, []grant{
		{What: "writes", Dataset: "enriched", Role: roleObjectCreator, Keys: []string{"staging/*/enrich/enriched", "objects/*", "enriched", "retired/*"}},
		{What: "versions", Dataset: "enriched", Role: roleObjectViewer, Keys: []string{"staging/*/enrich/enriched", "objects/*", "retired/*"}},
		{What: "replaces", Dataset: "enriched", Role: w, Keys: []string{"staging/*/enrich/enriched", "enriched", "objects/*", "retired/*"}},
	}, grants[2:5])
}

// TestMapGrants: examples/logs' map tasks may list their outputs' runs,
// through the lister role the program declares once.
func TestMapGrants(t *testing.T) {
	m := logs(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	assert.Equal(t, "glacier_logs_runLister", dep.ListerRole)
	byTask := map[string][]grant{}
	for _, td := range dep.Tasks {
		byTask[td.Name] = td.Grants
	}
	const writer, lister = "glacier_logs_objectReplacer", "glacier_logs_runLister"
	assert.Equal(t, []grant{
		{What: "reads", Dataset: "access_logs", Role: roleObjectViewer},
		{What: "reads", Dataset: "ignore", Role: roleObjectViewer},
		{What: "writes", Dataset: "hits", Role: roleObjectCreator},
		{What: "replaces", Dataset: "hits", Role: writer, Scope: objectAndRunsScope},
		{What: "lists", Dataset: "hits", Role: lister, Scope: runListingScope},
	}, byTask["parse"])
	assert.Equal(t, []grant{
		{What: "reads", Dataset: "daily", Role: roleObjectViewer},
		{What: "writes", Dataset: "all_time", Role: roleObjectCreator},
		{What: "replaces", Dataset: "all_time", Role: writer, Scope: objectScope},
	}, byTask["all_time"])
}
