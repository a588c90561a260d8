package aws

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// TestTaskPolicy: a task's role may read exactly its inputs' objects,
// write exactly its outputs' objects and write its own logs.
func TestTaskPolicy(t *testing.T) {
	logs := iamStatement{Sid: "WriteOwnLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, OwnLogs: true}
	tests := []struct {
		name string
		task plan.Task
		want []iamStatement
	}{
		{"reads and writes", plan.Task{Reads: []string{"orders", "customers"}, Writes: []string{"enriched"}}, []iamStatement{
			{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}, Objects: []string{"orders", "customers"}},
			{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"enriched"}},
			logs,
		}},
		{"no inputs, no read statement", plan.Task{Writes: []string{"a", "b"}}, []iamStatement{
			{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"a", "b"}},
			logs,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, taskPolicy(tt.task)) })
	}
}

// TestStateMachinePolicy: the state machine may invoke exactly the
// pipeline's functions; log delivery takes "*" and nothing else does.
func TestStateMachinePolicy(t *testing.T) {
	m := compiletest.ETL(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	policy := dep.StateMachinePolicy
	require.Len(t, policy, 2)
	assert.Equal(t, iamStatement{Sid: "InvokeTasks", Actions: []string{"lambda:InvokeFunction"},
		Functions: []string{"clean_orders", "clean_customers", "enrich", "daily_revenue", "customer_stats"}}, policy[0])
	assert.Equal(t, "DeliverLogs", policy[1].Sid)
	assert.True(t, policy[1].Any)
	for _, a := range policy[1].Actions {
		assert.Regexp(t, `^logs:[A-Za-z]+(LogDelivery|LogDeliveries|ResourcePolicy|ResourcePolicies|LogGroups)$`, a)
	}

	// Every task's role is its own policy.
	for _, td := range dep.Tasks {
		assert.Equal(t, taskPolicy(td.Task.Task), td.Policy, td.Name)
	}
}
