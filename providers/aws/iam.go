package aws

import (
	"slices"

	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/store"
)

// iamStatement is one statement of a role's policy. Its resources are named
// by what they are, since their ARNs exist only once deployed; the written
// program turns them into ARNs, and main.go lists every statement, so a
// change of permissions shows in its diff.
type iamStatement struct {
	Sid     string
	Actions []string
	// Objects are datasets whose object the statement covers.
	Objects []string
	// Keys are objects of datasets' buckets by key, where a '*' matches
	// any run of characters: versions, staging names.
	Keys []objectKey
	// Buckets are datasets whose bucket itself the statement covers, for
	// listing it.
	Buckets []string
	// State are keys (patterns) in the store's state bucket, and
	// StateBucket the state bucket itself, for listing it.
	State       []string
	StateBucket bool
	// Functions are tasks whose function it covers.
	Functions []string
	// OwnLogs covers the task's own log group and its streams.
	OwnLogs bool
	// OwnStateMachine covers the state machine itself, and
	// OwnExecutions the child executions its Distributed Maps start.
	OwnStateMachine, OwnExecutions bool
	// Any covers every resource, for actions that take no other.
	Any bool
}

// objectKey is the key (or key pattern) of objects in a dataset's bucket.
type objectKey struct {
	Dataset, Key string
}

// taskPolicy is the policy of t's role, derived from its data flow over
// the store (docs/store.md): it reads its inputs' versions and the refs
// (or source records) that name them; stages its outputs under its own
// staging names (a partitioned output's parts in a folder of their own),
// adds them as versions and updates their stable names; and reads and writes its own
// memo entries, ref and run records, nothing of another task's. It may
// list the state bucket and its outputs' buckets, so that S3 answers a
// missing memo entry, ref or version with 404 rather than 403: listing
// shows names (digests, task names, run IDs), never contents. For each
// output in retire, it may also move a replaced version to its retired
// name and bring one back (store.Retire, store.Revive).
func taskPolicy(t plan.Task, pipeline string, retire []string) []iamStatement {
	var out []iamStatement
	if len(t.Reads) > 0 {
		read := iamStatement{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}}
		refs := iamStatement{Sid: "ReadInputRefs", Actions: []string{"s3:GetObject"}}
		for _, d := range t.Reads {
			read.Keys = append(read.Keys, objectKey{d, store.ObjectsPrefix + "*"})
			ref := store.SourceName(pipeline, d)
			if p, ok := t.Producers[d]; ok {
				ref = store.RefName(pipeline, p)
			}
			if !slices.Contains(refs.State, ref) {
				refs.State = append(refs.State, ref)
			}
		}
		out = append(out, read, refs)
	}
	stage := iamStatement{Sid: "StageOutputs", Actions: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}}
	versions := iamStatement{Sid: "AddOutputVersions", Actions: []string{"s3:PutObject", "s3:GetObject"}}
	for _, d := range t.Writes {
		stage.Keys = append(stage.Keys, objectKey{d, store.StagingName("*", t.Name, d)})
		if slices.Contains(t.Partitioned, d) {
			stage.Keys = append(stage.Keys, objectKey{d, store.PartStagingPrefix("", t.Name, d) + "/*"})
		}
		versions.Keys = append(versions.Keys, objectKey{d, store.ObjectsPrefix + "*"})
	}
	out = append(out, stage, versions)
	if len(retire) > 0 {
		retired := iamStatement{Sid: "RetireReplacedVersions", Actions: []string{"s3:PutObject", "s3:GetObject"}}
		replaced := iamStatement{Sid: "DeleteReplacedVersions", Actions: []string{"s3:DeleteObject"}}
		for _, d := range retire {
			retired.Keys = append(retired.Keys, objectKey{d, store.RetiredPrefix + "*"})
			replaced.Keys = append(replaced.Keys, objectKey{d, store.ObjectsPrefix + "*"})
		}
		out = append(out, retired, replaced)
	}
	own := []string{store.MemoPrefix(t.Name) + "*", store.RefName(pipeline, t.Name), store.RunTaskName("*", t.Name)}
	if t.Map != "" {
		own = append(own, store.RunPartPrefix(t.Name)+"*")
	}
	return append(out,
		iamStatement{Sid: "PublishOutputs", Actions: []string{"s3:PutObject"}, Objects: t.Writes},
		iamStatement{Sid: "OwnMemoAndRef", Actions: []string{"s3:PutObject", "s3:GetObject"}, State: own},
		iamStatement{Sid: "ListStore", Actions: []string{"s3:ListBucket"}, Buckets: t.Writes, StateBucket: true},
		iamStatement{Sid: "WriteOwnLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, OwnLogs: true},
	)
}

// stateMachinePolicy is the policy of the state machine's role: invoking
// exactly the tasks' functions, and delivering its execution logs through
// CloudWatch Logs' log delivery, whose actions take no resource but "*".
// If a task maps, its Distributed Map also reads the mapped input's part
// list, writes its results under mapResultsPrefix (ResultWriter uploads
// in parts, so it may also list and abort its own uploads), and starts,
// watches and stops child executions of this very state machine.
func stateMachinePolicy(tasks []taskDecl) []iamStatement {
	var functions, lists []string
	var results []objectKey
	for _, t := range tasks {
		functions = append(functions, t.Name)
		if t.Map != "" {
			if !slices.Contains(lists, t.Map) {
				lists = append(lists, t.Map)
			}
			results = append(results, objectKey{t.Writes[0], mapResultsPrefix(t.Writes[0]) + "/*"})
		}
	}
	out := []iamStatement{{Sid: "InvokeTasks", Actions: []string{"lambda:InvokeFunction"}, Functions: functions}}
	if len(lists) > 0 {
		out = append(out,
			iamStatement{Sid: "ReadMapItems", Actions: []string{"s3:GetObject"}, Objects: lists},
			iamStatement{Sid: "WriteMapResults", Actions: []string{
				"s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload",
			}, Keys: results},
			iamStatement{Sid: "StartMapRuns", Actions: []string{"states:StartExecution"}, OwnStateMachine: true},
			iamStatement{Sid: "ManageMapRuns", Actions: []string{"states:DescribeExecution", "states:StopExecution"}, OwnExecutions: true},
		)
	}
	return append(out, iamStatement{Sid: "DeliverLogs", Actions: []string{
		"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
		"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
	}, Any: true})
}
