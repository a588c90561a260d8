package aws

import (
	"slices"
	"strconv"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// Provider hints the compiler reads.
const (
	hintStorageClass     = "aws_storage_class"
	hintArchitecture     = "aws_architecture"
	hintLogRetentionDays = "aws_log_retention_days"
)

var (
	datasetHints = []string{hintStorageClass}
	taskHints    = []string{hintArchitecture, hintLogRetentionDays}
)

// Naming rules of the resources named after datasets and tasks. S3 bucket
// and IAM role names are global, so Pulumi auto-names them from these
// logical names; function names are regional and set exactly.
var (
	bucketNaming = compile.Naming{Rule: plan.S3Bucket.Reserve(plan.PulumiAutoNameSuffix),
		What: "bucket name", Why: "S3 names fold '_' to '-'"}
	functionNaming = compile.Naming{Rule: plan.LambdaFunction,
		What: "function name", Why: "Lambda function names are at most 64 characters"}
	roleRule = plan.IAMRole.Reserve(plan.PulumiAutoNameSuffix)
)

// target is AWS as a compile.Target.
type target struct {
	// opts are resolved.
	opts Options
	// pack produces a task's artifact; tests replace it.
	pack packFunc
}

// deployment is everything the compiler decided: what the written files
// say, in the pipeline's declaration order.
type deployment struct {
	*compile.Deployment
	Datasets []datasetDecl
	Tasks    []taskDecl
	// StateMachine is the state machine's name; StateMachineRole the
	// logical name its role is auto-named from, and StateMachinePolicy
	// that role's policy.
	StateMachine       string
	StateMachineRole   string
	StateMachinePolicy []iamStatement
	// DefinitionBuckets are the datasets whose buckets the definition
	// names by bucketPlaceholder, for the program to fill in.
	DefinitionBuckets []string
	// LogRetentionDays is how long the state machine's execution logs
	// are kept: as long as the functions' by default.
	LogRetentionDays int
}

// datasetDecl is one dataset's bucket.
type datasetDecl struct {
	*compile.Dataset
	Bucket bucketPlan
	// MapResults is where the Distributed Map of the map task whose first
	// output this is writes its results (mapResultsPrefix, with a '/');
	// they expire after MapResultsDays, as the task's logs do (zero keeps
	// them).
	MapResults     string
	MapResultsDays int
}

// taskDecl is one task's function, role and log group.
type taskDecl struct {
	*compile.Task
	// RoleLogical is the Pulumi name the task's role is auto-named from;
	// Policy is that role's policy.
	RoleLogical      string
	Policy           []iamStatement
	Arch             Arch
	LogRetentionDays int
}

// Design implements compile.Target: it checks what only AWS checks and
// decides every AWS name and setting.
func (t target) Design(d *compile.Deployment, report plan.Report) *deployment {
	t.opts.check(d.Region, report)
	dep := &deployment{
		Deployment:       d,
		StateMachine:     d.OrchestratorName(plan.StateMachine),
		StateMachineRole: roleRule.Name(d.Prefix, "StateMachine"),
		LogRetentionDays: t.opts.Defaults.LogRetentionDays,
	}
	for _, ds := range d.Datasets {
		errorf, warnf := report(glacier.Error, "dataset", ds.Name), report(glacier.Warning, "dataset", ds.Name)
		dd := datasetDecl{Dataset: ds, Bucket: planBucket(ds.Dataset, d.BucketRetentionDays(ds), errorf, warnf)}
		if c := dd.Bucket.Class; c != "" && c != ClassStandard {
			ds.Comment += " It is kept in " + string(c) + "."
		}
		dep.Datasets = append(dep.Datasets, dd)
	}
	for _, task := range d.Tasks {
		errorf := report(glacier.Error, "task", task.Name)
		td := taskDecl{
			Task:             task,
			RoleLogical:      roleRule.Name(d.Prefix, task.Name),
			Policy:           taskPolicy(task.Task, d.Pipeline, task.Retire),
			Arch:             t.opts.Arch,
			LogRetentionDays: t.opts.Defaults.LogRetentionDays,
		}
		if a, ok := task.Hints[hintArchitecture]; ok {
			td.Arch = Arch(a)
			if !validArch(td.Arch) {
				errorf("aws_architecture %q is not a Lambda architecture; use arm64 or x86_64", a)
			}
		}
		if s, ok := task.Hints[hintLogRetentionDays]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || !slices.Contains(logRetentionDays, n) {
				errorf("aws_log_retention_days %q is not a retention CloudWatch Logs accepts; use one of %s (0 keeps logs forever)",
					s, joinInts(logRetentionDays))
			}
			td.LogRetentionDays = n
		}
		checkFunction(td, errorf)
		checkMap(td, report(glacier.Warning, "task", task.Name))
		dep.Tasks = append(dep.Tasks, td)
	}
	for _, td := range dep.Tasks {
		if td.Map == "" {
			continue
		}
		// Nothing reads a map's results (the commit reads what the parts
		// staged), so they are kept as long as the task's logs, for the
		// same reason: to see what a run did.
		i := slices.IndexFunc(dep.Datasets, func(dd datasetDecl) bool { return dd.Name == td.Writes[0] })
		dep.Datasets[i].MapResults = mapResultsPrefix(td.Writes[0]) + "/"
		dep.Datasets[i].MapResultsDays = td.LogRetentionDays
	}
	dep.DefinitionBuckets = mapped(dep.Tasks)
	dep.StateMachinePolicy = stateMachinePolicy(dep.Tasks)
	return dep
}

// resolve fills in the defaults of AWS's own options; compile.Run
// resolves the shared ones.
func (o Options) resolve() Options {
	if o.Arch == "" {
		o.Arch = ArchARM64
	}
	if o.Defaults.LogRetentionDays == 0 {
		o.Defaults.LogRetentionDays = DefaultLogRetentionDays
	}
	return o
}
