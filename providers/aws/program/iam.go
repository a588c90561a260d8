//go:build glacier_program

package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// statement is one statement of a role's policy, as the compiler derived
// it from the pipeline's data flow: the resources are given by what they
// are, and policyDocument turns them into ARNs.
type statement struct {
	Sid     string
	Actions []string
	// Objects are datasets whose object the statement covers.
	Objects []*dataset
	// Keys are objects of datasets' buckets by key; a trailing '*'
	// matches any rest.
	Keys []objectKey
	// Buckets are datasets whose bucket itself the statement covers.
	Buckets []*dataset
	// State are keys (patterns) in the state bucket, and StateBucket the
	// state bucket itself.
	State       []string
	StateBucket bool
	// Functions are functions it covers.
	Functions []*lambda.Function
	// OwnLogs covers the role's own log group and its streams.
	OwnLogs bool
	// OwnStateMachine covers the state machine whose role holds the
	// statement; OwnExecutions its executions, among them the child
	// executions of its Distributed Maps.
	OwnStateMachine, OwnExecutions bool
	// Any covers every resource, for actions that take no other.
	Any bool
}

// objectKey is the key, or a key pattern, of objects in a dataset's
// bucket.
type objectKey struct {
	Dataset *dataset
	Key     string
}

// owner are the resources a statement's Own fields stand for, nil where
// the role has none.
type owner struct {
	// Logs is the role's function's log group.
	Logs *cloudwatch.LogGroup
	// State is the store's state bucket.
	State *s3.BucketV2
	// StateMachine and Executions are the ARN of the role's state machine
	// and the pattern of its executions' ARNs.
	StateMachine, Executions pulumi.StringInput
}

// policyDocument is the IAM policy of statements, whose Own fields stand
// for own's resources.
func policyDocument(statements []statement, own owner) pulumi.StringOutput {
	doc := pulumi.Array{}
	for _, s := range statements {
		resources := pulumi.StringArray{}
		for _, d := range s.Objects {
			resources = append(resources, d.ObjectARN())
		}
		for _, k := range s.Keys {
			resources = append(resources, pulumi.Sprintf("%s/%s", k.Dataset.Bucket.Arn, k.Key))
		}
		for _, d := range s.Buckets {
			resources = append(resources, d.Bucket.Arn)
		}
		for _, k := range s.State {
			resources = append(resources, pulumi.Sprintf("%s/%s", own.State.Arn, k))
		}
		if s.StateBucket {
			resources = append(resources, own.State.Arn)
		}
		for _, f := range s.Functions {
			resources = append(resources, f.Arn)
		}
		if s.OwnLogs && own.Logs != nil {
			resources = append(resources, pulumi.Sprintf("%s:*", own.Logs.Arn))
		}
		if s.OwnStateMachine && own.StateMachine != nil {
			resources = append(resources, own.StateMachine)
		}
		if s.OwnExecutions && own.Executions != nil {
			resources = append(resources, own.Executions)
		}
		if s.Any {
			resources = append(resources, pulumi.String("*"))
		}
		st := pulumi.Map{
			"Sid":      pulumi.String(s.Sid),
			"Effect":   pulumi.String("Allow"),
			"Action":   pulumi.ToStringArray(s.Actions),
			"Resource": resources,
		}
		doc = append(doc, st)
	}
	return pulumi.JSONMarshal(pulumi.Map{
		"Version":   pulumi.String("2012-10-17"),
		"Statement": doc,
	})
}

// assumeRole is a trust policy letting an AWS service assume a role.
func assumeRole(service string) pulumi.String {
	return pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` +
		service + `"},"Action":"sts:AssumeRole"}]}`)
}
