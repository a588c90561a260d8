// Package aws compiles a Glacier pipeline for Amazon Web Services: each
// serverless task becomes an AWS Lambda function running the very
// WebAssembly module that glacier run executes, each object dataset an S3
// bucket, and the pipeline an AWS Step Functions state machine, all declared
// by a Pulumi Go program written next to the artifacts.
//
//	c := aws.New(aws.Options{Dir: m.Dir, Out: "infra", Prefix: "prod"})
//	out, err := m.Pipeline.Compile(ctx, c)
//
// # What is refused
//
// Only object datasets and serverless tasks are deployed. Database, cache
// and queue datasets, and local or container tasks, are refused naming the
// culprit, as are settings Lambda or S3 would reject: a task whose memory
// and the runtime's reserve beside it (plan.HostReserveMiB) exceed
// Lambda's 10240 MB, timeouts over 900 s, unknown architectures or storage
// classes. Every problem is reported at once. aws_* hints the compiler does
// not know become warnings.
//
// # Memory
//
// A task's memory caps its sandbox, here as under glacier run. Its
// function gets that plus plan.HostReserveMiB for the runtime around the
// sandbox (wazero, the Go runtime, the S3 client), so a task near its cap
// fails with a clear memory-limit error instead of Lambda killing the
// function.
//
// # Provider hints
//
//	aws_storage_class       dataset: the S3 storage class (see StorageClasses)
//	aws_architecture        task: arm64 or x86_64, overriding Options.Arch
//	aws_log_retention_days  task: how long the function's logs are kept
//
// docs/aws.md describes the whole mapping and how IAM is derived.
package aws

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Target is the name of this compiler's target in a glacier.Compilation.
const Target = "aws"

// Architectures Lambda runs: the value of Options.Arch and of the
// aws_architecture hint.
const (
	ArchARM64  = "arm64"
	ArchX86_64 = "x86_64"
)

// DefaultRegion is the region written into Pulumi.yaml when
// Options.Region is empty.
const DefaultRegion = "us-east-1"

// DefaultLogRetentionDays is how long function logs are kept when neither
// Options.Defaults nor the task says.
const DefaultLogRetentionDays = 30

// Lambda's limits, checked at compile time.
const (
	// MinMemoryMB and MaxMemoryMB bound a function's memory (Lambda's MB
	// are MiB); a task may have at most MaxMemoryMB less
	// plan.HostReserveMiB.
	MinMemoryMB    = 128
	MaxMemoryMB    = 10240
	MaxTimeoutSecs = 900
	// MaxZipBytes is the largest zip Lambda accepts uploaded directly, as
	// the Pulumi program does.
	MaxZipBytes = 50 << 20
	// MaxUnzippedBytes is the largest a function's unzipped code may be.
	MaxUnzippedBytes = 250 << 20
	// MaxEnvBytes bounds a function's environment variables, keys and
	// values together.
	MaxEnvBytes = 4 << 10
)

// lambdaMemory are the memory sizes of a Lambda function: every MB from
// MinMemoryMB to MaxMemoryMB.
var lambdaMemory = plan.Sizes{Platform: "AWS Lambda", Min: MinMemoryMB, Max: MaxMemoryMB}

// Options configure a Compiler. Out is required; everything else has a
// default.
type Options struct {
	// Dir is the project directory: the pipeline's build:, module: and
	// source: paths are relative to it. Empty means the current directory.
	Dir string
	// Out is the directory the Pulumi project and the artifacts are written
	// to. It must be empty, missing, or an earlier output of this compiler.
	Out string
	// Region is the AWS region written into Pulumi.yaml; DefaultRegion if
	// empty. A stack's own aws:region setting overrides it.
	Region string
	// Prefix starts every resource name (see plan.PrefixRule); empty means
	// the pipeline's name with '_' replaced by '-'.
	Prefix string
	// Tags are put on every resource that takes tags, next to the
	// glacier:pipeline, glacier:dataset and glacier:task tags.
	Tags map[string]string
	// Arch is the functions' architecture: ArchARM64 (the default) or
	// ArchX86_64.
	Arch string
	// Defaults fill in settings that the pipeline leaves unset.
	Defaults Defaults
	// Modules are the tasks' WebAssembly modules by task name, as
	// build.Modules returns them. Nil means Compile builds them itself.
	Modules map[string]build.Module
	// CacheDir keeps what packaging can reuse between compilations (the
	// bootstrap binaries); empty means .glacier/aws under Dir.
	CacheDir string
}

// Defaults are per-kind settings for what a pipeline leaves unset.
type Defaults struct {
	Serverless ServerlessDefaults
	// LogRetentionDays is how long function logs are kept, in days; zero
	// means DefaultLogRetentionDays. It must be a value CloudWatch Logs
	// accepts (1, 3, 5, 7, 14, 30, 60, 90, ...).
	LogRetentionDays int
}

// ServerlessDefaults fill in serverless compute settings left at zero.
type ServerlessDefaults struct {
	// MemoryMB is the memory of tasks that set none; zero means
	// glacier.DefaultMemory.
	MemoryMB int
	// TimeoutSecs is the timeout of tasks that set none; zero means
	// glacier.DefaultTimeout.
	TimeoutSecs int
}

// Compiler compiles pipelines for AWS. It implements glacier.Compiler.
type Compiler struct {
	opts Options
	// pack produces a task's artifact; tests replace it.
	pack packFunc
}

var _ glacier.Compiler = (*Compiler)(nil)

// New returns a Compiler. Options are checked by Compile, together with
// the pipeline, so every problem is reported at once.
func New(opts Options) *Compiler {
	return &Compiler{opts: opts, pack: packLambda}
}

// Compile implements glacier.Compiler. It checks p against AWS's limits,
// builds the tasks' modules unless Options.Modules holds them, packages
// one zip per task and writes the Pulumi project under Options.Out:
//
//	Pulumi.yaml, main.go, go.mod, go.sum   the program that deploys it all
//	statemachine.asl.json                  the Step Functions definition
//	artifacts/<task>.zip                   what each Lambda function runs
//	sources/<dataset>/<file>               source datasets, uploaded on deploy
//	README.md                              how to deploy and run it
//
// The same pipeline, modules and options give the same bytes. If the
// pipeline cannot be deployed, the error wraps a *glacier.ValidationError
// listing every problem.
func (c *Compiler) Compile(ctx context.Context, p *glacier.Pipeline) (*glacier.Compilation, error) {
	opts := c.opts.resolve(p.Name())
	pl, err := plan.New(p, nil)
	if err != nil {
		return nil, err
	}
	dep, probs := design(pl, opts)
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("cannot compile pipeline %q for AWS: %w", p.Name(), err)
	}
	if err := pulumiproject.CheckDir(opts.Out, marker); err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	mods, err := plan.Modules(ctx, p, opts.Dir, opts.Modules)
	if err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	for i := range dep.Tasks {
		dep.Tasks[i].Module = mods[dep.Tasks[i].Name]
	}
	arts, err := c.artifacts(ctx, dep, opts)
	if err != nil {
		return nil, err
	}
	if err := write(opts, dep, arts); err != nil {
		return nil, err
	}
	var artifacts []glacier.Artifact
	for _, a := range arts {
		artifacts = append(artifacts, a.Artifact)
	}
	return plan.Compilation(Target, opts.Out, artifacts, probs), nil
}

// resolve fills in defaults.
func (o Options) resolve(pipeline string) Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Prefix == "" {
		o.Prefix = strings.ReplaceAll(pipeline, "_", "-")
	}
	if o.Arch == "" {
		o.Arch = ArchARM64
	}
	if o.Defaults.LogRetentionDays == 0 {
		o.Defaults.LogRetentionDays = DefaultLogRetentionDays
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.Dir, ".glacier", "aws")
	}
	return o
}

// marker starts Pulumi.yaml, so a later compilation knows the directory
// is its own to overwrite.
var marker = pulumiproject.Marker(Target)
