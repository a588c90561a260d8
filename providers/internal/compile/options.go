package compile

import (
	"maps"
	"path/filepath"
	"slices"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// Options are the options every target takes; each cloud's Options has
// them under the same names.
type Options struct {
	// Dir is the project directory, empty for the current one; Out is
	// where the project is written, required; Region is the cloud's
	// region, empty for Spec.DefaultRegion; Prefix starts every resource
	// name, empty for plan.DefaultPrefix.
	Dir, Out, Region, Prefix string
	// Tags are put on every resource that takes them (AWS's tags, Google
	// Cloud's labels).
	Tags map[string]string
	// Serverless fills in serverless compute settings a pipeline leaves
	// unset.
	Serverless ServerlessDefaults
	// Modules are the tasks' modules by task name; nil means Run builds
	// them.
	Modules map[string]build.Module
	// CacheDir keeps what packing can reuse; empty means
	// .glacier/<target> under Dir.
	CacheDir string

	// defaultPrefix is set when resolve chose the prefix.
	defaultPrefix bool
}

// ServerlessDefaults fill in serverless compute settings left at zero.
type ServerlessDefaults struct {
	// MemoryMiB is the memory of tasks that set none; zero means
	// glacier.DefaultMemory.
	MemoryMiB int
	// TimeoutSecs is the timeout of tasks that set none; zero means
	// glacier.DefaultTimeout.
	TimeoutSecs int
}

// resolve fills in defaults.
func (o Options) resolve(spec *Spec, pipeline string) Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Region == "" {
		o.Region = spec.DefaultRegion
	}
	if o.Prefix == "" {
		o.Prefix, o.defaultPrefix = plan.DefaultPrefix(pipeline), true
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.Dir, ".glacier", spec.Name)
	}
	return o
}

// check reports the shared options' problems, of kind "option".
func (o Options) check(spec *Spec, report plan.Report) {
	errorf := func(name string) func(string, ...any) { return report(glacier.Error, "option", name) }
	if err := plan.CheckPrefix(o.Prefix); err != nil {
		if o.defaultPrefix {
			errorf("prefix")("%v; the default is the pipeline's name, so set one (glacier compile --prefix)", err)
		} else {
			errorf("prefix")("%v", err)
		}
	}
	switch d := o.Serverless; {
	case d.MemoryMiB < 0:
		errorf("defaults")("serverless memory %d MiB is negative; leave it 0 for glacier's default", d.MemoryMiB)
	case d.MemoryMiB > 0:
		if _, err := spec.Memory.Function(d.MemoryMiB); err != nil {
			errorf("defaults")("serverless %v", err)
		}
	}
	if d := o.Serverless; d.TimeoutSecs < 0 || d.TimeoutSecs > spec.MaxTimeoutSecs {
		errorf("defaults")("serverless timeout %d s is outside the 1 to %d s a task may have on %s", d.TimeoutSecs, spec.MaxTimeoutSecs, spec.Cloud)
	}
	tags := spec.Tagging
	if len(o.Tags) > tags.Max {
		errorf(tags.Word+"s")("%d %ss; a resource takes %d besides the two the compiler sets", len(o.Tags), tags.Word, tags.Max)
	}
	for _, k := range slices.Sorted(maps.Keys(o.Tags)) {
		if msg := tags.Check(k, o.Tags[k]); msg != "" {
			errorf(tags.Word+"s")("%s %q: %s", tags.Word, k, msg)
		}
	}
}

// limits are a serverless task's limits with the defaults of d applied
// where the task sets none.
func (d ServerlessDefaults) limits(sl glacier.Serverless) glacier.Limits {
	l := glacier.LimitsOf(sl)
	if sl.Memory == 0 && d.MemoryMiB != 0 {
		l.MemoryMiB = d.MemoryMiB
	}
	if sl.Timeout == 0 && d.TimeoutSecs != 0 {
		l.TimeoutSecs = d.TimeoutSecs
	}
	return l
}
