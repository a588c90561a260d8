//go:build glacier_program

package main

import (
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/cloudrunv2"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/workflows"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// workflowArgs configure the workflow.
type workflowArgs struct {
	Name        string
	Description string
	// Account is the ID of the service account the workflow runs as; it
	// may invoke exactly Invokes.
	Account string
	Invokes []*task
	// URLs are the workflow's environment variables that tell it the
	// functions' URLs, each a JSON object by task name.
	URLs map[string][]*task
}

// newWorkflow declares the workflow that runs the pipeline, as
// workflow.yaml defines it, and its service account.
func newWorkflow(ctx *pulumi.Context, args workflowArgs) (*workflows.Workflow, error) {
	sa, err := serviceaccount.NewAccount(ctx, args.Account, &serviceaccount.AccountArgs{
		AccountId:   pulumi.String(args.Account),
		DisplayName: pulumi.String("Glacier workflow " + args.Name),
	})
	if err != nil {
		return nil, err
	}
	member := pulumi.Sprintf("serviceAccount:%s", sa.Email)

	// A 2nd gen function is served by a Cloud Run service of its own;
	// invoking it takes roles/run.invoker on that service.
	var invokers []pulumi.Resource
	for _, t := range args.Invokes {
		inv, err := cloudrunv2.NewServiceIamMember(ctx, args.Account+"-invokes-"+t.Name, &cloudrunv2.ServiceIamMemberArgs{
			Name:     t.Function.ServiceConfig.Service().Elem(),
			Location: pulumi.String(region),
			Role:     pulumi.String("roles/run.invoker"),
			Member:   member,
		})
		if err != nil {
			return nil, err
		}
		invokers = append(invokers, inv)
	}
	env := pulumi.StringMap{}
	for name, tasks := range args.URLs {
		urls := pulumi.StringMap{}
		for _, t := range tasks {
			urls[t.Name] = t.Function.ServiceConfig.Uri().Elem()
		}
		env[name] = pulumi.JSONMarshal(urls)
	}
	return workflows.NewWorkflow(ctx, args.Name, &workflows.WorkflowArgs{
		Name:               pulumi.String(args.Name),
		Region:             pulumi.String(region),
		Description:        pulumi.String(args.Description),
		ServiceAccount:     sa.Email,
		SourceContents:     pulumi.String(definition),
		UserEnvVars:        env,
		CallLogLevel:       pulumi.String("LOG_ERRORS_ONLY"),
		DeletionProtection: pulumi.Bool(false),
		Labels:             labelled("glacier-workflow", args.Name),
	}, pulumi.DependsOn(invokers))
}
