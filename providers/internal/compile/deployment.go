package compile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
	"github.com/glacier-pipeline/glacier/store"
)

// Deployment is what the driver decides for every target: the object
// datasets and serverless tasks it deploys, in declaration order, with the
// names and settings every cloud gives them alike. Targets keep pointers
// to its datasets and tasks, so what the driver adds later (the tasks'
// modules) reaches them.
type Deployment struct {
	// Options are the options, resolved.
	Options Options
	// Pipeline, Prefix and Region are the pipeline's name and the
	// resolved prefix and region.
	Pipeline, Prefix, Region string
	// Tags are every tag (label) but the one naming the dataset or task a
	// resource belongs to, sorted by key.
	Tags []Tag
	// Flow is the pipeline's data flow; Waves are its waves.
	Flow  *plan.Flow
	Waves [][]string
	// Datasets and Tasks are what the target deploys; datasets of other
	// storage and tasks of other compute are refused.
	Datasets []*Dataset
	Tasks    []*Task
	// Artifacts are the tasks' artifacts, once packed.
	Artifacts []Artifact
	// Marker is the first line of the project's Pulumi.yaml.
	Marker string
	// GoVersion is the Go the project needs, from its go.mod.
	GoVersion string
	// StateLogical is the Pulumi name of the state bucket, which holds
	// the store's memo entries, refs and run records (docs/store.md); the
	// functions find it through fnspec.StateEnv.
	StateLogical string

	// datasetVars and taskVars are the variables of datasets and tasks in
	// main.go by name; a dataset and a task may share a name.
	datasetVars, taskVars map[string]string
}

// Dataset is one object dataset as every target deploys it.
type Dataset struct {
	plan.Dataset
	// Var is the Go variable holding it in main.go.
	Var string
	// Logical is the Pulumi name of its bucket, which Pulumi auto-names
	// the bucket from.
	Logical string
	// Comment says where it comes from and who reads it; a target may add
	// to it.
	Comment string
	// SourceVersion is the version of its source the program uploads
	// into the store (for a partitioned source, its part list); nil
	// unless it is a source.
	SourceVersion *fnspec.Version
	// sourceParts are a partitioned source's files, each with its part,
	// and sourceList the bytes of their part list, which SourceVersion
	// names.
	sourceParts []sourcePart
	sourceList  []byte
	// RetireDays is how long a replaced version of this task's output
	// stays under
	// store.RetiredPrefix before the bucket's lifecycle rule deletes it:
	// its retention_days. Zero keeps every version (see
	// BucketRetentionDays).
	RetireDays int
}

// BucketRetentionDays is the retention_days a target's lifecycle rule
// applies to ds's bucket as a whole (its objects, or with versioning its
// replaced ones). An unversioned bucket gets none: the rule would expire
// the versions refs name, current or not; a task output's replaced
// versions expire through RetireDays instead.
func (d *Deployment) BucketRetentionDays(ds *Dataset) int {
	s, _ := ds.Object()
	if !s.Versioning {
		return 0
	}
	return s.RetentionDays
}

// SourceObject is the name, in the dataset's bucket, of the version the
// program uploads its source as.
func (d *Dataset) SourceObject() string { return store.ObjectName(d.SourceVersion.Digest) }

// VersionFile is where the project keeps the bytes of SourceVersion: the
// source's file, or a partitioned source's part list.
func (d *Dataset) VersionFile() string {
	if d.Partitioned {
		return path.Join("sources", d.Name+".version")
	}
	return d.SourceFile()
}

// SourceRecordFile is where the project keeps the record of the source's
// version (a store.SourceRef), which the program uploads to
// SourceRecordName in the state bucket.
func (d *Dataset) SourceRecordFile() string { return path.Join("sources", d.Name+".version.json") }

// SourceRecord is the record of the source's version that
// SourceRecordFile holds.
func (d *Dataset) SourceRecord() ([]byte, error) {
	b, err := json.MarshalIndent(store.SourceRef{Dataset: d.Name, Version: *d.SourceVersion}, "", "  ")
	return append(b, '\n'), err
}

// Task is one serverless task as every target deploys it.
type Task struct {
	plan.Task
	// Hints are its compute's provider hints.
	Hints glacier.Hints
	// Var is the Go variable holding its function in main.go.
	Var string
	// FunctionName is its function's name.
	FunctionName string
	// FunctionMemoryMiB is its function's memory: the task's own, which
	// caps its sandbox, and the runtime's reserve beside it, as the
	// target's sizes round it (see plan.Sizes.Function).
	FunctionMemoryMiB int
	// Artifact is its artifact's path in the project, slash-separated.
	Artifact string
	// ReadVars and WriteVars are the variables of its inputs and outputs
	// in main.go, joined for a Go list.
	ReadVars, WriteVars string
	// Comment says what it reads and writes.
	Comment string
	// Schemas are the contracts of its outputs that declare one, as its
	// spec carries them.
	Schemas map[string]json.RawMessage
	// Retire are its outputs whose replaced versions it retires (their
	// datasets' RetireDays is set), as its spec carries them.
	Retire []string
}

// Naming is how a target names one kind of resource after a dataset or a
// task. Two datasets or tasks whose resources would share a name are
// refused, on every target: numbering one of them would make a name, and
// so the resource holding the data, depend on the order of declarations.
type Naming struct {
	// Rule makes the name.
	Rule plan.Rule
	// What the name is, in messages ("bucket name").
	What string
	// Why two names can meet, in messages ("S3 names fold '_' to '-'").
	Why string
}

// names are the names of one kind given out so far, with their owners.
type names struct {
	Naming
	owners map[string]string
}

// claim gives name to owner (a kind and a name), reporting through errorf
// if another already has it.
func (n *names) claim(name, kind, owner string, errorf func(string, ...any)) {
	if other, taken := n.owners[name]; taken {
		errorf("would share the %s %q with %s %q (%s); rename one of them", n.What, name, kind, other, n.Why)
		return
	}
	n.owners[name] = owner
}

// newDeployment makes the shared deployment of pl and adds every problem
// it finds to probs.
func newDeployment(pl *plan.Flow, spec *Spec, opts Options, probs *glacier.Problems) (*Deployment, error) {
	report := plan.Reporter(probs)
	opts.check(spec, report)
	*probs = append(*probs, pl.Check(spec.Cloud, spec.Service)...)
	reserved, err := ProgramNames(spec)
	if err != nil {
		return nil, err
	}
	goMod, err := fs.ReadFile(spec.Program, "templates/go.mod.txt")
	if err != nil {
		return nil, err
	}
	goVersion, err := pulumiproject.GoDirective(goMod)
	if err != nil {
		return nil, fmt.Errorf("embedded %w", err)
	}
	d := &Deployment{Options: opts, Pipeline: pl.Name, Prefix: opts.Prefix, Region: opts.Region, Flow: pl, Waves: pl.Waves,
		Tags: Tags(opts.Tags, Tag{spec.Tagging.Pipeline, pl.Name}), Marker: spec.Marker(), GoVersion: goVersion}
	vars := pulumiproject.NewIdents(reserved...)
	d.datasetVars, d.taskVars = map[string]string{}, map[string]string{}
	buckets := names{spec.Buckets, map[string]string{}}
	d.StateLogical = spec.Buckets.Rule.Name(opts.Prefix, StateName)
	for _, pd := range pl.Datasets {
		if _, ok := pd.Object(); !ok {
			continue // refused by Check
		}
		errorf, warnf := report(glacier.Error, "dataset", pd.Name), report(glacier.Warning, "dataset", pd.Name)
		for _, w := range plan.UnknownHints(pd.Storage.ProviderHints(), spec.Cloud, spec.Name+"_", "dataset", spec.DatasetHints) {
			warnf("%s", w)
		}
		ds := &Dataset{
			Dataset: pd,
			Var:     vars.Add(pulumiproject.Camel(pd.Name), "Dataset"),
			Logical: spec.Buckets.Rule.Name(opts.Prefix, pd.Name),
			Comment: datasetComment(pd),
		}
		if ds.Logical == d.StateLogical {
			errorf("would share the %s %q with the store's state bucket (%s); rename the dataset", spec.Buckets.What, ds.Logical, spec.Buckets.Why)
		}
		buckets.claim(ds.Logical, "dataset", pd.Name, errorf)
		if msg := pd.CheckSource(opts.Dir); msg != "" {
			errorf("%s", msg)
		} else if pd.Source != "" {
			var err error
			if pd.Partitioned {
				if ds.sourceParts, ds.sourceList, err = readSourceParts(opts.Dir, pd); err == nil {
					ds.SourceVersion, err = digestOf(bytes.NewReader(ds.sourceList))
				}
			} else {
				ds.SourceVersion, err = digest(pd.SourcePath(opts.Dir))
			}
			if err != nil {
				errorf("source %s: %v", pd.Source, err)
			}
		}
		if s, _ := pd.Object(); s.RetentionDays > 0 {
			switch {
			case pd.Producer != "":
				ds.RetireDays = s.RetentionDays
			case !s.Versioning:
				warnf("retention_days expires nothing here: the store keeps every version of a source, since its record names the current one; set versioning: true to expire replaced copies of its stable name")
			}
		}
		d.datasetVars[pd.Name] = ds.Var
		d.Datasets = append(d.Datasets, ds)
	}
	functions := names{spec.Functions, map[string]string{}}
	for _, pt := range pl.Tasks {
		sl, ok := pt.Compute.(glacier.Serverless)
		if !ok {
			continue // refused by Check
		}
		errorf, warnf := report(glacier.Error, "task", pt.Name), report(glacier.Warning, "task", pt.Name)
		for _, w := range plan.UnknownHints(sl.Hints, spec.Cloud, spec.Name+"_", "task", spec.TaskHints) {
			warnf("%s", w)
		}
		pt.Limits = opts.Serverless.limits(sl)
		t := &Task{
			Task:         pt,
			Hints:        sl.Hints,
			Var:          vars.Add(pulumiproject.Camel(pt.Name)+"Task", ""),
			FunctionName: spec.Functions.Rule.Name(opts.Prefix, pt.Name),
			Artifact:     spec.Artifacts + "/" + pt.Name + ".zip",
			ReadVars:     d.DatasetVars(pt.Reads),
			WriteVars:    d.DatasetVars(pt.Writes),
			Comment:      taskComment(pt),
		}
		for _, out := range pt.Writes {
			ds, _ := pl.Dataset(out)
			if i := slices.IndexFunc(d.Datasets, func(dd *Dataset) bool { return dd.Name == out }); i >= 0 && d.Datasets[i].RetireDays > 0 {
				t.Retire = append(t.Retire, out)
			}
			if ds.Schema == nil {
				continue
			}
			raw, err := ds.Schema.Encode()
			if err != nil {
				errorf("output %q: %v", out, err)
				continue
			}
			if t.Schemas == nil {
				t.Schemas = map[string]json.RawMessage{}
			}
			t.Schemas[out] = raw
		}
		functions.claim(t.FunctionName, "task", pt.Name, errorf)
		d.taskVars[pt.Name] = t.Var
		if mem, err := pt.FunctionMemory(spec.Memory); err != nil {
			errorf("%v", err)
		} else {
			t.FunctionMemoryMiB = mem
		}
		d.Tasks = append(d.Tasks, t)
	}
	return d, nil
}

// StateName is the name the state bucket is named after, as a dataset is
// after its own: a dataset of that name would take the same bucket name,
// and is refused.
const StateName = "glacier-state"

// DatasetVars returns the variables of the named datasets in main.go,
// joined for a Go list.
func (d *Deployment) DatasetVars(names []string) string {
	return pulumiproject.JoinVars(d.datasetVars, names)
}

// TaskVars returns the variables of the named tasks' functions in
// main.go, joined for a Go list.
func (d *Deployment) TaskVars(names []string) string {
	return pulumiproject.JoinVars(d.taskVars, names)
}

// TaskWaves are Waves as indices into Tasks.
func (d *Deployment) TaskWaves() [][]int {
	index := map[string]int{}
	for i, t := range d.Tasks {
		index[t.Name] = i
	}
	var out [][]int
	for _, wave := range d.Waves {
		var w []int
		for _, name := range wave {
			if i, ok := index[name]; ok {
				w = append(w, i)
			}
		}
		out = append(out, w)
	}
	return out
}

// Outputs are the datasets a task writes and no task reads: the
// pipeline's results.
func (d *Deployment) Outputs() []string {
	var out []string
	for _, ds := range d.Datasets {
		if ds.Producer != "" && len(ds.Readers) == 0 {
			out = append(out, ds.Name)
		}
	}
	return out
}

// HostReserveMiB is what each function has beyond its task's memory.
func (d *Deployment) HostReserveMiB() int { return plan.HostReserveMiB }

// DatasetsEnv names the environment variable that tells a function's
// runtime where its datasets live.
func (d *Deployment) DatasetsEnv() string { return fnspec.DatasetsEnv }

// StateEnv names the environment variable that tells a function's
// runtime where the store's state is.
func (d *Deployment) StateEnv() string { return fnspec.StateEnv }

// StagingPrefix is the prefix of a dataset's staged outputs, which the
// program's lifecycle rule expires.
func (d *Deployment) StagingPrefix() string { return store.StagingPrefix }

// RetiredPrefix is the prefix of a dataset's retired versions, which the
// program's lifecycle rule expires after the dataset's RetireDays.
func (d *Deployment) RetiredPrefix() string { return store.RetiredPrefix }

// SourceRecordName is the name, in the state bucket, of the record of
// the source dataset's current version.
func (d *Deployment) SourceRecordName(dataset string) string {
	return store.SourceName(d.Pipeline, dataset)
}

// LayoutName is the name, in the state bucket, of the record of where the
// datasets live.
func (d *Deployment) LayoutName() string { return store.LayoutName(d.Pipeline) }

// AllDatasetVars are the variables of every dataset in main.go, joined
// for a Go list.
func (d *Deployment) AllDatasetVars() string {
	names := make([]string, len(d.Datasets))
	for i, ds := range d.Datasets {
		names[i] = ds.Name
	}
	return d.DatasetVars(names)
}

// ProgramNames are the identifiers of the written program that no
// variable of a dataset or task may take: those its static files declare
// and import, and spec.MainNames.
func ProgramNames(spec *Spec) ([]string, error) {
	static, err := pulumiproject.ProgramFiles(spec.Program, "program")
	if err != nil {
		return nil, err
	}
	declared, err := pulumiproject.Declared(static)
	if err != nil {
		return nil, err
	}
	return append(declared, spec.MainNames...), nil
}

// OrchestratorName is the name of the resource that runs the pipeline
// (the state machine, the workflow) under rule: the pipeline's name,
// prefixed unless the prefix is the default, which is that name already.
func (d *Deployment) OrchestratorName(rule plan.Rule) string {
	if d.Prefix == plan.DefaultPrefix(d.Pipeline) {
		return rule.Name("", d.Pipeline)
	}
	return rule.Name(d.Prefix, d.Pipeline)
}

// datasetComment says where a dataset comes from and who reads it.
func datasetComment(d plan.Dataset) string {
	from := "is written by " + d.Producer
	if d.Source != "" {
		from = "is uploaded from " + d.Source
	}
	if len(d.Readers) == 0 {
		return d.Name + " " + from + "."
	}
	return d.Name + " " + from + " and read by " + List(d.Readers) + "."
}

// taskComment says what a task reads and writes, and how often it is
// retried.
func taskComment(t plan.Task) string {
	reads := "nothing"
	if len(t.Reads) > 0 {
		reads = List(t.Reads)
	}
	s := t.Name + " reads " + reads + " and writes " + List(t.Writes)
	if t.Retries > 0 {
		s += fmt.Sprintf("; a failed run is retried %d times", t.Retries)
	}
	return s + "."
}

// List joins names as English does: "a", "a and b", "a, b and c".
func List(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Tag is a key and a value put on resources: an AWS tag, a Google Cloud
// label.
type Tag struct{ Key, Value string }

// Tags returns user's tags and the given ones, sorted by key.
func Tags(user map[string]string, given ...Tag) []Tag {
	out := slices.Clone(given)
	for k, v := range user {
		out = append(out, Tag{k, v})
	}
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Join joins values of a string type with ", ", for messages.
func Join[S ~string](vals []S) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Class returns the storage class d asks for on a target that knows the
// classes known: the value of hint if d sets it, else byAccess's for its
// access pattern. A class it does not know is reported through errorf,
// naming what a class is there ("an S3 storage class"), and ok is false.
func Class[C ~string](d plan.Dataset, hint string, byAccess map[glacier.AccessPattern]C, known []C, what string,
	errorf func(string, ...any)) (class C, ok bool) {
	s, _ := d.Object()
	class = byAccess[s.AccessPattern]
	if h, set := s.Hints[hint]; set {
		class = C(h)
	}
	if !slices.Contains(known, class) {
		errorf("%s %q is not %s; use one of %s", hint, class, what, Join(known))
		return class, false
	}
	return class, true
}
