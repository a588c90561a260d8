// Package compile is the one compile pipeline of the cloud compilers. Run
// resolves the options the same way for every cloud, makes the checks and
// decisions all clouds share (object datasets and serverless tasks only,
// hints, sources, bucket and function names, function memory), builds or
// takes the tasks' modules, packs every task and checks its artifact, and
// writes the Pulumi project. A cloud is a Target that adds only what is
// its own: its limits and naming rules, the decisions no other cloud makes
// (storage classes, IAM, the orchestration definition) and the files of
// its program.
//
// Package compiletest holds the conformance suite every target runs.
package compile

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"slices"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Target is one cloud. D is its deployment: everything it decided, which
// the driver hands back to it and renders its templates with.
type Target[D any] interface {
	// Spec describes the target.
	Spec() *Spec
	// Design checks d's pipeline and the target's own options against
	// what only this target accepts, reporting every problem through
	// report, and decides the rest of the target's deployment.
	Design(d *Deployment, report plan.Report) D
	// Pack returns the artifact of d.Tasks[i], d being the deployment dep
	// was designed from.
	Pack(ctx context.Context, dep D, i int) ([]byte, error)
	// Packed checks task i's artifact against the limits only this target
	// has, reporting through problem, and keeps what packing decided. An
	// error stops the compilation: the packer is broken.
	Packed(dep D, i int, a *Artifact, problem func(format string, args ...any)) error
	// Definition returns the file that defines the orchestration: the
	// state machine, the workflow.
	Definition(dep D) (pulumiproject.File, error)
}

// Spec describes a target to the driver.
type Spec struct {
	// Name is the target's name in a glacier.Compilation ("aws"). It also
	// starts the hints the target reads ("aws_"), names its cache
	// directory (.glacier/aws) and is in its projects' marker.
	Name string
	// Cloud names the cloud in messages ("AWS"), Service its function
	// service ("AWS Lambda").
	Cloud, Service string
	// DefaultRegion is the region when Options.Region is empty.
	DefaultRegion string
	// DatasetHints and TaskHints are the hints the target reads.
	DatasetHints, TaskHints []string
	// Tagging is how the target labels resources.
	Tagging Tagging
	// Memory are the sizes of the target's functions.
	Memory plan.Sizes
	// MaxTimeoutSecs is the longest timeout a task may have there.
	MaxTimeoutSecs int
	// Buckets names a dataset's bucket, as a Pulumi logical name the
	// bucket is auto-named from; Functions names a task's function.
	Buckets, Functions Naming
	// Artifacts is the project's directory of task artifacts
	// ("artifacts"); Artifact names one in messages ("zip").
	Artifacts, Artifact string
	// Read are files of an artifact that Packed looks at (see
	// plan.Task.Inspect).
	Read []string
	// MaxArtifactBytes bounds an artifact, a bound ArtifactLimit names
	// ("Lambda accepts uploaded directly").
	MaxArtifactBytes int64
	ArtifactLimit    string
	// Program holds the written program: templates/go.mod.txt and
	// templates/go.sum.txt, and its static files, program/*.go (see
	// pulumiproject.ProgramFiles).
	Program fs.FS
	// Templates render main.go, Pulumi.yaml and README.md from the
	// target's deployment, which embeds *Deployment.
	Templates *pulumiproject.Templates
	// SDK is the cloud's Pulumi provider SDK the program requires, beside
	// Pulumi's own (pulumiproject.PulumiSDKVersion).
	SDK Module
	// MainNames are the names the rendered main.go declares and imports;
	// with those of the static files, no variable of a dataset or task
	// takes them.
	MainNames []string
}

// Tagging is how a target labels resources: AWS's tags, Google Cloud's
// labels.
type Tagging struct {
	// Word is what one is called in messages ("tag"); the option is its
	// plural.
	Word string
	// Pipeline is the key of the one naming the pipeline.
	Pipeline string
	// Max is how many Options.Tags may hold: what a resource takes, less
	// the two the compiler sets.
	Max int
	// Check returns what is wrong with a key and its value, or "".
	Check func(key, value string) string
}

// Module is a Go module at a version.
type Module struct{ Path, Version string }

// Marker is the first line of the Pulumi.yaml the target writes.
func (s *Spec) Marker() string { return pulumiproject.Marker(s.Name) }

// Requires are the written program's direct requirements, module path to
// version: Pulumi's Go SDK and the cloud's.
func (s *Spec) Requires() map[string]string {
	return map[string]string{pulumiproject.PulumiSDKPath: pulumiproject.PulumiSDKVersion, s.SDK.Path: s.SDK.Version}
}

// Artifact is one task's packed artifact.
type Artifact struct {
	glacier.Artifact
	// Data are its bytes.
	Data []byte
	// Packed is what plan.Task.Inspect read of it.
	Packed plan.Packed
}

// Compiler is a target as a glacier.Compiler.
type Compiler[D any] struct {
	target Target[D]
	opts   Options
}

// New returns the compiler of t with opts, which Compile checks together
// with the pipeline, so every problem is reported at once.
func New[D any](t Target[D], opts Options) *Compiler[D] { return &Compiler[D]{t, opts} }

// Compile implements glacier.Compiler: see Run.
func (c *Compiler[D]) Compile(ctx context.Context, p *glacier.Pipeline) (*glacier.Compilation, error) {
	return Run(ctx, p, c.target, c.opts)
}

// Spec returns the spec of c's target.
func (c *Compiler[D]) Spec() *Spec { return c.target.Spec() }

// Run compiles p for t with opts: see the package documentation. If p
// cannot be deployed, the error wraps a *glacier.ValidationError listing
// every problem, and nothing is written.
func Run[D any](ctx context.Context, p *glacier.Pipeline, t Target[D], opts Options) (*glacier.Compilation, error) {
	spec := t.Spec()
	dep, d, probs, err := design(p, t, opts)
	if err != nil {
		return nil, err
	}
	if err := refuse(spec, p.Name(), probs); err != nil {
		return nil, err
	}
	out := d.Options.Out
	if err := pulumiproject.CheckDir(out, spec.Marker()); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	mods, err := plan.Modules(ctx, p, d.Options.Dir, d.Options.Modules)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	for _, task := range d.Tasks {
		task.Module = mods[task.Name]
	}
	arts, err := pack(ctx, t, dep, d)
	if err != nil {
		return nil, err
	}
	if err := write(t, dep, d, arts); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	var artifacts []glacier.Artifact
	for _, a := range arts {
		artifacts = append(artifacts, a.Artifact)
	}
	return plan.Compilation(spec.Name, out, artifacts, probs), nil
}

// Design does what Run does before it builds or packs anything: it
// resolves opts and decides the shared deployment and t's. It returns
// every problem, options first, then datasets and tasks in declaration
// order. Tests of a target's decisions call it.
func Design[D any](p *glacier.Pipeline, t Target[D], opts Options) (D, glacier.Problems, error) {
	dep, _, probs, err := design(p, t, opts)
	return dep, probs, err
}

func design[D any](p *glacier.Pipeline, t Target[D], opts Options) (D, *Deployment, glacier.Problems, error) {
	var zero D
	spec := t.Spec()
	pl, err := plan.New(p, nil)
	if err != nil {
		return zero, nil, nil, err
	}
	var probs glacier.Problems
	report := plan.Reporter(&probs)
	d, err := newDeployment(pl, spec, opts.resolve(spec, pl.Name), &probs)
	if err != nil {
		return zero, nil, nil, err
	}
	dep := t.Design(d, report)
	return dep, d, byCulprit(pl, probs), nil
}

// refuse returns the error that stops a compilation with problems.
func refuse(spec *Spec, pipeline string, probs glacier.Problems) error {
	if err := probs.Err(); err != nil {
		return fmt.Errorf("cannot compile pipeline %q for %s: %w", pipeline, spec.Cloud, err)
	}
	return nil
}

// byCulprit sorts problems by culprit, keeping the order of each one's:
// options, then datasets and tasks in declaration order.
func byCulprit(pl *plan.Flow, probs glacier.Problems) glacier.Problems {
	rank := map[string]int{}
	for i, d := range pl.Datasets {
		rank["dataset/"+d.Name] = 1 + i
	}
	for i, t := range pl.Tasks {
		rank["task/"+t.Name] = 1 + len(pl.Datasets) + i
	}
	of := func(p glacier.Problem) int {
		if p.Kind == "option" {
			return 0
		}
		if r, ok := rank[p.Kind+"/"+p.Name]; ok {
			return r
		}
		return len(rank) + 1
	}
	slices.SortStableFunc(probs, func(a, b glacier.Problem) int { return cmp.Compare(of(a), of(b)) })
	return probs
}

// pack packs every task and checks each artifact: the module inside must
// be the one built, and the artifact within the target's limits. It
// reports every oversized artifact at once.
func pack[D any](ctx context.Context, t Target[D], dep D, d *Deployment) ([]Artifact, error) {
	spec := t.Spec()
	var probs glacier.Problems
	report := plan.Reporter(&probs)
	arts := make([]Artifact, len(d.Tasks))
	for i, task := range d.Tasks {
		failed := func(err error) error { return fmt.Errorf("%s: packaging task %q: %w", spec.Name, task.Name, err) }
		data, err := t.Pack(ctx, dep, i)
		if err != nil {
			return nil, failed(err)
		}
		packed, err := task.Inspect(spec.Artifact, data, spec.Read...)
		if err != nil {
			return nil, failed(err)
		}
		a := &arts[i]
		*a = Artifact{
			Artifact: glacier.Artifact{Task: task.Name, Path: task.Artifact, Size: int64(len(data)), ModuleSHA256: packed.ModuleSHA256},
			Data:     data,
			Packed:   packed,
		}
		problem := report(glacier.Error, "task", task.Name)
		if a.Size > spec.MaxArtifactBytes {
			problem("its %s is %s, over the %s %s; make the module smaller",
				spec.Artifact, plan.MiB(a.Size), plan.MiB(spec.MaxArtifactBytes), spec.ArtifactLimit)
		}
		if err := t.Packed(dep, i, a, problem); err != nil {
			return nil, failed(err)
		}
	}
	if err := refuse(spec, d.Pipeline, probs); err != nil {
		return nil, err
	}
	return arts, nil
}

// write lays out the project under d.Options.Out. It replaces the
// artifacts, the sources and the program's Go files wholesale, so nothing
// from an earlier compilation lingers, and leaves other files (such as a
// stack's Pulumi.<stack>.yaml) alone.
func write[D any](t Target[D], dep D, d *Deployment, arts []Artifact) error {
	spec := t.Spec()
	d.Artifacts = arts
	files, err := render(t, dep)
	if err != nil {
		return err
	}
	goMod, goSum, err := pulumiproject.ModuleFiles(spec.Program, "templates", d.Pipeline+"/"+spec.Name)
	if err != nil {
		return err
	}
	static, err := pulumiproject.ProgramFiles(spec.Program, "program")
	if err != nil {
		return err
	}
	p := pulumiproject.Project{Marker: spec.Marker(), Clear: []string{spec.Artifacts, "sources", "*.go"}}
	p.Files = append(append(append(p.Files, files...), goMod, goSum), static...)
	for _, a := range arts {
		p.Files = append(p.Files, pulumiproject.File{Name: a.Path, Data: a.Data})
	}
	for _, ds := range d.Datasets {
		switch {
		case ds.Source == "":
		case ds.Partitioned:
			files, copies, err := ds.partFiles()
			if err != nil {
				return err
			}
			p.Files = append(p.Files, files...)
			p.Copies = append(p.Copies, copies...)
		default:
			p.Copies = append(p.Copies, pulumiproject.Copy{Src: ds.SourcePath(d.Options.Dir), Name: ds.SourceFile()})
		}
		if ds.Source != "" && ds.SourceVersion != nil {
			rec, err := ds.SourceRecord()
			if err != nil {
				return err
			}
			p.Files = append(p.Files, pulumiproject.File{Name: ds.SourceRecordFile(), Data: rec})
		}
	}
	return pulumiproject.Write(d.Options.Out, p)
}

// render renders the project's text files: main.go, gofmt'd, Pulumi.yaml,
// README.md and the orchestration definition.
func render[D any](t Target[D], dep D) ([]pulumiproject.File, error) {
	spec := t.Spec()
	def, err := t.Definition(dep)
	if err != nil {
		return nil, err
	}
	mainGo, err := spec.Templates.Go("main.go.tmpl", dep)
	if err != nil {
		return nil, err
	}
	files := []pulumiproject.File{{Name: "main.go", Data: mainGo}, def}
	for _, name := range []string{"Pulumi.yaml", "README.md"} {
		data, err := spec.Templates.Render(name+".tmpl", dep)
		if err != nil {
			return nil, err
		}
		files = append(files, pulumiproject.File{Name: name, Data: data})
	}
	return files, nil
}
