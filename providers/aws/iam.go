package aws

import (
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
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
	// Functions are tasks whose function it covers.
	Functions []string
	// OwnLogs covers the task's own log group and its streams.
	OwnLogs bool
	// Any covers every resource, for actions that take no other.
	Any bool
}

// taskPolicy is the policy of t's role, derived from its data flow:
// s3:GetObject on its inputs' objects, s3:PutObject on its outputs'
// objects, and writing its own logs. Nothing else, not even listing a
// bucket, so S3 answers a read of a missing object with 403.
func taskPolicy(t plan.Task) []iamStatement {
	var out []iamStatement
	if len(t.Reads) > 0 {
		out = append(out, iamStatement{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}, Objects: t.Reads})
	}
	return append(out,
		iamStatement{Sid: "WriteOutputs", Actions: []string{"s3:PutObject"}, Objects: t.Writes},
		iamStatement{Sid: "WriteOwnLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, OwnLogs: true},
	)
}

// stateMachinePolicy is the policy of the state machine's role: invoking
// exactly the tasks' functions, and delivering its execution logs through
// CloudWatch Logs' log delivery, whose actions take no resource but "*".
func stateMachinePolicy(tasks []*compile.Task) []iamStatement {
	var functions []string
	for _, t := range tasks {
		functions = append(functions, t.Name)
	}
	return []iamStatement{
		{Sid: "InvokeTasks", Actions: []string{"lambda:InvokeFunction"}, Functions: functions},
		{Sid: "DeliverLogs", Actions: []string{
			"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
		}, Any: true},
	}
}
