// Package gcp compiles a Glacier pipeline for Google Cloud: each serverless
// task becomes a Cloud Functions (2nd gen) function that runs the very
// WebAssembly module glacier run executes, each object dataset a Cloud
// Storage bucket, and the pipeline a Workflows workflow, all declared by a
// Pulumi Go program written next to the functions' source bundles.
//
//	c := gcp.New(gcp.Options{Dir: m.Dir, Out: "infra", Project: "my-project"})
//	out, err := m.Pipeline.Compile(ctx, c)
//
// # What is refused
//
// Only object datasets and serverless tasks are deployed. Database, cache
// and queue datasets, and local or container tasks, are refused naming the
// culprit, as are settings Google Cloud would reject or could not honour:
// a task whose memory and the runtime's reserve beside it
// (plan.HostReserveMiB) exceed 32 GiB, timeouts over 1800 s (Cloud Functions
// allows 3600 s, but a Workflows call waits at most 1800 s), regions
// without Cloud Functions (2nd gen), unknown storage classes. Every problem
// is reported at once. gcp_* hints the compiler does not know become
// warnings.
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
	"context"
	"fmt"
	"path/filepath"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Target is the name of this compiler's target in a glacier.Compilation.
const Target = "gcp"

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
	// the pipeline's name with '_' replaced by '-'.
	Prefix string
	// Labels are put on every resource that takes labels, next to the
	// glacier-pipeline and glacier-dataset or glacier-task labels.
	Labels map[string]string
	// Runtime is the functions' Go runtime, one of Runtimes; empty picks
	// the newest that can build the bundles.
	Runtime string
	// Modules are the tasks' WebAssembly modules by task name, as
	// build.Modules returns them. Nil means Compile builds them itself.
	Modules map[string]build.Module
	// CacheDir keeps what packaging can reuse between compilations; empty
	// means .glacier/gcp under Dir.
	CacheDir string
}

// Compiler compiles pipelines for Google Cloud. It implements
// glacier.Compiler.
type Compiler struct {
	opts Options
	// pack produces a task's source bundle; tests replace it.
	pack packFunc
}

var _ glacier.Compiler = (*Compiler)(nil)

// New returns a Compiler. Options are checked by Compile, together with
// the pipeline, so every problem is reported at once.
func New(opts Options) *Compiler {
	return &Compiler{opts: opts, pack: packBundle}
}

// Compile implements glacier.Compiler. It checks p against Google Cloud's
// limits, builds the tasks' modules unless Options.Modules holds them,
// packs one source bundle per task and writes the Pulumi project under
// Options.Out:
//
//	Pulumi.yaml, main.go, go.mod, go.sum   the program that deploys it all
//	workflow.yaml                          the Workflows definition
//	bundles/<task>.zip                     what each function is built from
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
		return nil, fmt.Errorf("cannot compile pipeline %q for GCP: %w", p.Name(), err)
	}
	if err := pulumiproject.CheckDir(opts.Out, marker); err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	mods, err := plan.Modules(ctx, p, opts.Dir, opts.Modules)
	if err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	for i := range dep.Tasks {
		dep.Tasks[i].Module = mods[dep.Tasks[i].Name]
	}
	bundles, err := c.bundles(ctx, dep, opts.CacheDir)
	if err != nil {
		return nil, err
	}
	if err := write(opts, dep, bundles); err != nil {
		return nil, err
	}
	var artifacts []glacier.Artifact
	for _, b := range bundles {
		artifacts = append(artifacts, b.Artifact)
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
		o.Prefix = plan.DefaultPrefix(pipeline)
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.Dir, ".glacier", "gcp")
	}
	return o
}
