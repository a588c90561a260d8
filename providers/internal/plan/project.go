package plan

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
)

// Modules returns every task's module by task name: those in given, or,
// when given is nil, those build.Modules builds with dir as the project
// directory. A task missing from a non-nil given is an error.
func Modules(ctx context.Context, p *glacier.Pipeline, dir string, given map[string]build.Module) (map[string]build.Module, error) {
	out := map[string]build.Module{}
	if given == nil {
		mods, err := build.Modules(ctx, p, build.Options{Dir: dir})
		if err != nil {
			return nil, err
		}
		for _, m := range mods {
			out[m.Task] = m
		}
		return out, nil
	}
	for _, t := range p.Tasks() {
		m, ok := given[t.Name]
		if !ok {
			return nil, fmt.Errorf("Options.Modules has no module for task %q; build it (glacier build) or leave Modules nil", t.Name)
		}
		m.Task = t.Name
		out[t.Name] = m
	}
	return out, nil
}

// SourceFile is where a compiled project keeps its copy of d's source,
// slash-separated: sources/<dataset>/<file name>, or, for a partitioned
// source, the folder sources/<dataset> holding each part at its key. It is
// empty when d has no source.
func (d Dataset) SourceFile() string {
	switch {
	case d.Source == "":
		return ""
	case d.Partitioned:
		return path.Join("sources", d.Name)
	}
	return path.Join("sources", d.Name, path.Base(filepath.ToSlash(d.Source)))
}

// PartListFile is where a compiled project keeps the part list of d's
// partitioned source (see fnspec.PartEntry), which the program uploads as
// the dataset's object; empty unless d is a partitioned source.
func (d Dataset) PartListFile() string {
	if d.Source == "" || !d.Partitioned {
		return ""
	}
	return path.Join("sources", d.Name+".parts.json")
}

// SourcePath is d's source in the local file system, for a pipeline whose
// project directory is dir, resolved by glacier.SourcePath, the rule
// glacier run applies too; "" if d breaks it (CheckSource says how).
func (d Dataset) SourcePath(dir string) string {
	p, _ := glacier.SourcePath(dir, d.Dataset)
	return p
}

// CheckSource returns a message if d has a source that glacier.CheckSource
// refuses (not a regular file, or a folder of them for a partitioned
// dataset; or outside the project directory dir) or that breaks its
// dataset's contract (glacier.CheckSourceContract), and "" otherwise.
func (d Dataset) CheckSource(dir string) string {
	if d.Source == "" {
		return ""
	}
	if err := glacier.CheckSource(dir, d.Dataset); err != nil {
		return err.Error()
	}
	// What a compiler uploads keeps its contract, as glacier run checks
	// what it imports.
	if err := glacier.CheckSourceContract(dir, d.Dataset); err != nil {
		return err.Error()
	}
	return ""
}

// UnknownHints returns a warning for each hint in h that starts with
// prefix ("aws_") but is not in known, sorted by hint. target names the
// cloud ("AWS") and kind what the hints are on ("task", "dataset").
func UnknownHints(h glacier.Hints, target, prefix, kind string, known []string) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		if strings.HasPrefix(k, prefix) && !slices.Contains(known, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		if len(known) == 0 {
			out[i] = fmt.Sprintf("the %s compiler knows no %s hints and ignores %q", target, kind, k)
			continue
		}
		out[i] = fmt.Sprintf("the %s compiler does not know the hint %q and ignores it; it knows %s", target, k, strings.Join(known, ", "))
	}
	return out
}

// Compilation is the result of a compilation for target into dir: one
// artifact per task, and probs' warnings.
func Compilation(target, dir string, artifacts []glacier.Artifact, probs glacier.Problems) *glacier.Compilation {
	out := &glacier.Compilation{Target: target, Dir: dir, Artifacts: artifacts}
	for _, w := range probs.Warnings() {
		out.Warnings = append(out.Warnings, w.String())
	}
	return out
}
