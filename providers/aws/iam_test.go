package aws

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

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
		assert.Equal(t, taskPolicy(td.Task.Task, "etl", td.Retire), td.Policy, td.Name)
	}
	// So does examples/logs, with partitioned datasets.
	ml := logsExample(t)
	dl, probs := designFor(t, ml.Pipeline, Options{Dir: ml.Dir})
	require.NoError(t, probs.Err())
	assert.NotEmpty(t, dl.StateLogical)
	for _, td := range dl.Tasks {
		assert.Equal(t, taskPolicy(td.Task.Task, "logs", td.Retire), td.Policy, td.Name)
	}
}

// TestTaskPolicy: a task's role reads its inputs'
// versions and exactly the refs or source records naming them; writes its
// outputs only through its own staging names, their versions and their
// stable names; writes only its own memo entries, ref and run records;
// and may list the buckets it looks for missing names in.
func TestTaskPolicy(t *testing.T) {
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
	}, taskPolicy(task, "p", nil))

	// An output with retention_days has its replaced versions retired:
	// moved under retired/ (and brought back), deleted from objects/.
	policy := taskPolicy(task, "p", []string{"rejects"})
	assert.Equal(t, []iamStatement{
		{Sid: "RetireReplacedVersions", Actions: []string{"s3:PutObject", "s3:GetObject"}, Keys: []objectKey{{"rejects", "retired/*"}}},
		{Sid: "DeleteReplacedVersions", Actions: []string{"s3:DeleteObject"}, Keys: []objectKey{{"rejects", "objects/*"}}},
	}, policy[4:6])
	assert.Len(t, policy, 10)

	// A partitioned output's parts are staged in a folder of their own,
	// whatever the run; nothing is listed for a map task's commit, which
	// finds its parts in its memo entries.
	mapTask := plan.Task{Task: glacier.Task{Name: "parse", Map: "logs"}, Reads: []string{"logs"}, Writes: []string{"parsed"},
		Partitioned: []string{"logs", "parsed"}}
	policy = taskPolicy(mapTask, "p", nil)
	assert.Equal(t, iamStatement{Sid: "StageOutputs", Actions: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
		Keys: []objectKey{{"parsed", "staging/*/parse/parsed"}, {"parsed", "staging/parse/parsed.parts/*"}}}, policy[2])
	assert.Equal(t, iamStatement{Sid: "ListStore", Actions: []string{"s3:ListBucket"}, Buckets: []string{"parsed"}, StateBucket: true}, policy[6])
	assert.Equal(t, iamStatement{Sid: "OwnMemoAndRef", Actions: []string{"s3:PutObject", "s3:GetObject"},
		State: []string{"memo/parse/*", "pipelines/p/tasks/parse.json", "runs/*/tasks/parse.json", "parts/parse/*"}}, policy[5],
		"a map task also records its parts")
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
