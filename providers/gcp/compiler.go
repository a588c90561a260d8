// Package gcp compiles a Glacier pipeline for Google Cloud: each serverless
// task becomes a Cloud Functions (2nd gen) function that runs the very
// WebAssembly module glacier run executes, each object dataset a Cloud
// Storage bucket, and the pipeline a Workflows workflow, all declared by a
// Pulumi Go program written next to the functions' source bundles.
//
//	c := gcp.New(gcp.Options{Dir: m.Dir, Out: "infra", Project: "my-project"})
//	out, err := m.Pipeline.Compile(ctx, c)
//
// It is one target of the compile pipeline package aws shares: options,
// the shared checks, packing and the project are handled alike.
//
// # What is refused
//
// Only object datasets and serverless tasks are deployed. Database, cache
// and queue datasets, and local or container tasks, are refused naming the
// culprit, as are settings Google Cloud would reject or could not honour:
// a task whose memory and the runtime's reserve beside it
// (plan.HostReserveMiB) exceed MaxMemoryMiB, timeouts over
// MaxCallTimeoutSecs (Cloud Functions allows MaxFunctionTimeoutSecs, but a
// Workflows call waits less), regions without Cloud Functions (2nd gen),
// unknown storage classes, two tasks whose functions would share a name.
// Every problem is reported at once. gcp_* hints the compiler does not
// know become warnings.
//
// # Memory
//
// A task's memory caps its sandbox, here as under glacier run. Its
// function gets that plus plan.HostReserveMiB for the runtime around the
// sandbox (wazero, the Go runtime, the Cloud Storage client), rounded up
// to the next of Cloud Functions' memory tiers, with that tier's vCPU, so
// a task near its cap fails with a clear memory-limit error instead of the
// platform killing the function.
//
// # Provider hints
//
//	gcp_storage_class   dataset: the bucket's storage class (see StorageClasses)
//
// docs/gcp.md describes the whole mapping and how IAM is derived.
package gcp

import (
	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
)

// Target is the name of this compiler's target in a glacier.Compilation.
const Target = "gcp"

// PulumiGCPSDKVersion is the version of the Pulumi Google Cloud provider
// SDK the written program requires, beside Pulumi's Go SDK. The embedded
// go.mod and go.sum list both and every module they need; a test builds a
// written project to prove go.sum complete, and
// `GLACIER_PULUMI_TESTS=1 go test ./providers/gcp -run TestProject -update`
// rewrites them after a change here.
const PulumiGCPSDKVersion = "v9.6.0"

// DefaultRegion is the region used when Options.Region is empty.
const DefaultRegion = "us-central1"

// Options configure a Compiler. Out is required; everything else has a
// default.
type Options struct {
	// Dir is the project directory: the pipeline's build:, module: and
	// source: paths are relative to it. Empty means the current directory.
	Dir string
	// Out is the directory the Pulumi project and the bundles are written
	// to. It must be empty, missing, or an earlier output of this compiler.
	Out string
	// Project is the Google Cloud project ID written into Pulumi.yaml as
	// gcp:project. Empty leaves it to the stack: pulumi config set
	// gcp:project.
	Project string
	// Region is where every resource lives: one of Regions. Empty means
	// DefaultRegion.
	Region string
	// Prefix starts every resource name (see plan.PrefixRule); empty means
	// the pipeline's name with '_' replaced by '-', on every target.
	Prefix string
	// Labels are put on every resource that takes labels, next to the
	// glacier-pipeline and glacier-dataset or glacier-task labels.
	Labels map[string]string
	// Runtime is the functions' Go runtime, one of Runtimes; empty picks
	// the newest that can build the bundles.
	Runtime string
	// Defaults fill in settings that the pipeline leaves unset.
	Defaults Defaults
	// Modules are the tasks' WebAssembly modules by task name, as
	// build.Modules returns them. Nil means Compile builds them itself.
	Modules map[string]build.Module
	// CacheDir keeps what packaging can reuse between compilations; empty
	// means .glacier/gcp under Dir.
	CacheDir string
}

// Defaults are per-kind settings for what a pipeline leaves unset.
type Defaults struct {
	Serverless ServerlessDefaults
}

// ServerlessDefaults fill in the memory (MemoryMiB) and timeout
// (TimeoutSecs) of serverless tasks that set none, as on every target.
type ServerlessDefaults = compile.ServerlessDefaults

// New returns the compiler for Google Cloud. Options are checked by
// Compile, together with the pipeline, so every problem is reported at
// once.
//
// Its Compile checks p against Google Cloud's limits, builds the tasks'
// modules unless Options.Modules holds them, packs one source bundle per
// task and writes the Pulumi project under Options.Out:
//
//	Pulumi.yaml, go.mod, go.sum           the project
//	main.go, and the program's other .go  the program that deploys it all
//	workflow.yaml                         the Workflows definition
//	bundles/<task>.zip                    what each function is built from
//	sources/<dataset>/<file>              source datasets, uploaded on deploy
//	README.md                             how to deploy and run it
//
// The same pipeline, modules and options give the same bytes. If the
// pipeline cannot be deployed, the error wraps a *glacier.ValidationError
// listing every problem.
func New(opts Options) glacier.Compiler {
	return compile.New(target{opts: opts, pack: packBundle}, opts.common())
}

// common are the options every target shares: Labels are its tags.
func (o Options) common() compile.Options {
	return compile.Options{Dir: o.Dir, Out: o.Out, Region: o.Region, Prefix: o.Prefix, Tags: o.Labels,
		Serverless: o.Defaults.Serverless, Modules: o.Modules, CacheDir: o.CacheDir}
}
