package glacier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/glacier-pipeline/glacier/schema"
)

// Dataset is a named piece of data that tasks read and write.
type Dataset struct {
	Name    string
	Storage Storage
	// Source makes the dataset an external input: its bytes are read from
	// this path (relative to the project directory) and no task produces it.
	// It must lie inside the project directory (see SourcePath).
	Source string
	// SourceOutsideProject allows Source to lie outside the project
	// directory, or to be an absolute path: shared data, read where it is.
	SourceOutsideProject bool
	// Partitioned makes the dataset a set of named parts (see
	// CheckPartKey) rather than one blob. A partitioned source is a folder
	// or a glob, one part per file (see SourceParts).
	Partitioned bool
	// Schema is the dataset's contract: the format and fields its bytes
	// have, which the host checks as a task writes them (and, for a
	// source, as it is imported) before anything is committed. Every part
	// of a partitioned dataset has it. Nil declares none.
	Schema *schema.Schema
	// SchemaFile is the file Schema was read from, relative to the
	// project directory, when the manifest names one; empty when the
	// schema is written inline or built in Go.
	SchemaFile string
}

// Task is one step of a pipeline: a WebAssembly module that reads its
// inputs and writes its outputs, and nothing else.
type Task struct {
	Name string
	// Build is a Go main package (a directory relative to the project) that
	// is built with GOOS=wasip1 GOARCH=wasm. Exactly one of Build and Module
	// is set.
	Build string
	// Module is a ready WASI module (.wasm), relative to the project.
	Module  string
	Inputs  []string
	Outputs []string
	// Compute is where the task runs; nil means Local{}.
	Compute Compute
	Params  map[string]string
	// Retries is how many times a failed run of the task is retried.
	Retries int
	// Map names a partitioned input the task maps over: it runs once per
	// part, sees that part as the input and its other inputs whole, and
	// writes each of its outputs, all partitioned, under the part's key.
	Map string
	// ToleratedFailures is the percentage of a map task's parts that may
	// fail (0 to under 100) with its outputs still committed, without them.
	ToleratedFailures float64
	// MaxConcurrency bounds how many of a map task's parts run at once;
	// zero means as many as the runner allows.
	MaxConcurrency int
	// MapBatch is how many of a map task's parts one cloud invocation
	// runs, one after another; zero means DefaultMapBatch. The task's
	// timeout bounds the invocation, so the whole batch. glacier run
	// schedules parts one by one and ignores it.
	MapBatch int
}

// DefaultMapBatch is how many parts a cloud invocation of a map task runs
// when the task does not say.
const DefaultMapBatch = 50

// MaxMapBatch bounds Task.MapBatch.
const MaxMapBatch = 1000

// Pipeline is a set of datasets and the tasks that connect them. Build one
// with New and the Add methods, or load a glacier.yaml with package
// manifest. A Pipeline is not safe for concurrent mutation.
type Pipeline struct {
	name     string
	datasets []Dataset
	tasks    []Task

	// Indexes kept by the Add methods, so lookups cost the same in a
	// pipeline of any size: positions by name, and for each dataset the
	// positions of the tasks that write and read it, in declaration order.
	datasetAt, taskAt map[string]int
	writers, readers  map[string][]int
}

// New returns an empty pipeline. The name is checked by Validate.
func New(name string) *Pipeline { return &Pipeline{name: name} }

// Name returns the pipeline's name.
func (p *Pipeline) Name() string { return p.name }

// AddDataset adds a dataset. It fails if the name is invalid or already used
// by another dataset; every other problem is reported by Validate.
func (p *Pipeline) AddDataset(d Dataset) error {
	if err := CheckName(d.Name); err != nil {
		return fmt.Errorf("dataset %q: %w", d.Name, err)
	}
	if _, ok := p.Dataset(d.Name); ok {
		return fmt.Errorf("dataset %q is declared twice; rename one of them", d.Name)
	}
	if p.datasetAt == nil {
		p.datasetAt = map[string]int{}
	}
	p.datasetAt[d.Name] = len(p.datasets)
	p.datasets = append(p.datasets, d)
	return nil
}

// AddTask adds a task. It fails if the name is invalid or already used by
// another task; every other problem is reported by Validate.
func (p *Pipeline) AddTask(t Task) error {
	if err := CheckName(t.Name); err != nil {
		return fmt.Errorf("task %q: %w", t.Name, err)
	}
	if _, ok := p.Task(t.Name); ok {
		return fmt.Errorf("task %q is declared twice; rename one of them", t.Name)
	}
	t.Inputs = slices.Clone(t.Inputs)
	t.Outputs = slices.Clone(t.Outputs)
	if p.taskAt == nil {
		p.taskAt, p.writers, p.readers = map[string]int{}, map[string][]int{}, map[string][]int{}
	}
	i := len(p.tasks)
	p.taskAt[t.Name] = i
	for _, in := range t.Inputs {
		p.readers[in] = appendOnce(p.readers[in], i)
	}
	for _, out := range t.Outputs {
		p.writers[out] = appendOnce(p.writers[out], i)
	}
	p.tasks = append(p.tasks, t)
	return nil
}

// appendOnce appends i unless it is already last: a task listing a dataset
// twice is recorded once (Validate reports the repetition).
func appendOnce(s []int, i int) []int {
	if len(s) > 0 && s[len(s)-1] == i {
		return s
	}
	return append(s, i)
}

// Datasets returns the datasets in the order they were added.
func (p *Pipeline) Datasets() []Dataset { return slices.Clone(p.datasets) }

// Tasks returns the tasks in the order they were added.
func (p *Pipeline) Tasks() []Task { return slices.Clone(p.tasks) }

// Dataset returns the dataset with the given name.
func (p *Pipeline) Dataset(name string) (Dataset, bool) {
	i, ok := p.datasetAt[name]
	if !ok {
		return Dataset{}, false
	}
	return p.datasets[i], true
}

// Task returns the task with the given name.
func (p *Pipeline) Task(name string) (Task, bool) {
	i, ok := p.taskAt[name]
	if !ok {
		return Task{}, false
	}
	return p.tasks[i], true
}

// Producer returns the task that writes the dataset, if any.
func (p *Pipeline) Producer(dataset string) (Task, bool) {
	if w := p.writers[dataset]; len(w) > 0 {
		return p.tasks[w[0]], true
	}
	return Task{}, false
}

// Consumers returns the tasks that read the dataset, in declaration order.
func (p *Pipeline) Consumers(dataset string) []Task {
	var out []Task
	for _, i := range p.readers[dataset] {
		out = append(out, p.tasks[i])
	}
	return out
}

// Upstream returns the names of the tasks whose outputs the task reads,
// sorted and without duplicates.
func (p *Pipeline) Upstream(task string) []string {
	i, ok := p.taskAt[task]
	if !ok {
		return nil
	}
	up := p.upstream(i)
	names := make([]string, len(up))
	for j, u := range up {
		names[j] = p.tasks[u].Name
	}
	slices.Sort(names)
	return names
}

// upstream returns the positions of the tasks whose outputs task i reads,
// ascending and without duplicates.
func (p *Pipeline) upstream(i int) []int {
	var up []int
	for _, in := range p.tasks[i].Inputs {
		up = append(up, p.writers[in]...)
	}
	slices.Sort(up)
	return slices.Compact(up)
}

// Order returns the tasks in a topological order: every task after the tasks
// it reads from, ties broken by declaration order. It fails if the pipeline
// has a cycle; Validate says where.
func (p *Pipeline) Order() ([]Task, error) {
	levels, err := p.Levels()
	if err != nil {
		return nil, err
	}
	var out []Task
	for _, l := range levels {
		out = append(out, l...)
	}
	return out, nil
}

// Levels groups the tasks into waves: the first holds tasks that read only
// sources, and each later one tasks whose upstream tasks are all in earlier
// waves. Tasks within a wave are independent of one another and keep their
// declaration order.
func (p *Pipeline) Levels() ([][]Task, error) {
	pending := make([]int, len(p.tasks))      // upstream tasks not yet placed
	downstream := make([][]int, len(p.tasks)) // who waits for each task
	for i := range p.tasks {
		for _, up := range p.upstream(i) {
			pending[i]++
			downstream[up] = append(downstream[up], i)
		}
	}
	var wave []int
	for i := range p.tasks {
		if pending[i] == 0 {
			wave = append(wave, i)
		}
	}
	var levels [][]Task
	placed := 0
	for len(wave) > 0 {
		slices.Sort(wave)
		level := make([]Task, len(wave))
		var next []int
		for j, i := range wave {
			level[j] = p.tasks[i]
			for _, d := range downstream[i] {
				if pending[d]--; pending[d] == 0 {
					next = append(next, d)
				}
			}
		}
		levels = append(levels, level)
		placed += len(wave)
		wave = next
	}
	if placed != len(p.tasks) {
		return nil, errors.New("pipeline has a cycle; run glacier validate to see it")
	}
	return levels, nil
}

// Compiler turns a pipeline into deployable artifacts for one target, such
// as AWS or GCP. Providers implement it; the core never imports them.
type Compiler interface {
	// Compile validates p against the target's limits and writes the
	// target's artifacts. It is called only with a pipeline that passed
	// Validate.
	Compile(ctx context.Context, p *Pipeline) (*Compilation, error)
}

// Compilation describes what a Compiler produced.
type Compilation struct {
	// Target names the provider ("aws", "gcp").
	Target string
	// Dir is where the artifacts and the infrastructure program were written.
	Dir string
	// Artifacts are the per-task deployable packages.
	Artifacts []Artifact
	// Warnings are problems that did not stop compilation, such as
	// provider hints the target does not know.
	Warnings []string
}

// Artifact is one task's deployable package.
type Artifact struct {
	Task string
	// Path of the package, relative to Compilation.Dir.
	Path string
	Size int64
	// ModuleSHA256 is the hex digest of the WebAssembly module inside,
	// byte-identical to the one the local executor runs.
	ModuleSHA256 string
}

// Executor runs a pipeline. Providers implement it; the core never imports them.
type Executor interface {
	// Execute runs p's tasks in dependency order. It is called only with a
	// pipeline that passed Validate. The report is returned even when tasks
	// failed; the error then summarises the failures.
	Execute(ctx context.Context, p *Pipeline) (*Report, error)
}

// Report is what an Executor did in one run.
type Report struct {
	RunID string
	Tasks []TaskReport
}

// TaskStatus is where a task stands in a run: an executor reports the
// statuses in progress while the run goes, and a TaskReport holds a final
// one.
type TaskStatus string

// Statuses in progress.
const (
	// StatusPending marks a task waiting for its upstream.
	StatusPending TaskStatus = "pending"
	// StatusQueued marks a task ready to run, waiting for a free worker.
	StatusQueued  TaskStatus = "queued"
	StatusRunning TaskStatus = "running"
	// StatusRetrying marks a task running again after a failed attempt.
	StatusRetrying TaskStatus = "retrying"
)

// Final statuses.
const (
	StatusSucceeded TaskStatus = "succeeded"
	// StatusCached marks a task whose outputs were already in the store
	// for the same module, inputs, params and compute.
	StatusCached TaskStatus = "cached"
	StatusFailed TaskStatus = "failed"
	// StatusSkipped marks a task whose upstream failed.
	StatusSkipped  TaskStatus = "skipped"
	StatusCanceled TaskStatus = "canceled"
)

// Final reports whether s is a final status.
func (s TaskStatus) Final() bool {
	switch s {
	case StatusSucceeded, StatusCached, StatusFailed, StatusSkipped, StatusCanceled:
		return true
	}
	return false
}

// TaskReport is one task's outcome in a run.
type TaskReport struct {
	Task     string
	Status   TaskStatus
	Attempts int
	// Duration is the time spent running the task, all attempts together.
	Duration time.Duration
	// Err is why the task failed, was skipped or was canceled.
	Err error
}

// Compile validates p and hands it to c.
func (p *Pipeline) Compile(ctx context.Context, c Compiler) (*Compilation, error) {
	if err := p.Validate().Err(); err != nil {
		return nil, err
	}
	return c.Compile(ctx, p)
}

// Run validates p and hands it to e.
func (p *Pipeline) Run(ctx context.Context, e Executor) (*Report, error) {
	if err := p.Validate().Err(); err != nil {
		return nil, err
	}
	return e.Execute(ctx, p)
}
