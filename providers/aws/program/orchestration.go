//go:build glacier_program

package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newStateMachine declares the state machine that runs the pipeline, with a
// role auto-named from role whose policy is policy, and its executions
// logged to a log group kept logRetentionDays.
func newStateMachine(ctx *pulumi.Context, name, role string, logRetentionDays int, policy []statement) (*sfn.StateMachine, error) {
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
	rolePolicy, err := iam.NewRolePolicy(ctx, role, &iam.RolePolicyArgs{
		Role:   r.ID(),
		Policy: policyDocument(policy, nil),
	})
	if err != nil {
		return nil, err
	}
	return sfn.NewStateMachine(ctx, name, &sfn.StateMachineArgs{
		Name:       pulumi.String(name),
		RoleArn:    r.Arn,
		Definition: pulumi.String(definition),
		LoggingConfiguration: &sfn.StateMachineLoggingConfigurationArgs{
			Level:                pulumi.String("ALL"),
			IncludeExecutionData: pulumi.Bool(true),
			LogDestination:       pulumi.Sprintf("%s:*", logs.Arn),
		},
		Tags: tagged(),
	}, pulumi.DependsOn([]pulumi.Resource{rolePolicy, logs}))
}
