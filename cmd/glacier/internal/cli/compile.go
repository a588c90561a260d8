package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/aws"
	"github.com/glacier-pipeline/glacier/providers/gcp"
	"github.com/spf13/cobra"
)

// CompileOptions are the flags of glacier compile.
type CompileOptions struct {
	Target  string
	Out     string
	Region  string
	Prefix  string
	Arch    string // aws
	Project string // gcp
}

func newCompileCmd(g *Globals) *cobra.Command {
	var opts CompileOptions
	cmd := &cobra.Command{
		Use:   "compile --target aws|gcp",
		Short: "Package every task for a cloud and write the Pulumi program that deploys it",
		Long: `Compile packages the very WebAssembly modules that glacier run executes (same
sha256) into per-task cloud artifacts, and writes a Pulumi Go program that
deploys them with storage, least-privilege IAM derived from which task reads
and writes which dataset, and orchestration of the DAG:

  aws  a Lambda zip per task (a generic Go bootstrap hosting the sandbox, the
       task's .wasm), S3 buckets, IAM roles, CloudWatch log groups and a Step
       Functions state machine (also written as statemachine.asl.json)
  gcp  a Cloud Functions source bundle per task, Cloud Storage buckets,
       service accounts with bucket IAM, and a Workflows workflow

Cloud limits (memory, timeouts, storage classes, regions) are checked first,
every problem at once, naming the task or dataset. The output directory gets
a README.md with the deploy steps.

  glacier compile --target aws --prefix prod --out infra/aws
  glacier compile --target gcp --project my-project --out infra/gcp`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runCompile(cmd, g, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Target, "target", "", "the cloud: `aws` or gcp (required)")
	f.StringVar(&opts.Out, "out", "", "write the project to `DIR` (default deploy/TARGET beside the manifest)")
	f.StringVar(&opts.Region, "region", "", "the region (default us-east-1 on aws, us-central1 on gcp)")
	f.StringVar(&opts.Prefix, "prefix", "", "start every resource name with `PREFIX` (default the pipeline's name)")
	f.StringVar(&opts.Arch, "arch", string(aws.ArchARM64), "aws: the functions' architecture, `arm64` or x86_64")
	f.StringVar(&opts.Project, "project", "", "gcp: the Google Cloud `PROJECT` id (default: set it on the stack)")
	return cmd
}

func runCompile(cmd *cobra.Command, g *Globals, opts CompileOptions) error {
	switch opts.Target {
	case "aws", "gcp":
	case "":
		return flagErrorf("compile needs --target aws or --target gcp")
	default:
		return flagErrorf("unknown --target %q; use aws or gcp", opts.Target)
	}
	if opts.Target == "gcp" && cmd.Flags().Changed("arch") {
		return flagErrorf("--arch applies to --target aws only")
	}
	if opts.Target == "aws" && opts.Project != "" {
		return flagErrorf("--project applies to --target gcp only")
	}
	ctx := cmd.Context()
	m, err := g.LoadManifest(ctx)
	if err != nil {
		return err
	}
	mods, err := g.buildModules(ctx, m, g.IO.ErrOut, false)
	if err != nil {
		return err
	}
	byTask := map[string]build.Module{}
	for _, mod := range mods {
		byTask[mod.Task] = mod
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(m.Dir, "deploy", opts.Target)
	} else if !filepath.IsAbs(out) {
		out = filepath.Join(g.Dir, out)
	}
	var c glacier.Compiler
	switch opts.Target {
	case "aws":
		c = aws.New(aws.Options{Dir: m.Dir, Out: out, Region: opts.Region, Prefix: opts.Prefix, Arch: aws.Arch(opts.Arch), Modules: byTask})
	case "gcp":
		c = gcp.New(gcp.Options{Dir: m.Dir, Out: out, Region: opts.Region, Prefix: opts.Prefix, Project: opts.Project, Modules: byTask})
	}
	res, err := m.Pipeline.Compile(ctx, c)
	if res != nil {
		for _, w := range res.Warnings {
			fmt.Fprintf(g.IO.ErrOut, "warning: %s\n", w)
		}
	}
	if err != nil {
		return err
	}
	rows := [][]string{{"TASK", "ARTIFACT", "SIZE", "WASM SHA256"}}
	for _, a := range res.Artifacts {
		rows = append(rows, []string{a.Task, a.Path, humanBytes(a.Size), a.ModuleSHA256})
	}
	fmt.Fprint(g.IO.Out, table(rows))
	rel := res.Dir
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, res.Dir); err == nil && !strings.HasPrefix(r, "..") {
			rel = r
		}
	}
	fmt.Fprintf(g.IO.Out, "\nwrote the %s project to %s; deploy it as its README.md says (cd %s && pulumi up)\n", opts.Target, rel, rel)
	return nil
}
