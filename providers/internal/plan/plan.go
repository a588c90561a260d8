// Package plan derives, from a validated pipeline, what every cloud compiler
// needs to know before it writes a line of infrastructure: who reads and
// writes each dataset, the waves tasks run in, the checks all clouds share
// (only object datasets, only serverless tasks, sources that exist, unknown
// hints), resource names that stay valid under each provider's naming
// rules, and the memory a task's function needs besides its sandbox
// (HostReserveMiB). It also resolves the tasks' modules and checks that a
// packaged artifact holds the very module that was built.
//
// It knows no cloud SDK: the AWS and GCP compilers both build on it, so the
// same pipeline is refused for the same reasons on every target.
package plan

import (
	"fmt"
	"slices"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
)

// Flow is a pipeline's data flow as a deployment sees it: datasets with
// their producer and readers, tasks with what they read and write, and the
// waves they run in.
type Flow struct {
	// Name is the pipeline's name.
	Name string
	// Datasets are in the pipeline's declaration order.
	Datasets []Dataset
	// Tasks are in the pipeline's declaration order.
	Tasks []Task
	// Waves groups task names as glacier.Pipeline.Levels does: every task
	// of a wave depends only on tasks of earlier waves.
	Waves [][]string
}

// Dataset is one dataset and the tasks around it.
type Dataset struct {
	glacier.Dataset
	// Producer is the task that writes the dataset; empty for a source.
	Producer string
	// Readers are the tasks that read it, in declaration order.
	Readers []string
}

// Object returns the dataset's object storage settings and whether it has
// object storage at all.
func (d Dataset) Object() (glacier.ObjectStorage, bool) {
	s, ok := d.Storage.(glacier.ObjectStorage)
	return s, ok
}

// Task is one task with what it touches.
type Task struct {
	glacier.Task
	// Reads and Writes are the datasets the task may read and write: its
	// inputs and outputs, in declaration order. They are all its
	// permissions ever grant.
	Reads, Writes []string
	// Partitioned are those of Reads and Writes that are partitioned.
	Partitioned []string
	// Producers names the task writing each of Reads that a task writes;
	// the others are sources.
	Producers map[string]string
	// Limits are the task's memory and timeout with defaults applied.
	Limits glacier.Limits
	// Wave is the index in Flow.Waves of the wave the task runs in.
	Wave int
	// Module is the task's WebAssembly module; its Path is empty when the
	// plan was made without modules.
	Module build.Module
}

// New makes the data flow of p, which must have passed glacier's Validate. mods
// are the tasks' built modules (from build.Modules); pass nil to plan
// without them. With mods, every task must have exactly one.
func New(p *glacier.Pipeline, mods []build.Module) (*Flow, error) {
	levels, err := p.Levels()
	if err != nil {
		return nil, err
	}
	byTask := make(map[string]build.Module, len(mods))
	for _, m := range mods {
		if _, dup := byTask[m.Task]; dup {
			return nil, fmt.Errorf("plan: two modules for task %q", m.Task)
		}
		byTask[m.Task] = m
	}
	pl := &Flow{Name: p.Name()}
	wave := map[string]int{}
	for i, l := range levels {
		names := make([]string, len(l))
		for j, t := range l {
			names[j] = t.Name
			wave[t.Name] = i
		}
		pl.Waves = append(pl.Waves, names)
	}
	for _, t := range p.Tasks() {
		m, ok := byTask[t.Name]
		if mods != nil && !ok {
			return nil, fmt.Errorf("plan: no module for task %q; build it first (glacier build)", t.Name)
		}
		pt := Task{
			Task:   t,
			Reads:  dedup(t.Inputs),
			Writes: dedup(t.Outputs),
			Limits: glacier.LimitsOf(t.Compute),
			Wave:   wave[t.Name],
			Module: m,
		}
		for _, n := range pt.Reads {
			if w, ok := p.Producer(n); ok {
				if pt.Producers == nil {
					pt.Producers = map[string]string{}
				}
				pt.Producers[n] = w.Name
			}
		}
		for _, n := range pt.Touches() {
			if d, ok := p.Dataset(n); ok && d.Partitioned {
				pt.Partitioned = append(pt.Partitioned, n)
			}
		}
		pl.Tasks = append(pl.Tasks, pt)
	}
	for _, d := range p.Datasets() {
		pd := Dataset{Dataset: d}
		if t, ok := p.Producer(d.Name); ok {
			pd.Producer = t.Name
		}
		for _, t := range p.Consumers(d.Name) {
			pd.Readers = append(pd.Readers, t.Name)
		}
		pl.Datasets = append(pl.Datasets, pd)
	}
	return pl, nil
}

// Batch is how many parts one invocation of the task runs, if it maps.
func (t Task) Batch() int {
	switch {
	case t.Map == "":
		return 0
	case t.MapBatch > 0:
		return t.MapBatch
	}
	return glacier.DefaultMapBatch
}

// Task returns the named task.
func (pl *Flow) Task(name string) (Task, bool) {
	i := slices.IndexFunc(pl.Tasks, func(t Task) bool { return t.Name == name })
	if i < 0 {
		return Task{}, false
	}
	return pl.Tasks[i], true
}

// Dataset returns the named dataset.
func (pl *Flow) Dataset(name string) (Dataset, bool) {
	i := slices.IndexFunc(pl.Datasets, func(d Dataset) bool { return d.Name == name })
	if i < 0 {
		return Dataset{}, false
	}
	return pl.Datasets[i], true
}

// Sources returns the datasets that are read from a file rather than
// produced by a task, in declaration order.
func (pl *Flow) Sources() []Dataset {
	var out []Dataset
	for _, d := range pl.Datasets {
		if d.Source != "" {
			out = append(out, d)
		}
	}
	return out
}

// Touches returns the datasets a task reads or writes, inputs first, each
// once.
func (t Task) Touches() []string {
	out := slices.Clone(t.Reads)
	for _, w := range t.Writes {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func dedup(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
