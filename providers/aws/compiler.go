// Package aws compiles a Glacier pipeline for Amazon Web Services: each
// serverless task becomes an AWS Lambda function running the very
// WebAssembly module that glacier run executes, each object dataset an S3
// bucket, and the pipeline an AWS Step Functions state machine, all declared
// by a Pulumi Go program written next to the artifacts.
//
//	c := aws.New(aws.Options{Dir: m.Dir, Out: "infra", Prefix: "prod"})
//	out, err := m.Pipeline.Compile(ctx, c)
//
// It is one target of the compile pipeline package gcp shares: options,
// the shared checks, packing and the project are handled alike.
//
// # What is refused
//
// Only object datasets and serverless tasks are deployed. Database, cache
// and queue datasets, and local or container tasks, are refused naming the
// culprit, as are settings Lambda or S3 would reject: a task whose memory
// and the runtime's reserve beside it (plan.HostReserveMiB) exceed
// MaxMemoryMiB, timeouts over MaxTimeoutSecs, unknown architectures or
// storage classes, two datasets whose buckets would share a name. Every
// problem is reported at once. aws_* hints the compiler does not know
// become warnings.
//
// # Memory
//
// A task's memory caps its sandbox, here as under glacier run. Its
// function gets that plus plan.HostReserveMiB for the runtime around the
// sandbox (wazero, the Go runtime, the S3 client), so a task near its cap
// fails with a clear memory-limit error instead of Lambda killing the
// function. Lambda's "MB" are MiB.
//
// # Map tasks
//
// A task that maps over a partitioned dataset becomes a Step Functions
// Distributed Map, reading the dataset's part list from S3 and invoking
// the function per batch of map_batch keys, then a state that commits
// the parts. The definition names the buckets it reads and writes by
// placeholder (${bucket:<dataset>}), which the program replaces with the
// names Pulumi gives them.
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
	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
)

// Target is the name of this compiler's target in a glacier.Compilation.
const Target = "aws"

// Arch is an instruction set Lambda runs functions on.
type Arch string

// Architectures Lambda runs: the values of Options.Arch and of the
// aws_architecture hint. They are lambdazip's, which builds the bootstrap
// for each.
const (
	ArchARM64  Arch = lambdazip.ArchARM64
	ArchX86_64 Arch = lambdazip.ArchX86_64
)

// PulumiAWSSDKVersion is the version of the Pulumi AWS provider SDK the
// written program requires, beside Pulumi's Go SDK. The embedded go.mod
// and go.sum list both and every module they need; a test builds a
// written project to prove go.sum complete, and
// `GLACIER_PULUMI_TESTS=1 go test ./providers/aws -run TestProject -update`
// rewrites them after a change here.
const PulumiAWSSDKVersion = "v6.83.4"

// DefaultRegion is the region written into Pulumi.yaml when
// Options.Region is empty.
const DefaultRegion = "us-east-1"

// DefaultLogRetentionDays is how long function logs are kept when neither
// Options.Defaults nor the task says.
const DefaultLogRetentionDays = 30

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
	// the pipeline's name with '_' replaced by '-', on every target.
	Prefix string
	// Tags are put on every resource that takes tags, next to the
	// glacier:pipeline, glacier:dataset and glacier:task tags.
	Tags map[string]string
	// Arch is the functions' architecture: ArchARM64 (the default) or
	// ArchX86_64.
	Arch Arch
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

// ServerlessDefaults fill in the memory (MemoryMiB) and timeout
// (TimeoutSecs) of serverless tasks that set none, as on every target.
type ServerlessDefaults = compile.ServerlessDefaults

// New returns the compiler for AWS. Options are checked by Compile,
// together with the pipeline, so every problem is reported at once.
//
// Its Compile checks p against AWS's limits, builds the tasks' modules
// unless Options.Modules holds them, packages one zip per task and writes
// the Pulumi project under Options.Out:
//
//	Pulumi.yaml, go.mod, go.sum           the project
//	main.go, and the program's other .go  the program that deploys it all
//	statemachine.asl.json                 the Step Functions definition
//	artifacts/<task>.zip                  what each Lambda function runs
//	sources/<dataset>/<file>              source datasets, uploaded on deploy
//	README.md                             how to deploy and run it
//
// The same pipeline, modules and options give the same bytes. If the
// pipeline cannot be deployed, the error wraps a *glacier.ValidationError
// listing every problem.
func New(opts Options) glacier.Compiler {
	return compile.New(target{opts: opts.resolve(), pack: packLambda}, opts.common())
}

// common are the options every target shares.
func (o Options) common() compile.Options {
	return compile.Options{Dir: o.Dir, Out: o.Out, Region: o.Region, Prefix: o.Prefix, Tags: o.Tags,
		Serverless: o.Defaults.Serverless, Modules: o.Modules, CacheDir: o.CacheDir}
}
