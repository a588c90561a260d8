package aws

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
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

// logRetentionDays are the retention periods CloudWatch Logs accepts; 0
// keeps logs forever.
var logRetentionDays = []int{0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// tagPipeline is the tag naming the pipeline on every resource; main.go
// adds glacier:dataset and glacier:task where they apply.
const tagPipeline = "glacier:pipeline"

// deployment is everything the compiler decided: what the written files
// say, in the pipeline's declaration order.
type deployment struct {
	Pipeline string
	Prefix   string
	Region   string
	// Tags are the user's tags, sorted by key.
	Tags     []tag
	Datasets []datasetDecl
	Tasks    []taskDecl
	Waves    [][]string
	// StateMachine is the state machine's name; StateMachineRole the
	// logical name its role is auto-named from.
	StateMachine     string
	StateMachineRole string
	// LogRetentionDays is how long the state machine's execution logs
	// are kept: as long as the functions' by default.
	LogRetentionDays int
}

type tag struct{ Key, Value string }

// datasetDecl is one dataset's bucket.
type datasetDecl struct {
	plan.Dataset
	// Var is the Go variable holding it in main.go.
	Var string
	// Logical is the Pulumi name of its resources; the bucket is
	// auto-named from it.
	Logical string
	Bucket  bucketPlan
}

// taskDecl is one task's function, role and log group.
type taskDecl struct {
	plan.Task
	Var          string
	FunctionName string
	// RoleLogical is the Pulumi name the task's role is auto-named from.
	RoleLogical string
	Arch        string
	// MemoryMiB caps the task's sandbox: the task's own memory, as
	// glacier run gives it. FunctionMemoryMB is the function's, which
	// adds the runtime's reserve (see plan.HostReserveMiB).
	MemoryMiB        int
	FunctionMemoryMB int
	TimeoutSecs      int
	LogRetentionDays int
	// Artifact is the zip's path under Out, slash-separated.
	Artifact string
}

// design checks pl and opts against what AWS accepts and decides every
// name and setting. It returns every problem at once.
func design(pl *plan.Flow, opts Options) (*deployment, glacier.Problems) {
	var probs glacier.Problems
	report := plan.Reporter(&probs)
	checkOptions(opts, report)
	probs = append(probs, pl.Check("AWS", "AWS Lambda")...)

	dep := &deployment{
		Pipeline:         pl.Name,
		Prefix:           opts.Prefix,
		Region:           opts.Region,
		Waves:            pl.Waves,
		StateMachine:     plan.StateMachine.Name(opts.Prefix, pl.Name),
		StateMachineRole: plan.IAMRole.Reserve(plan.PulumiAutoNameSuffix).Name(opts.Prefix, "StateMachine"),
		LogRetentionDays: opts.Defaults.LogRetentionDays,
	}
	if opts.Prefix == plan.DefaultPrefix(pl.Name) {
		dep.StateMachine = plan.StateMachine.Name("", pl.Name)
	}
	for k, v := range opts.Tags {
		dep.Tags = append(dep.Tags, tag{k, v})
	}
	sort.Slice(dep.Tags, func(i, j int) bool { return dep.Tags[i].Key < dep.Tags[j].Key })

	vars := pulumiproject.NewIdents(programNames...)
	buckets := map[string]string{} // logical name -> dataset
	for _, d := range pl.Datasets {
		if _, ok := d.Object(); !ok {
			continue // refused by Check
		}
		errorf, warnf := report(glacier.Error, "dataset", d.Name), report(glacier.Warning, "dataset", d.Name)
		for _, w := range plan.UnknownHints(d.Storage.ProviderHints(), "AWS", "aws_", "dataset", datasetHints) {
			warnf("%s", w)
		}
		dd := datasetDecl{
			Dataset: d,
			Var:     vars.Add(pulumiproject.Camel(d.Name), "Dataset"),
			Logical: plan.S3Bucket.Reserve(plan.PulumiAutoNameSuffix).Name(opts.Prefix, d.Name),
			Bucket:  planBucket(d, errorf, warnf),
		}
		if other, dup := buckets[dd.Logical]; dup {
			errorf("would share the bucket name %q with dataset %q (S3 names fold '_' to '-'); rename one of them", dd.Logical, other)
		}
		buckets[dd.Logical] = d.Name
		if msg := d.CheckSource(opts.Dir); msg != "" {
			errorf("%s", msg)
		}
		dep.Datasets = append(dep.Datasets, dd)
	}
	for _, t := range pl.Tasks {
		sl, ok := t.Compute.(glacier.Serverless)
		if !ok {
			continue // refused by Check
		}
		errorf, warnf := report(glacier.Error, "task", t.Name), report(glacier.Warning, "task", t.Name)
		for _, w := range plan.UnknownHints(sl.Hints, "AWS", "aws_", "task", taskHints) {
			warnf("%s", w)
		}
		td := taskDecl{
			Task:             t,
			Var:              vars.Add(pulumiproject.Camel(t.Name)+"Function", ""),
			FunctionName:     plan.LambdaFunction.Name(opts.Prefix, t.Name),
			RoleLogical:      plan.IAMRole.Reserve(plan.PulumiAutoNameSuffix).Name(opts.Prefix, t.Name),
			Arch:             opts.Arch,
			MemoryMiB:        firstSet(sl.Memory, opts.Defaults.Serverless.MemoryMB, glacier.DefaultMemory),
			TimeoutSecs:      firstSet(sl.Timeout, opts.Defaults.Serverless.TimeoutSecs, glacier.DefaultTimeout),
			LogRetentionDays: opts.Defaults.LogRetentionDays,
			Artifact:         "artifacts/" + t.Name + ".zip",
		}
		td.Limits = glacier.Limits{MemoryMiB: td.MemoryMiB, TimeoutSecs: td.TimeoutSecs, Compile: t.Limits.Compile}
		if a, ok := sl.Hints[hintArchitecture]; ok {
			td.Arch = a
			if !validArch(a) {
				errorf("aws_architecture %q is not a Lambda architecture; use arm64 or x86_64", a)
			}
		}
		if s, ok := sl.Hints[hintLogRetentionDays]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || !slices.Contains(logRetentionDays, n) {
				errorf("aws_log_retention_days %q is not a retention CloudWatch Logs accepts; use one of %s (0 keeps logs forever)",
					s, joinInts(logRetentionDays))
			}
			td.LogRetentionDays = n
		}
		mem, err := td.FunctionMemory(lambdaMemory)
		if err != nil {
			errorf("%v", err)
		}
		td.FunctionMemoryMB = mem
		if td.TimeoutSecs > MaxTimeoutSecs {
			errorf("timeout is %d s; an AWS Lambda function runs at most %d s (15 minutes), so lower compute timeout or split the task",
				td.TimeoutSecs, MaxTimeoutSecs)
		}
		if n := envSize(t.Touches()); n > MaxEnvBytes {
			errorf("touches %d datasets, and naming their objects in GLACIER_DATASETS may take %d bytes, over Lambda's %d-byte "+
				"environment limit; split the task", len(t.Touches()), n, MaxEnvBytes)
		}
		dep.Tasks = append(dep.Tasks, td)
	}
	return dep, probs
}

// checkOptions reports invalid options as problems of kind "option".
func checkOptions(o Options, report plan.Report) {
	if err := plan.CheckPrefix(o.Prefix); err != nil {
		report(glacier.Error, "option", "prefix")("%v; the default is the pipeline's name, so set one (glacier compile --prefix)", err)
	}
	if !regionRE.MatchString(o.Region) {
		report(glacier.Error, "option", "region")("%q is not an AWS region name such as us-east-1 or eu-west-3", o.Region)
	}
	if !validArch(o.Arch) {
		report(glacier.Error, "option", "arch")("%q is not a Lambda architecture; use arm64 or x86_64", o.Arch)
	}
	if d := o.Defaults.Serverless; d.MemoryMB < 0 {
		report(glacier.Error, "option", "defaults")("serverless memory %d MiB is negative; leave it 0 for glacier's default", d.MemoryMB)
	} else if d.MemoryMB != 0 {
		if _, err := lambdaMemory.Function(d.MemoryMB); err != nil {
			report(glacier.Error, "option", "defaults")("serverless %v", err)
		}
	}
	if d := o.Defaults.Serverless; d.TimeoutSecs < 0 || d.TimeoutSecs > MaxTimeoutSecs {
		report(glacier.Error, "option", "defaults")("serverless timeout %d s is outside AWS Lambda's 1 to %d s", d.TimeoutSecs, MaxTimeoutSecs)
	}
	if !slices.Contains(logRetentionDays, o.Defaults.LogRetentionDays) {
		report(glacier.Error, "option", "defaults")("log retention %d days is not one CloudWatch Logs accepts; use one of %s",
			o.Defaults.LogRetentionDays, joinInts(logRetentionDays[1:]))
	}
	// Each resource carries at most 50 tags; two are the compiler's.
	if len(o.Tags) > 48 {
		report(glacier.Error, "option", "tags")("%d tags; AWS allows 48 besides the two the compiler sets", len(o.Tags))
	}
	keys := make([]string, 0, len(o.Tags))
	for k := range o.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if msg := checkTag(k, o.Tags[k]); msg != "" {
			report(glacier.Error, "option", "tags")("tag %q: %s", k, msg)
		}
	}
}

func checkTag(k, v string) string {
	tagChar := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && !strings.ContainsRune("_.:/=+-@", r)
		}) < 0
	}
	switch {
	case k == "" || len([]rune(k)) > 128:
		return "a key has 1 to 128 characters"
	case len([]rune(v)) > 256:
		return "a value has at most 256 characters"
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return "keys starting with aws: are reserved by AWS"
	case strings.HasPrefix(k, "glacier:"):
		return "keys starting with glacier: are set by the compiler"
	case !tagChar(k) || !tagChar(v):
		return "tags may hold only letters, digits, spaces and _ . : / = + - @"
	}
	return ""
}

func validArch(a string) bool { return a == ArchARM64 || a == ArchX86_64 }

// envSize bounds the size of a function's environment naming datasets,
// with bucket names at their longest.
func envSize(datasets []string) int {
	n := len("GLACIER_DATASETS") + len("{}")
	for i, d := range datasets {
		// "d":"s3://<63>/d"
		n += len(d)*2 + len(`"":"s3:///"`) + plan.S3Bucket.MaxLen
		if i > 0 {
			n++
		}
	}
	return n
}

func firstSet(vals ...int) int {
	for _, v := range vals {
		if v != 0 {
			return v
		}
	}
	return 0
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// programNames are the names main.go uses for its imports, functions and
// types, which no dataset's or task's variable may take.
var programNames = []string{
	"cloudwatch", "iam", "lambda", "s3", "sfn", "pulumi", "json", "ctx", "err", "main", "program", "definition",
	"tags", "tagged", "dataset", "datasetArgs", "newDataset", "uploadSource", "taskArgs", "newTask",
	"newStateMachine", "machine", "policy", "assumeRole",
}
