package gcp

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Naming rules of the GCP resources the compiler names, besides
// plan.GCSBucket and plan.CloudFunction.
var (
	// serviceAccountRule: an account ID has 6 to 30 lowercase letters,
	// digits and hyphens, starting with a letter.
	serviceAccountRule = plan.Rule{Kind: "service account", MaxLen: 30, Lower: true, Extra: "-", Sep: '-'}
	// workflowRule: letters, digits, hyphens and underscores, at most 64.
	workflowRule = plan.Rule{Kind: "workflow", MaxLen: 64, Extra: "-_", Sep: '-'}
	// roleRule: a custom role ID has 3 to 64 letters, digits, '_' and '.'.
	roleRule = plan.Rule{Kind: "custom role", MaxLen: 64, Extra: "_.", Sep: '_'}
	// bucketLogical is what a bucket is auto-named from: Pulumi appends a
	// hyphen and seven characters.
	bucketLogical = plan.GCSBucket.Reserve(plan.PulumiAutoNameSuffix)
)

// minAccountID is the shortest service account ID Google Cloud accepts.
const minAccountID = 6

// deployment is everything the compiler decided: what the written files
// say, in the pipeline's declaration order.
type deployment struct {
	Pipeline string
	Prefix   string
	Region   string
	// Project is written into Pulumi.yaml when set.
	Project string
	// Labels are the user's labels, sorted by key.
	Labels   []label
	Datasets []datasetDecl
	Tasks    []taskDecl
	Waves    [][]string
	// Workflow is the workflow's name; WorkflowAccount the ID of the
	// service account it runs as.
	Workflow        string
	WorkflowAccount string
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

type label struct{ Key, Value string }

// datasetDecl is one dataset's bucket.
type datasetDecl struct {
	plan.Dataset
	// Var is the Go variable holding it in main.go.
	Var string
	// Logical is the Pulumi name of its bucket, which the bucket is
	// auto-named from.
	Logical string
	Bucket  bucketPlan
}

// taskDecl is one task's function and service account.
type taskDecl struct {
	plan.Task
	// Var is the Go variable holding it in main.go.
	Var          string
	FunctionName string
	// Account is the ID of the task's service account.
	Account string
	// MemoryMiB caps the task's sandbox: the task's own memory, as
	// glacier run gives it. FunctionMemoryMiB is the function's, which
	// adds the runtime's reserve (see plan.HostReserveMiB) and rounds up
	// to a Cloud Functions tier; CPU is that tier's.
	MemoryMiB         int
	FunctionMemoryMiB int
	CPU               string
	TimeoutSecs       int
	// CallTimeoutSecs is how long the workflow waits for the function.
	CallTimeoutSecs int
	// Step is the task's identifier in the workflow's step names.
	Step string
	// Bundle is the bundle's path under Out, slash-separated.
	Bundle string
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

// design checks pl and opts against what Google Cloud accepts and decides
// every name and setting. It returns every problem at once.
func design(pl *plan.Flow, opts Options) (*deployment, glacier.Problems) {
	var probs glacier.Problems
	report := plan.Reporter(&probs)
	checkOptions(opts, report)
	probs = append(probs, pl.Check("GCP", "Cloud Functions")...)

	dep := &deployment{
		Pipeline: pl.Name,
		Prefix:   opts.Prefix,
		Region:   opts.Region,
		Project:  opts.Project,
		Waves:    pl.Waves,
		Runtime:  opts.Runtime,
		Workflow: workflowRule.Name(opts.Prefix, pl.Name),
		// Role IDs take no hyphens; the prefix's become underscores.
		WriterRole: roleRule.Name("", "glacier_"+strings.ReplaceAll(opts.Prefix, "-", "_")+"_objectReplacer"),
	}
	if opts.Prefix == plan.DefaultPrefix(pl.Name) {
		dep.Workflow = workflowRule.Name("", pl.Name)
	}
	for k, v := range opts.Labels {
		dep.Labels = append(dep.Labels, label{k, v})
	}
	sort.Slice(dep.Labels, func(i, j int) bool { return dep.Labels[i].Key < dep.Labels[j].Key })

	vars := pulumiproject.NewIdents(programNames...)
	buckets := names{}
	for _, d := range pl.Datasets {
		if _, ok := d.Object(); !ok {
			continue // refused by Check
		}
		errorf, warnf := report(glacier.Error, "dataset", d.Name), report(glacier.Warning, "dataset", d.Name)
		for _, w := range plan.UnknownHints(d.Storage.ProviderHints(), "GCP", "gcp_", "dataset", datasetHints) {
			warnf("%s", w)
		}
		dd := datasetDecl{
			Dataset: d,
			Var:     vars.Add(pulumiproject.Camel(d.Name), "Dataset"),
			Logical: buckets.add(bucketLogical.Name(opts.Prefix, d.Name)),
			Bucket:  planBucket(d, errorf, warnf),
		}
		if msg := d.CheckSource(opts.Dir); msg != "" {
			errorf("%s", msg)
		}
		dep.Datasets = append(dep.Datasets, dd)
	}
	dep.Bundles = buckets.unique(bucketLogical, opts.Prefix, "bundles")

	functions := map[string]string{} // function name -> task
	accounts := names{}
	steps := names{}
	for _, t := range pl.Tasks {
		sl, ok := t.Compute.(glacier.Serverless)
		if !ok {
			continue // refused by Check
		}
		errorf, warnf := report(glacier.Error, "task", t.Name), report(glacier.Warning, "task", t.Name)
		for _, w := range plan.UnknownHints(sl.Hints, "GCP", "gcp_", "task", nil) {
			warnf("%s", w)
		}
		td := taskDecl{
			Task:         t,
			Var:          vars.Add(pulumiproject.Camel(t.Name)+"Task", ""),
			FunctionName: plan.CloudFunction.Name(opts.Prefix, t.Name),
			Account:      accounts.unique(serviceAccountRule, opts.Prefix, accountBase(opts.Prefix, t.Name)),
			MemoryMiB:    t.Limits.MemoryMiB,
			TimeoutSecs:  t.Limits.TimeoutSecs,
			Step:         steps.step(t.Name),
			Bundle:       "bundles/" + t.Name + ".zip",
		}
		td.CallTimeoutSecs = min(td.TimeoutSecs+callMargin, MaxCallTimeoutSecs)
		if other, dup := functions[td.FunctionName]; dup {
			errorf("would share the function name %q with task %q (Cloud Functions names fold '_' to '-'); rename one of them",
				td.FunctionName, other)
		}
		functions[td.FunctionName] = t.Name
		if mem, err := t.FunctionMemory(functionMemory); err != nil {
			errorf("%v", err)
		} else {
			td.FunctionMemoryMiB = mem
			td.CPU, _ = CPUFor(mem)
		}
		switch {
		case td.TimeoutSecs > MaxFunctionTimeoutSecs:
			errorf("timeout is %d s; a Cloud Functions (2nd gen) HTTP function runs at most %d s (60 minutes), "+
				"and the workflow waits at most %d s for it, so set compute timeout to %d or less or split the task",
				td.TimeoutSecs, MaxFunctionTimeoutSecs, MaxCallTimeoutSecs, MaxCallTimeoutSecs)
		case td.TimeoutSecs > MaxCallTimeoutSecs:
			errorf("timeout is %d s; Cloud Functions would run it, but a Workflows HTTP call waits at most %d s (30 minutes) "+
				"for the function's answer, so set compute timeout to %d or less or split the task",
				td.TimeoutSecs, MaxCallTimeoutSecs, MaxCallTimeoutSecs)
		case td.TimeoutSecs < 1:
			errorf("timeout is %d s; set a positive compute timeout", td.TimeoutSecs)
		}
		dep.Tasks = append(dep.Tasks, td)
	}
	dep.WorkflowAccount = accounts.unique(serviceAccountRule, opts.Prefix, "workflow")
	dep.BuildAccount = accounts.unique(serviceAccountRule, opts.Prefix, "build")
	return dep, probs
}

// accountBase is what a task's service account ID is made from: the task's
// name, made long enough for the shortest ID Google Cloud accepts.
func accountBase(prefix, task string) string {
	if len(serviceAccountRule.Name(prefix, task)) < minAccountID {
		return task + "-task"
	}
	return task
}

// names hands out distinct resource names.
type names map[string]bool

// add records name; a name already given gets a numbered suffix.
func (n names) add(name string) string {
	out := name
	for i := 2; n[out]; i++ {
		out = fmt.Sprintf("%s-%d", name, i)
	}
	n[out] = true
	return out
}

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

// unique names a resource of the compiler's own (the bundles bucket, the
// workflow's account) under rule, so that it can never take the name of a
// dataset's or task's resource, whatever the pipeline calls them.
func (n names) unique(rule plan.Rule, prefix, base string) string {
	name := rule.Name(prefix, base)
	for i := 2; n[name]; i++ {
		name = rule.Name(prefix, fmt.Sprintf("%s-%d", base, i))
	}
	n[name] = true
	return name
}

// programNames are the names main.go uses for its imports, functions and
// types, which no dataset's or task's variable may take.
var programNames = []string{
	"cloudfunctionsv2", "cloudrunv2", "projects", "serviceaccount", "storage", "workflows", "pulumi", "json",
	"errors", "fmt", "strings", "ctx", "err", "main", "program", "definition", "urlsLine", "region", "labels",
	"labelled", "dataset", "datasetArgs", "newDataset", "uploadSource", "shared", "newShared", "taskArgs", "task",
	"newTask", "newWorkflow", "withURLs", "workflow",
}
