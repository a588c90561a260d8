package gcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// TestTaskGrants: a task's account may view exactly its inputs' buckets,
// create objects in its outputs' buckets and replace its outputs' objects
// alone.
func TestTaskGrants(t *testing.T) {
	const writer = "glacier_p_objectReplacer"
	tests := []struct {
		name string
		task plan.Task
		want []grant
	}{
		{"reads and writes", plan.Task{Reads: []string{"orders", "customers"}, Writes: []string{"enriched"}}, []grant{
			{What: "reads", Dataset: "orders", Role: "roles/storage.objectViewer"},
			{What: "reads", Dataset: "customers", Role: "roles/storage.objectViewer"},
			{What: "writes", Dataset: "enriched", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "enriched", Role: writer, ObjectOnly: true},
		}},
		{"writes only", plan.Task{Writes: []string{"a"}}, []grant{
			{What: "writes", Dataset: "a", Role: "roles/storage.objectCreator"},
			{What: "replaces", Dataset: "a", Role: writer, ObjectOnly: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, taskGrants(tt.task, writer)) })
	}
}

// TestWorkflowInvokes: the workflow's account invokes exactly the
// pipeline's functions, and each task's grants are its own.
func TestWorkflowInvokes(t *testing.T) {
	m := etl(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	assert.Equal(t, []string{"clean_orders", "clean_customers", "enrich", "daily_revenue", "customer_stats"}, dep.Invokes)
	for _, td := range dep.Tasks {
		assert.Equal(t, taskGrants(td.Task.Task, "glacier_etl_objectReplacer"), td.Grants, td.Name)
	}
}
