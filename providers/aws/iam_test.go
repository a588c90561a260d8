package aws

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// TestTaskPolicy: a task's role may read exactly its inputs' objects (a
// partitioned input's list and the parts where they live), write exactly
// its outputs' objects (a partitioned output's list and its runs' parts),
// list only a map task's own staged parts, and write its own logs.
func TestTaskPolicy(t *testing.T) {
	logs := iamStatement{Sid: "WriteOwnLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, OwnLogs: true}
	sources := func(names ...string) func(string) bool {
		return func(d string) bool { return slices.Contains(names, d) }
	}
	tests := []struct {
		name    string
		task    plan.Task
		sources func(string) bool
		want    []iamStatement
	}{
		{"reads and writes", plan.Task{Reads: []string{"orders", "customers"}, Writes: []string{"enriched"}}, sources("orders"), []iamStatement{
			{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}, Objects: []string{"orders", "customers"}},
			{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"enriched"}},
			logs,
		}},
		{"no inputs, no read statement", plan.Task{Writes: []string{"a", "b"}}, sources(), []iamStatement{
			{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"a", "b"}},
			logs,
		}},
		{"a map task over a source, with a broadcast input", plan.Task{
			Task:  glacier.Task{Map: "logs"},
			Reads: []string{"header", "logs"}, Writes: []string{"parsed", "errors"}, Partitioned: []string{"logs", "parsed", "errors"},
		}, sources("header", "logs"), []iamStatement{
			{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}, Objects: []string{"header", "logs"},
				Keys: []objectKey{{"logs", "logs.source/*"}}},
			{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"parsed", "errors"},
				Keys: []objectKey{{"parsed", "parsed.runs/*"}, {"errors", "errors.runs/*"}}},
			{Sid: "ListStagedParts", Actions: []string{"s3:ListBucket"}, Buckets: []string{"parsed", "errors"},
				Prefixes: []string{"parsed.runs/*", "errors.runs/*"}},
			logs,
		}},
		{"fan-out and fan-in: a task's partitioned input is read under its runs, no listing", plan.Task{
			Reads: []string{"parsed"}, Writes: []string{"days"}, Partitioned: []string{"parsed", "days"},
		}, sources(), []iamStatement{
			{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}, Objects: []string{"parsed"}, Keys: []objectKey{{"parsed", "parsed.runs/*"}}},
			{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"days"}, Keys: []objectKey{{"days", "days.runs/*"}}},
			logs,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, taskPolicy(tt.task, tt.sources)) })
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
	assert.Equal(t, deliverLogs(t, policy[1]), policy[1])

	// Every task's role is its own policy; examples/etl keeps a store.
	require.NotEmpty(t, dep.StateLogical)
	for _, td := range dep.Tasks {
		assert.Equal(t, storeTaskPolicy(td.Task.Task, "etl", td.Retire), td.Policy, td.Name)
	}
	// examples/logs, with partitioned datasets, keeps none yet.
	ml := logsExample(t)
	dl, probs := designFor(t, ml.Pipeline, Options{Dir: ml.Dir})
	require.NoError(t, probs.Err())
	assert.Empty(t, dl.StateLogical)
	for _, td := range dl.Tasks {
		assert.Equal(t, taskPolicy(td.Task.Task, isSource(dl.Flow)), td.Policy, td.Name)
	}
}

// TestStoreTaskPolicy: with a store, a task's role reads its inputs'
// versions and exactly the refs or source records naming them; writes its
// outputs only through its own staging names, their versions and their
// stable names; writes only its own memo entries, ref and run records;
// and may list the buckets it looks for missing names in.
func TestStoreTaskPolicy(t *testing.T) {
	task := plan.Task{Task: glacier.Task{Name: "enrich"}, Reads: []string{"orders", "customers", "rates"}, Writes: []string{"enriched", "rejects"},
		Producers: map[string]string{"orders": "clean", "customers": "clean"}}
	assert.Equal(t, []iamStatement{
		{Sid: "ReadInputs", Actions: []string{"s3:GetObject"},
			Keys: []objectKey{{"orders", "objects/*"}, {"customers", "objects/*"}, {"rates", "objects/*"}}},
		{Sid: "ReadInputRefs", Actions: []string{"s3:GetObject"},
			State: []string{"pipelines/p/tasks/clean.json", "pipelines/p/sources/rates.json"}},
		{Sid: "StageOutputs", Actions: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
			Keys: []objectKey{{"enriched", "staging/*/enrich/enriched"}, {"rejects", "staging/*/enrich/rejects"}}},
		{Sid: "AddOutputVersions", Actions: []string{"s3:PutObject", "s3:GetObject"},
			Keys: []objectKey{{"enriched", "objects/*"}, {"rejects", "objects/*"}}},
		{Sid: "PublishOutputs", Actions: []string{"s3:PutObject"}, Objects: []string{"enriched", "rejects"}},
		{Sid: "OwnMemoAndRef", Actions: []string{"s3:PutObject", "s3:GetObject"},
			State: []string{"memo/enrich/*", "pipelines/p/tasks/enrich.json", "runs/*/tasks/enrich.json"}},
		{Sid: "ListStore", Actions: []string{"s3:ListBucket"}, Buckets: []string{"enriched", "rejects"}, StateBucket: true},
		{Sid: "WriteOwnLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, OwnLogs: true},
	}, storeTaskPolicy(task, "p", nil))

	// An output with retention_days has its replaced versions retired:
	// moved under retired/ (and brought back), deleted from objects/.
	policy := storeTaskPolicy(task, "p", []string{"rejects"})
	assert.Equal(t, []iamStatement{
		{Sid: "RetireReplacedVersions", Actions: []string{"s3:PutObject", "s3:GetObject"}, Keys: []objectKey{{"rejects", "retired/*"}}},
		{Sid: "DeleteReplacedVersions", Actions: []string{"s3:DeleteObject"}, Keys: []objectKey{{"rejects", "objects/*"}}},
	}, policy[4:6])
	assert.Len(t, policy, 10)
}

// deliverLogs checks that s is the log delivery statement and returns it.
func deliverLogs(t *testing.T, s iamStatement) iamStatement {
	t.Helper()
	assert.Equal(t, "DeliverLogs", s.Sid)
	assert.True(t, s.Any)
	for _, a := range s.Actions {
		assert.Regexp(t, `^logs:[A-Za-z]+(LogDelivery|LogDeliveries|ResourcePolicy|ResourcePolicies|LogGroups)$`, a)
	}
	return s
}

// TestStateMachinePolicyMaps: with map tasks, the state machine also
// reads exactly the mapped inputs' lists, writes its map results under
// their prefixes only, and starts, watches and stops its own executions.
func TestStateMachinePolicyMaps(t *testing.T) {
	m := logsExample(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	policy := dep.StateMachinePolicy
	require.Len(t, policy, 6)
	assert.Equal(t, []iamStatement{
		{Sid: "InvokeTasks", Actions: []string{"lambda:InvokeFunction"}, Functions: []string{"parse", "daily", "all_time"}},
		{Sid: "ReadMapItems", Actions: []string{"s3:GetObject"}, Objects: []string{"access_logs", "hits"}},
		{Sid: "WriteMapResults", Actions: []string{"s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"},
			Keys: []objectKey{{"hits", "hits.map-results/*"}, {"daily", "daily.map-results/*"}}},
		{Sid: "StartMapRuns", Actions: []string{"states:StartExecution"}, OwnStateMachine: true},
		{Sid: "ManageMapRuns", Actions: []string{"states:DescribeExecution", "states:StopExecution"}, OwnExecutions: true},
		deliverLogs(t, policy[5]),
	}, policy)
	assert.Equal(t, []string{"access_logs", "hits", "daily"}, dep.DefinitionBuckets, "the datasets the definition names")
}
