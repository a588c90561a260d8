package glacier

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/schema"
)

// NameRule says what a valid pipeline, dataset or task name looks like.
// Names become parts of cloud resource names (S3 and Cloud Storage buckets,
// Lambda functions, IAM roles, service accounts) once a compiler prefixes
// them, and this rule keeps them valid everywhere.
const NameRule = "a name must start with a lowercase letter, contain only lowercase letters, digits, '_' and '-', " +
	"end with a letter or digit, and be at most 40 characters long"

var nameRE = regexp.MustCompile(`^[a-z]([a-z0-9_-]{0,38}[a-z0-9])?$`)

// CheckName reports whether name follows NameRule.
func CheckName(name string) error {
	if name == "" {
		return errors.New("name is empty; " + NameRule)
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid name %q: %s", name, NameRule)
	}
	return nil
}

// Severity ranks a Problem.
type Severity int

// Severities.
const (
	// Error problems stop the pipeline from running or compiling.
	Error Severity = iota
	// Warning problems are reported but do not stop anything.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Problem is one thing Validate found wrong, naming its culprit and the fix.
type Problem struct {
	Severity Severity
	// Kind and Name identify the culprit: Kind is "pipeline", "dataset" or
	// "task"; Name is empty for the pipeline itself.
	Kind, Name string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// String formats the problem as `task "clean": <msg>`.
func (p Problem) String() string {
	if p.Name == "" {
		return fmt.Sprintf("%s: %s", p.Kind, p.Msg)
	}
	return fmt.Sprintf("%s %q: %s", p.Kind, p.Name, p.Msg)
}

// Problems is every problem Validate found, errors first.
type Problems []Problem

// Errors returns only the error problems.
func (ps Problems) Errors() Problems {
	return slices.DeleteFunc(slices.Clone(ps), func(p Problem) bool { return p.Severity != Error })
}

// Warnings returns only the warning problems.
func (ps Problems) Warnings() Problems {
	return slices.DeleteFunc(slices.Clone(ps), func(p Problem) bool { return p.Severity != Warning })
}

// Err returns a *ValidationError holding the error problems, or nil if there
// are none.
func (ps Problems) Err() error {
	if errs := ps.Errors(); len(errs) > 0 {
		return &ValidationError{Problems: errs}
	}
	return nil
}

// ValidationError is returned when a pipeline has error problems.
type ValidationError struct {
	Problems Problems
}

// Error lists every problem, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("pipeline is invalid (%d problems):\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// Validate checks the whole pipeline and returns every problem at once:
// invalid names, cycles, datasets with no producer or two producers, tasks
// that use undeclared datasets or have no module, bad compute settings,
// unknown storage or compute types, and (as warnings) provider hints with an
// unknown prefix.
func (p *Pipeline) Validate() Problems {
	v := &validator{p: p}
	v.run()
	sort.SliceStable(v.out, func(i, j int) bool { return v.out[i].Severity < v.out[j].Severity })
	return v.out
}

type validator struct {
	p   *Pipeline
	out Problems
}

func (v *validator) errorf(kind, name, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: Error, Kind: kind, Name: name, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) warnf(kind, name, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: Warning, Kind: kind, Name: name, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) run() {
	p := v.p
	if err := CheckName(p.name); err != nil {
		v.errorf("pipeline", "", "%v", err)
	}
	if len(p.tasks) == 0 {
		v.errorf("pipeline", "", "it has no tasks; add one under tasks:")
	}
	seen := map[string]bool{}
	for _, d := range p.datasets {
		v.name("dataset", d.Name, seen)
		v.storage(d)
		v.schema(d)
	}
	seen = map[string]bool{}
	for _, t := range p.tasks {
		v.name("task", t.Name, seen)
		v.task(t)
	}
	v.flow()
	v.partitions()
	v.cycles()
}

func (v *validator) name(kind, name string, seen map[string]bool) {
	if err := CheckName(name); err != nil {
		v.errorf(kind, name, "%v", err)
	}
	if seen[name] {
		v.errorf(kind, name, "declared twice; rename one of them")
	}
	seen[name] = true
}

func (v *validator) storage(d Dataset) {
	switch s := d.Storage.(type) {
	case nil:
		v.errorf("dataset", d.Name, "has no storage; set storage: {type: object}")
	case ObjectStorage:
		if s.AccessPattern != "" && !slices.Contains(accessPatterns, s.AccessPattern) {
			v.errorf("dataset", d.Name, "unknown access_pattern %q; use one of %s", s.AccessPattern, joinQuoted(accessPatterns))
		}
		v.nonNegative("dataset", d.Name, "retention_days", s.RetentionDays)
	case Database:
		v.nonNegative("dataset", d.Name, "retention_days", s.RetentionDays)
		v.notRunnable(d.Name, s)
	case Cache:
		v.nonNegative("dataset", d.Name, "ttl_seconds", s.TTLSeconds)
		v.notRunnable(d.Name, s)
	case Queue:
		v.nonNegative("dataset", d.Name, "retention_days", s.RetentionDays)
		v.notRunnable(d.Name, s)
	default:
		v.errorf("dataset", d.Name, "unknown storage type %T; use object, database, cache or queue", s)
	}
	if d.Storage != nil {
		v.hints("dataset", d.Name, d.Storage.ProviderHints())
	}
}

// schema checks a dataset's contract compiles.
func (v *validator) schema(d Dataset) {
	if d.Schema == nil {
		return
	}
	if _, err := schema.Compile(d.Schema); err != nil {
		if d.SchemaFile != "" {
			err = fmt.Errorf("%s: %w", d.SchemaFile, err)
		}
		v.errorf("dataset", d.Name, "%v", err)
	}
}

// notRunnable refuses a storage kind the model declares but nothing runs
// yet, so a pipeline using one fails here instead of silently becoming
// files under glacier run.
func (v *validator) notRunnable(dataset string, s Storage) {
	v.errorf("dataset", dataset, "has %s storage, which nothing runs yet: glacier run and the cloud compilers keep datasets as objects; "+
		"use storage: {type: object}", s.StorageType())
}

func (v *validator) task(t Task) {
	switch {
	case t.Build == "" && t.Module == "":
		v.errorf("task", t.Name, "has no module; set build: to a Go main package (./tasks/%s) or module: to a .wasm file", t.Name)
	case t.Build != "" && t.Module != "":
		v.errorf("task", t.Name, "sets both build: and module:; keep one")
	case t.Module != "" && !strings.HasSuffix(t.Module, ".wasm"):
		v.errorf("task", t.Name, "module %q is not a .wasm file; point module: at a WASI module, or use build: for a Go package", t.Module)
	}
	if len(t.Outputs) == 0 {
		v.errorf("task", t.Name, "has no outputs; a task's only effect is the datasets it writes, so declare at least one under outputs:")
	}
	for _, list := range []struct {
		field string
		names []string
	}{{"inputs", t.Inputs}, {"outputs", t.Outputs}} {
		dup := map[string]bool{}
		for _, name := range list.names {
			if dup[name] {
				v.errorf("task", t.Name, "lists dataset %q twice in %s; remove one", name, list.field)
			}
			dup[name] = true
		}
	}
	if t.Retries < 0 {
		v.errorf("task", t.Name, "retries is %d; it must be zero or more", t.Retries)
	}
	for k := range t.Params {
		if k == "" {
			v.errorf("task", t.Name, "has a param with an empty name")
		}
	}
	v.compute(t)
}

func (v *validator) compute(t Task) {
	positive := func(field string, n int) {
		if n < 0 {
			v.errorf("task", t.Name, "compute %s is %d; it must be positive", field, n)
		}
	}
	switch c := t.Compute.(type) {
	case nil:
	case Local:
		positive("workers", c.Workers)
		positive("memory", c.Memory)
		positive("timeout", c.Timeout)
	case Container:
		if c.CPU < 0 {
			v.errorf("task", t.Name, "compute cpu is %g; it must be positive", c.CPU)
		}
		positive("memory", c.Memory)
		positive("timeout", c.Timeout)
		v.errorf("task", t.Name, "has container compute, which nothing runs yet; use compute: {type: serverless} (or local) "+
			"to run the same module")
	case Serverless:
		positive("memory", c.Memory)
		positive("timeout", c.Timeout)
	default:
		v.errorf("task", t.Name, "unknown compute type %T; use local, container or serverless", c)
	}
	if t.Compute != nil {
		b := LimitsOf(t.Compute).Compile
		positive("compile_memory", b.MemoryMiB)
		positive("compile_timeout", b.TimeoutSecs)
		v.hints("task", t.Name, t.Compute.ProviderHints())
	}
}

func (v *validator) nonNegative(kind, name, field string, n int) {
	if n < 0 {
		v.errorf(kind, name, "%s is %d; it must be zero or more", field, n)
	}
}

func (v *validator) hints(kind, name string, h Hints) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		prefix, _, ok := strings.Cut(k, "_")
		if !ok || !slices.Contains(knownHintPrefixes, prefix) {
			v.warnf(kind, name, "provider hint %q has an unknown prefix; hints start with %s and only that provider's compiler reads them",
				k, strings.Join(knownHintPrefixes, "_, ")+"_")
		}
	}
}

// maxSuggestions bounds how many undeclared names get a "did you mean":
// each costs a pass over every dataset name, and past a few the rest are
// the same mistake.
const maxSuggestions = 32

// flow checks who reads and writes each dataset.
func (v *validator) flow() {
	p := v.p
	var names []string
	suggested := 0
	undeclared := func(name string) string {
		if suggested == maxSuggestions {
			return ""
		}
		suggested++
		if names == nil {
			names = make([]string, len(p.datasets))
			for i, d := range p.datasets {
				names[i] = d.Name
			}
		}
		return suggest.DidYouMean(name, names)
	}
	for _, t := range p.tasks {
		for _, in := range t.Inputs {
			if _, ok := p.datasetAt[in]; !ok {
				v.errorf("task", t.Name, "reads dataset %q, which is not declared%s; declare it under datasets: or fix the name", in, undeclared(in))
			}
		}
		for _, out := range t.Outputs {
			if _, ok := p.datasetAt[out]; !ok {
				v.errorf("task", t.Name, "writes dataset %q, which is not declared%s; declare it under datasets: or fix the name", out, undeclared(out))
			}
		}
	}
	taskNames := func(at []int) []string {
		out := make([]string, len(at))
		for i, t := range at {
			out[i] = p.tasks[t].Name
		}
		return out
	}
	for _, d := range p.datasets {
		prods, readers := p.writers[d.Name], p.readers[d.Name]
		switch {
		case len(prods) > 1:
			v.errorf("dataset", d.Name, "has %d producers (%s); a dataset is written by one task, so give each its own output",
				len(prods), joinQuoted(taskNames(prods)))
		case len(prods) == 1 && d.Source != "":
			v.errorf("dataset", d.Name, "has a source (%s) and is also written by task %q; drop the source or write another dataset",
				d.Source, p.tasks[prods[0]].Name)
		case len(prods) == 0 && d.Source == "" && len(readers) > 0:
			v.errorf("dataset", d.Name, "is read by %s but nothing produces it and it has no source; add source: or a task that writes it",
				taskList(taskNames(readers)))
		case len(prods) == 0 && d.Source == "":
			v.errorf("dataset", d.Name, "is neither produced nor read and has no source; remove it or connect it to a task")
		}
	}
}

// cycles reports each cycle of the task graph once, as a path of task
// names. The search keeps its own stack, so a chain of a million tasks
// does not nest a million calls.
func (v *validator) cycles() {
	p := v.p
	downstream := make([][]int, len(p.tasks)) // task -> tasks that read its outputs
	for i, t := range p.tasks {
		for _, in := range t.Inputs {
			for _, w := range p.writers[in] {
				downstream[w] = appendOnce(downstream[w], i)
			}
		}
	}
	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]int, len(p.tasks))
	type frame struct{ task, next int }
	var stack []frame
	for root := range p.tasks {
		if state[root] != unvisited {
			continue
		}
		state[root] = onStack
		stack = append(stack[:0], frame{task: root})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == len(downstream[top.task]) {
				state[top.task] = done
				stack = stack[:len(stack)-1]
				continue
			}
			n := downstream[top.task][top.next]
			top.next++
			switch state[n] {
			case unvisited:
				state[n] = onStack
				stack = append(stack, frame{task: n})
			case onStack:
				start := slices.IndexFunc(stack, func(f frame) bool { return f.task == n })
				path := make([]string, 0, len(stack)-start+1)
				for _, f := range stack[start:] {
					path = append(path, p.tasks[f.task].Name)
				}
				path = append(path, p.tasks[n].Name)
				v.errorf("pipeline", "", "cycle: %s; a task cannot depend on its own outputs, so break the loop",
					strings.Join(path, " -> "))
			}
		}
	}
}

func joinQuoted[S ~string](items []S) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", string(s))
	}
	return strings.Join(q, ", ")
}

func taskList(names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("task %q", names[0])
	}
	return "tasks " + joinQuoted(names)
}

// partitions checks map tasks against the datasets they read and write.
func (v *validator) partitions() {
	p := v.p
	partitioned := func(name string) (known, ok bool) {
		i, known := p.datasetAt[name]
		return known, known && p.datasets[i].Partitioned
	}
	for _, t := range p.tasks {
		if t.ToleratedFailures != 0 && t.Map == "" {
			v.errorf("task", t.Name, "sets tolerated_failures but maps over nothing; only a map task's parts can fail apart, so add map: or remove it")
		}
		if t.MaxConcurrency != 0 && t.Map == "" {
			v.errorf("task", t.Name, "sets max_concurrency but maps over nothing; it bounds how many parts run at once, so add map: or remove it")
		}
		if t.MapBatch != 0 && t.Map == "" {
			v.errorf("task", t.Name, "sets map_batch but maps over nothing; it says how many parts one cloud invocation runs, so add map: or remove it")
		}
		if t.MapBatch < 0 || t.MapBatch > MaxMapBatch {
			v.errorf("task", t.Name, "map_batch is %d; it must be 1 to %d", t.MapBatch, MaxMapBatch)
		}
		if t.MaxConcurrency < 0 {
			v.errorf("task", t.Name, "max_concurrency is %d; it must be positive", t.MaxConcurrency)
		}
		if t.ToleratedFailures < 0 || t.ToleratedFailures >= 100 {
			v.errorf("task", t.Name, "tolerated_failures is %g%%; it must be at least 0%% and under 100%%", t.ToleratedFailures)
		}
		if t.Map == "" {
			continue
		}
		if !slices.Contains(t.Inputs, t.Map) {
			v.errorf("task", t.Name, "maps over %q, which is not one of its inputs%s; map: names the partitioned input whose parts the task runs once each",
				t.Map, suggest.DidYouMean(t.Map, t.Inputs))
			continue
		}
		if known, ok := partitioned(t.Map); known && !ok {
			v.errorf("task", t.Name, "maps over %q, which is not partitioned; set partitioned: true on dataset %q, or remove map:", t.Map, t.Map)
		}
		for _, out := range t.Outputs {
			if known, ok := partitioned(out); known && !ok {
				v.errorf("task", t.Name, "maps over %q, so it writes each output once per part, but output %q is not partitioned; set partitioned: true on it",
					t.Map, out)
			}
		}
	}
}
