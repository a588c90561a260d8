package gcp

import (
	"fmt"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// labelPipeline is the label naming the pipeline on every resource; the
// program adds glacier-dataset and glacier-task where they apply.
const labelPipeline = "glacier-pipeline"

// Naming rules of the GCP resources the compiler names.
var (
	// bucketNaming: Pulumi appends a hyphen and seven characters to a
	// bucket's logical name.
	bucketNaming = compile.Naming{Rule: plan.GCSBucket.Reserve(plan.PulumiAutoNameSuffix),
		What: "bucket name", Why: "Cloud Storage bucket names are at most 63 characters"}
	functionNaming = compile.Naming{Rule: plan.CloudFunction,
		What: "function name", Why: "Cloud Functions names fold '_' to '-'"}
	// serviceAccountRule: an account ID has 6 to 30 lowercase letters,
	// digits and hyphens, starting with a letter.
	serviceAccountRule = plan.Rule{Kind: "service account", MaxLen: 30, Lower: true, Extra: "-", Sep: '-'}
	// workflowRule: letters, digits, hyphens and underscores, at most 64.
	workflowRule = plan.Rule{Kind: "workflow", MaxLen: 64, Extra: "-_", Sep: '-'}
	// roleRule: a custom role ID has 3 to 64 letters, digits, '_' and '.'.
	roleRule = plan.Rule{Kind: "custom role", MaxLen: 64, Extra: "_.", Sep: '_'}
)

// minAccountID is the shortest service account ID Google Cloud accepts.
const minAccountID = 6

// target is Google Cloud as a compile.Target.
type target struct {
	opts Options
	// pack produces a task's source bundle; tests replace it.
	pack packFunc
}

// deployment is everything the compiler decided: what the written files
// say, in the pipeline's declaration order.
type deployment struct {
	*compile.Deployment
	// Project is written into Pulumi.yaml when set.
	Project  string
	Datasets []datasetDecl
	Tasks    []taskDecl
	// Workflow is the workflow's name; WorkflowAccount the ID of the
	// service account it runs as, which may invoke the functions of
	// Invokes; URLVars the environment variables holding the functions'
	// URLs.
	Workflow        string
	WorkflowAccount string
	Invokes         []string
	URLVars         []urlVar
	// BuildAccount is the ID of the service account the functions are
	// built as.
	BuildAccount string
	// Bundles is the logical name of the bucket holding the functions'
	// source bundles; Pulumi names the bucket from it.
	Bundles string
	// WriterRole is the ID of the custom role that lets a task replace
	// its outputs' objects (see docs/gcp.md).
	WriterRole string
	// Runtime is Options.Runtime: empty picks the newest runtime that can
	// build each bundle.
	Runtime string
}

// datasetDecl is one dataset's bucket.
type datasetDecl struct {
	*compile.Dataset
	Bucket bucketPlan
}

// taskDecl is one task's function and service account.
type taskDecl struct {
	*compile.Task
	// Account is the ID of the task's service account, Grants its roles.
	Account string
	Grants  []grant
	// CPU is the vCPU of the function's memory tier.
	CPU string
	// CallTimeoutSecs is how long the workflow waits for the function.
	CallTimeoutSecs int
	// Step is the task's identifier in the workflow's step names.
	Step string
	// Set once the bundle is packed: the object the bundle is uploaded
	// as, named after its content so a new bundle redeploys the function;
	// the runtime that builds it; and the function's entry point.
	BundleObject string
	Runtime      string
	EntryPoint   string
}

// callMargin is how much longer than the task's timeout the workflow waits
// for a function's answer, so the function's own timeout error, and not the
// call's, reports a task that runs too long.
const callMargin = 30

// Design implements compile.Target: it checks what only Google Cloud
// checks and decides every Google Cloud name and setting.
func (t target) Design(d *compile.Deployment, report plan.Report) *deployment {
	t.opts.check(d.Region, report)
	dep := &deployment{
		Deployment: d,
		Project:    t.opts.Project,
		Runtime:    t.opts.Runtime,
		Workflow:   d.OrchestratorName(workflowRule),
		WriterRole: customRole(d.Prefix, "objectReplacer"),
	}
	buckets := names{}
	for _, ds := range d.Datasets {
		errorf, warnf := report(glacier.Error, "dataset", ds.Name), report(glacier.Warning, "dataset", ds.Name)
		buckets[ds.Logical] = true
		dep.Datasets = append(dep.Datasets, datasetDecl{Dataset: ds, Bucket: planBucket(ds.Dataset, d.BucketRetentionDays(ds), errorf, warnf)})
	}
	dep.Bundles = buckets.unique(bucketNaming.Rule, d.Prefix, "bundles")

	accounts, steps := names{}, names{}
	for _, task := range d.Tasks {
		td := taskDecl{
			Task:            task,
			Account:         accounts.unique(serviceAccountRule, d.Prefix, accountBase(d.Prefix, task.Name)),
			Grants:          taskGrants(task.Task, d.Pipeline, dep.WriterRole, task.Retire),
			CallTimeoutSecs: min(task.Limits.TimeoutSecs+callMargin, MaxCallTimeoutSecs),
			Step:            steps.step(task.Name),
		}
		td.CPU, _ = CPUFor(task.FunctionMemoryMiB)
		checkFunction(td, report(glacier.Error, "task", task.Name))
		checkMap(td, report(glacier.Warning, "task", task.Name))
		dep.Tasks = append(dep.Tasks, td)
	}
	dep.WorkflowAccount = accounts.unique(serviceAccountRule, d.Prefix, "workflow")
	dep.BuildAccount = accounts.unique(serviceAccountRule, d.Prefix, "build")
	dep.Invokes = workflowInvokes(d.Tasks)
	dep.URLVars = urlVars(dep.Tasks)
	if len(dep.URLVars) > maxEnvVars {
		report(glacier.Error, "pipeline", "")("has %d tasks, whose functions' URLs take %d of the workflow's environment variables, "+
			"and Workflows allows %d; split the pipeline", len(dep.Tasks), len(dep.URLVars), maxEnvVars)
	}
	return dep
}

// customRole is the ID of the program's custom role base: role IDs take
// no hyphens, so the prefix's become underscores.
func customRole(prefix, base string) string {
	return roleRule.Name("", "glacier_"+strings.ReplaceAll(prefix, "-", "_")+"_"+base)
}

// accountBase is what a task's service account ID is made from: the task's
// name, made long enough for the shortest ID Google Cloud accepts.
func accountBase(prefix, task string) string {
	if len(serviceAccountRule.Name(prefix, task)) < minAccountID {
		return task + "-task"
	}
	return task
}

// names hands out distinct names of the compiler's own: a service account
// or step identifier holds no data, so one that would clash is numbered.
type names map[string]bool

// step returns a workflow step identifier for a task: its name with '-'
// as '_', numbered if another task took it.
func (n names) step(task string) string {
	base := strings.ReplaceAll(task, "-", "_")
	out := base
	for i := 2; n[out]; i++ {
		out = fmt.Sprintf("%s_%d", base, i)
	}
	n[out] = true
	return out
}

// unique names a resource under rule so that it never takes a name given
// before, whatever the pipeline calls its datasets and tasks.
func (n names) unique(rule plan.Rule, prefix, base string) string {
	name := rule.Name(prefix, base)
	for i := 2; n[name]; i++ {
		name = rule.Name(prefix, fmt.Sprintf("%s-%d", base, i))
	}
	n[name] = true
	return name
}
