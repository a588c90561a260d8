//go:build glacier_program

package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// taskArgs configure a task's function.
type taskArgs struct {
	// Name is the task's name in the pipeline.
	Name         string
	FunctionName string
	// Role is the logical name the function's role is auto-named from.
	Role string
	// Code is the task's zip: the bootstrap, the task's module and its
	// settings.
	Code         string
	Architecture string
	// MemoryMiB is the function's memory: the task's, which caps its
	// sandbox, plus what the runtime around the sandbox needs.
	MemoryMiB        int
	TimeoutSecs      int
	LogRetentionDays int
	// Reads and Writes are the task's inputs and outputs.
	Reads, Writes []*dataset
	// Policy is the role's policy, which the compiler derived from the
	// task's inputs and outputs.
	Policy []statement
	// State is the store's state bucket; nil if the deployment keeps no
	// store.
	State *s3.BucketV2
}

// newTask declares a task's function, its log group, and its role.
func newTask(ctx *pulumi.Context, args taskArgs) (*lambda.Function, error) {
	logs, err := cloudwatch.NewLogGroup(ctx, args.FunctionName, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + args.FunctionName),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		Tags:            tagged("glacier:task", args.Name),
	})
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, args.Role, &iam.RoleArgs{
		AssumeRolePolicy: assumeRole("lambda.amazonaws.com"),
		Tags:             tagged("glacier:task", args.Name),
	})
	if err != nil {
		return nil, err
	}
	policy, err := iam.NewRolePolicy(ctx, args.Role, &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: policyDocument(args.Policy, owner{Logs: logs, State: args.State}),
	})
	if err != nil {
		return nil, err
	}

	// datasetsEnv tells the runtime where each dataset the task touches
	// lives: {"<dataset>": "s3://<bucket>/<dataset>", ...}.
	datasets := pulumi.StringMap{}
	for _, d := range append(args.Reads, args.Writes...) {
		datasets[d.Name] = d.URL()
	}
	env := pulumi.StringMap{datasetsEnv: pulumi.JSONMarshal(datasets)}
	if args.State != nil {
		env[stateEnv] = pulumi.Sprintf("s3://%s", args.State.Bucket)
	}
	return lambda.NewFunction(ctx, args.FunctionName, &lambda.FunctionArgs{
		Name:          pulumi.String(args.FunctionName),
		Description:   pulumi.String("Glacier task " + args.Name),
		Role:          role.Arn,
		Runtime:       lambda.RuntimeCustomAL2023,
		Handler:       pulumi.String("bootstrap"),
		Code:          pulumi.NewFileArchive(args.Code),
		Architectures: pulumi.StringArray{pulumi.String(args.Architecture)},
		MemorySize:    pulumi.Int(args.MemoryMiB),
		Timeout:       pulumi.Int(args.TimeoutSecs),
		Environment:   &lambda.FunctionEnvironmentArgs{Variables: env},
		Tags:          tagged("glacier:task", args.Name),
	}, pulumi.DependsOn([]pulumi.Resource{logs, policy}))
}
