//go:build glacier_program

package main

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/cloudfunctionsv2"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// shared are the resources every task's function uses.
type shared struct {
	// Bundles holds the functions' source bundles.
	Bundles *storage.Bucket
	// Build is the service account Cloud Build builds the bundles as,
	// instead of the project's default build account; BuildGrants are its
	// roles, which a function's build waits for.
	Build       *serviceaccount.Account
	BuildGrants []pulumi.Resource
	// Roles are the program's custom roles by ID. The replacer role grants
	// storage.objects.delete, which Cloud Storage asks for, besides
	// storage.objects.create, to overwrite an object: a task needs it on
	// its outputs' objects to replace their previous versions.
	Roles map[string]*projects.IAMCustomRole
}

// newShared declares the bundles' bucket, auto-named from logical, the
// build account buildAccount and the replacer role replacerRole.
func newShared(ctx *pulumi.Context, logical, buildAccount, replacerRole string) (*shared, error) {
	bundles, err := storage.NewBucket(ctx, logical, &storage.BucketArgs{
		Location:                 pulumi.String(strings.ToUpper(region)),
		UniformBucketLevelAccess: pulumi.Bool(true),
		PublicAccessPrevention:   pulumi.String("enforced"),
		// It holds nothing but what this program uploads.
		ForceDestroy: pulumi.Bool(true),
		Labels:       labelled("glacier-bucket", "bundles"),
	})
	if err != nil {
		return nil, err
	}
	replacer, err := projects.NewIAMCustomRole(ctx, replacerRole, &projects.IAMCustomRoleArgs{
		RoleId:      pulumi.String(replacerRole),
		Title:       pulumi.String("Glacier object replacer"),
		Description: pulumi.String("Lets a Glacier task replace the objects of its outputs' buckets."),
		Permissions: pulumi.StringArray{pulumi.String("storage.objects.delete")},
	})
	if err != nil {
		return nil, err
	}
	roles := map[string]*projects.IAMCustomRole{replacerRole: replacer}

	// The build account reads the bundles and writes the built image and
	// its build logs: the roles Cloud Functions documents for a build
	// account of one's own. Logs and images live in project-wide services,
	// so those two roles are granted on the project.
	build, err := serviceaccount.NewAccount(ctx, buildAccount, &serviceaccount.AccountArgs{
		AccountId:   pulumi.String(buildAccount),
		DisplayName: pulumi.String("Glacier function builds"),
	})
	if err != nil {
		return nil, err
	}
	member := pulumi.Sprintf("serviceAccount:%s", build.Email)
	reads, err := storage.NewBucketIAMMember(ctx, buildAccount+"-reads-bundles", &storage.BucketIAMMemberArgs{
		Bucket: bundles.Name,
		Role:   pulumi.String("roles/storage.objectViewer"),
		Member: member,
	})
	if err != nil {
		return nil, err
	}
	grants := []pulumi.Resource{reads}
	for _, role := range []string{"roles/logging.logWriter", "roles/artifactregistry.writer"} {
		g, err := projects.NewIAMMember(ctx, buildAccount+"-"+strings.TrimPrefix(role, "roles/"), &projects.IAMMemberArgs{
			Project: build.Project,
			Role:    pulumi.String(role),
			Member:  member,
		})
		if err != nil {
			return nil, err
		}
		grants = append(grants, g)
	}
	return &shared{Bundles: bundles, Build: build, BuildGrants: grants, Roles: roles}, nil
}

// taskArgs configure a task's function.
type taskArgs struct {
	// Name is the task's name in the pipeline.
	Name     string
	Function string
	// Account is the ID of the service account the function runs as.
	Account string
	// Bundle is the task's source bundle: the function, the task's module
	// and its settings. BundleObject is the object it is uploaded as.
	Bundle       string
	BundleObject string
	Runtime      string
	EntryPoint   string
	// MemoryMiB is the function's memory: the task's, which caps its
	// sandbox, plus what the runtime around the sandbox needs.
	MemoryMiB int
	// CPU is the vCPU count that goes with MemoryMiB.
	CPU         string
	TimeoutSecs int
	// Reads and Writes are the task's inputs and outputs.
	Reads, Writes []*dataset
	// Grants are the roles of its service account, which the compiler
	// derived from the task's inputs and outputs.
	Grants []grant
	// State is the store's state bucket; nil if the deployment keeps no
	// store.
	State *dataset
}

// task is a task's function.
type task struct {
	Name     string
	Function *cloudfunctionsv2.Function
}

// newTask declares a task's service account, its grants, its source
// bundle and its function.
func newTask(ctx *pulumi.Context, s *shared, args taskArgs) (*task, error) {
	account, err := serviceaccount.NewAccount(ctx, args.Account, &serviceaccount.AccountArgs{
		AccountId:   pulumi.String(args.Account),
		DisplayName: pulumi.String("Glacier task " + args.Name),
	})
	if err != nil {
		return nil, err
	}
	grants, err := grantAll(ctx, s, args.Account, account, args.Grants)
	if err != nil {
		return nil, err
	}

	bundle, err := storage.NewBucketObject(ctx, args.Function, &storage.BucketObjectArgs{
		Bucket: s.Bundles.Name,
		Name:   pulumi.String(args.BundleObject),
		Source: pulumi.NewFileAsset(args.Bundle),
	})
	if err != nil {
		return nil, err
	}

	// datasetsEnv tells the runtime where each dataset the task touches
	// lives: {"<dataset>": "gs://<bucket>/<dataset>", ...}.
	datasets := pulumi.StringMap{}
	for _, d := range append(args.Reads, args.Writes...) {
		datasets[d.Name] = d.URL()
	}
	// The project, which Cloud Run does not tell a function, is how the
	// runtime links a run's record to the function's log.
	env := pulumi.StringMap{datasetsEnv: pulumi.JSONMarshal(datasets), "GOOGLE_CLOUD_PROJECT": account.Project}
	if args.State != nil {
		env[stateEnv] = pulumi.Sprintf("gs://%s", args.State.Bucket.Name)
	}
	fn, err := cloudfunctionsv2.NewFunction(ctx, args.Function, &cloudfunctionsv2.FunctionArgs{
		Name:        pulumi.String(args.Function),
		Location:    pulumi.String(region),
		Description: pulumi.String("Glacier task " + args.Name),
		Labels:      labelled("glacier-task", args.Name),
		BuildConfig: &cloudfunctionsv2.FunctionBuildConfigArgs{
			Runtime:        pulumi.String(args.Runtime),
			EntryPoint:     pulumi.String(args.EntryPoint),
			ServiceAccount: s.Build.Name,
			Source: &cloudfunctionsv2.FunctionBuildConfigSourceArgs{
				StorageSource: &cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs{
					Bucket: s.Bundles.Name,
					Object: bundle.Name,
				},
			},
		},
		ServiceConfig: &cloudfunctionsv2.FunctionServiceConfigArgs{
			AvailableMemory: pulumi.String(fmt.Sprintf("%dMi", args.MemoryMiB)),
			AvailableCpu:    pulumi.String(args.CPU),
			TimeoutSeconds:  pulumi.Int(args.TimeoutSecs),
			// One task run at a time per instance: the memory is the task's
			// and its runtime's.
			MaxInstanceRequestConcurrency: pulumi.Int(1),
			ServiceAccountEmail:           account.Email,
			// Reachable only from inside Google Cloud (the workflow), and
			// only by who may invoke it: no public invoker.
			IngressSettings:            pulumi.String("ALLOW_INTERNAL_ONLY"),
			AllTrafficOnLatestRevision: pulumi.Bool(true),
			EnvironmentVariables:       env,
		},
	}, pulumi.DependsOn(append(grants, s.BuildGrants...)))
	if err != nil {
		return nil, err
	}
	return &task{Name: args.Name, Function: fn}, nil
}
