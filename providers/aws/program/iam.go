//go:build glacier_program

package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
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
	// Functions are functions it covers.
	Functions []*lambda.Function
	// OwnLogs covers the role's own log group and its streams.
	OwnLogs bool
	// Any covers every resource, for actions that take no other.
	Any bool
}

// policyDocument is the IAM policy of statements; ownLogs is the log group
// OwnLogs covers, nil where none does.
func policyDocument(statements []statement, ownLogs *cloudwatch.LogGroup) pulumi.StringOutput {
	doc := pulumi.Array{}
	for _, s := range statements {
		resources := pulumi.StringArray{}
		for _, d := range s.Objects {
			resources = append(resources, d.ObjectARN())
		}
		for _, f := range s.Functions {
			resources = append(resources, f.Arn)
		}
		if s.OwnLogs && ownLogs != nil {
			resources = append(resources, pulumi.Sprintf("%s:*", ownLogs.Arn))
		}
		if s.Any {
			resources = append(resources, pulumi.String("*"))
		}
		doc = append(doc, pulumi.Map{
			"Sid":      pulumi.String(s.Sid),
			"Effect":   pulumi.String("Allow"),
			"Action":   pulumi.ToStringArray(s.Actions),
			"Resource": resources,
		})
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
