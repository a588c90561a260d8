//go:build glacier_program

package main

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newStateMachine declares the state machine that runs the pipeline, with a
// role auto-named from role whose policy is policy, and its executions
// logged to a log group kept logRetentionDays. buckets are the datasets
// whose buckets the definition names by placeholder: each placeholder is
// replaced by its bucket's name, as CloudFormation's
// DefinitionSubstitutions would.
func newStateMachine(ctx *pulumi.Context, name, role string, logRetentionDays int, buckets map[string]*dataset, policy []statement) (*sfn.StateMachine, error) {
	r, err := iam.NewRole(ctx, role, &iam.RoleArgs{
		AssumeRolePolicy: assumeRole("states.amazonaws.com"),
		Tags:             tagged(),
	})
	if err != nil {
		return nil, err
	}
	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/vendedlogs/states/" + name),
		RetentionInDays: pulumi.Int(logRetentionDays),
		Tags:            tagged(),
	})
	if err != nil {
		return nil, err
	}
	// The role's policy names the state machine, which needs the role
	// first: its name is fixed, and its ARN shares the partition, region
	// and account of the log group's.
	machineARN := logs.Arn.ApplyT(func(arn string) (string, error) { return siblingARN(arn, "stateMachine:"+name) }).(pulumi.StringOutput)
	executions := logs.Arn.ApplyT(func(arn string) (string, error) { return siblingARN(arn, "execution:"+name+"/*") }).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, role, &iam.RolePolicyArgs{
		Role:   r.ID(),
		Policy: policyDocument(policy, owner{StateMachine: machineARN, Executions: executions}),
	})
	if err != nil {
		return nil, err
	}
	return sfn.NewStateMachine(ctx, name, &sfn.StateMachineArgs{
		Name:       pulumi.String(name),
		RoleArn:    r.Arn,
		Definition: substitute(definition, buckets),
		LoggingConfiguration: &sfn.StateMachineLoggingConfigurationArgs{
			Level:                pulumi.String("ALL"),
			IncludeExecutionData: pulumi.Bool(true),
			LogDestination:       pulumi.Sprintf("%s:*", logs.Arn),
		},
		Tags: tagged(),
	}, pulumi.DependsOn([]pulumi.Resource{rolePolicy, logs}))
}

// siblingARN is the ARN of the Step Functions resource in the partition,
// region and account of arn (arn:partition:service:region:account:...).
func siblingARN(arn, resource string) (string, error) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return "", fmt.Errorf("%q is not an ARN", arn)
	}
	return fmt.Sprintf("arn:%s:states:%s:%s:%s", f[1], f[3], f[4], resource), nil
}

// substitute replaces each placeholder of def by its dataset's bucket
// name, and fails if a placeholder (the compiler writes them as
// ${bucket:<dataset>}) is left, so a definition never reaches Step
// Functions naming a bucket that does not exist.
func substitute(def string, buckets map[string]*dataset) pulumi.StringOutput {
	placeholders := make([]string, 0, len(buckets))
	names := make([]any, 0, len(buckets))
	for p, d := range buckets {
		placeholders = append(placeholders, p)
		names = append(names, d.Bucket.Bucket)
	}
	return pulumi.All(names...).ApplyT(func(got []any) (string, error) {
		pairs := make([]string, 0, 2*len(got))
		for i, n := range got {
			pairs = append(pairs, placeholders[i], n.(string))
		}
		out := strings.NewReplacer(pairs...).Replace(def)
		if i := strings.Index(out, "${bucket:"); i >= 0 {
			return "", fmt.Errorf("the state machine's definition names a bucket main.go does not give: %.60s", out[i:])
		}
		return out, nil
	}).(pulumi.StringOutput)
}
