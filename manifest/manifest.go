// Package manifest reads and writes glacier.yaml, the file form of a
// glacier.Pipeline. It maps one-to-one onto the Go model: every dataset,
// task, storage and compute setting has exactly one spelling, and unknown
// keys are errors that name their line and, where one is close, the key that
// was meant. docs/manifest.md is the reference and docs/glacier.schema.json
// the JSON Schema editors can use.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/regfile"
	"github.com/glacier-pipeline/glacier/internal/suggest"
	"go.yaml.in/yaml/v3"
)

// DefaultFile is the manifest's name in a project directory.
const DefaultFile = "glacier.yaml"

// Manifest is a parsed glacier.yaml.
type Manifest struct {
	// Path is the file the manifest was read from, as given.
	Path string
	// Dir is the project directory: relative paths in the manifest (build,
	// module, source) are relative to it.
	Dir      string
	Pipeline *glacier.Pipeline
	lines    map[string]int // "task/clean" -> line of its key
}

// Issue is one problem in a manifest, with the line it is on (0 if none).
type Issue struct {
	Line int
	Msg  string
}

// Error holds every structural problem found while parsing a manifest.
type Error struct {
	File   string
	Issues []Issue
}

// Error lists every issue as "file:line: message", one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = position(e.File, is.Line) + is.Msg
	}
	return strings.Join(lines, "\n")
}

func position(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d: ", file, line)
	}
	return file + ": "
}

// Load reads and parses the manifest at path.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no manifest at %s; run glacier init, or point -C or -f at a project", path)
		}
		return nil, err
	}
	m, err := Parse(path, data)
	if m != nil {
		abs, aerr := filepath.Abs(filepath.Dir(path))
		if aerr != nil {
			return nil, aerr
		}
		m.Dir = abs
	}
	return m, err
}

// Parse parses a manifest. On structural problems (bad YAML, unknown keys,
// values of the wrong type) it returns an *Error listing all of them, and
// also the Manifest as far as it could be read, so callers can report the
// pipeline's own problems in the same pass.
func Parse(file string, data []byte) (*Manifest, error) {
	p := &parser{file: file, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: file, Issues: []Issue{syntaxIssue(data, err)}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: file, Issues: []Issue{{Msg: "the manifest is empty; it needs at least name: and tasks:"}}}
	}
	p.duplicates(doc.Content[0])
	pl := p.pipeline(doc.Content[0])
	m := &Manifest{Path: file, Pipeline: pl, lines: p.lines}
	if len(p.issues) > 0 {
		return m, &Error{File: file, Issues: p.issues}
	}
	return m, nil
}

// Diagnostics validates the pipeline and formats each problem with its
// manifest position, errors first: "glacier.yaml:12: task "clean": ...".
func (m *Manifest) Diagnostics() (errs, warnings []string) {
	for _, pr := range m.Pipeline.Validate() {
		s := position(m.Path, m.Line(pr.Kind, pr.Name)) + pr.String()
		if pr.Severity == glacier.Error {
			errs = append(errs, s)
		} else {
			warnings = append(warnings, s)
		}
	}
	return errs, warnings
}

// FileDiagnostics checks the files the manifest names, for a manifest read
// from a file (Dir set): every source, as glacier.CheckSource does, and
// against its dataset's contract, every build: directory and every module:
// file, so validate reports what run and the compilers would refuse. Each problem has its position, as in
// Diagnostics.
func (m *Manifest) FileDiagnostics() []string {
	if m.Dir == "" {
		return nil
	}
	var errs []string
	for _, d := range m.Pipeline.Datasets() {
		if d.Source == "" {
			continue
		}
		if err := glacier.CheckSource(m.Dir, d); err != nil {
			errs = append(errs, fmt.Sprintf("%sdataset %q: %v", position(m.Path, m.Line("dataset", d.Name)), d.Name, err))
		} else if err := glacier.CheckSourceContract(m.Dir, d); err != nil {
			errs = append(errs, fmt.Sprintf("%s%v", position(m.Path, m.Line("dataset", d.Name)), err))
		}
	}
	for _, t := range m.Pipeline.Tasks() {
		at := position(m.Path, m.Line("task", t.Name))
		switch {
		case t.Build != "":
			if fi, err := os.Stat(m.Resolve(t.Build)); err != nil || !fi.IsDir() {
				errs = append(errs, fmt.Sprintf("%stask %q: build: %s is not a directory (looked for %s); point build: at a Go main package", at, t.Name, t.Build, m.Resolve(t.Build)))
			}
		case t.Module != "":
			if _, err := regfile.Check(m.Resolve(t.Module)); errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Sprintf("%stask %q: module: %s does not exist (looked for %s); point module: at a .wasm file", at, t.Name, t.Module, m.Resolve(t.Module)))
			} else if err != nil {
				errs = append(errs, fmt.Sprintf("%stask %q: module: %v; point module: at a .wasm file", at, t.Name, err))
			}
		}
	}
	return errs
}

// Line returns the line where the named dataset or task is declared, or 0.
func (m *Manifest) Line(kind, name string) int {
	if name == "" {
		return m.lines[kind]
	}
	return m.lines[kind+"/"+name]
}

// Resolve returns a manifest-relative path as an absolute one.
func (m *Manifest) Resolve(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(m.Dir, filepath.FromSlash(rel))
}

// syntaxIssue locates a YAML syntax error. yaml.v3 reports the line where
// the enclosing construct starts, counted from zero, not the line at
// fault, so the line is found here: the first line from which every
// longer prefix of the document fails to parse (an unclosed brace fails
// only once the document can no longer close it).
func syntaxIssue(data []byte, err error) Issue {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, m, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l+1, m
			}
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return Issue{Msg: msg}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	// Scan back from the end while prefixes fail; the search is bounded,
	// so a huge manifest costs a bounded number of parses.
	const maxScan = 400
	for k := len(lines) - 1; k >= 0 && len(lines)-k <= maxScan; k-- {
		var n yaml.Node
		if yaml.Unmarshal(bytes.Join(lines[:k], nil), &n) == nil {
			line = k + 1
			break
		}
	}
	return Issue{Line: line, Msg: msg}
}

// Keys each mapping accepts. schema_test.go keeps docs/glacier.schema.json
// in step with these tables.
var (
	topKeys     = []string{"name", "datasets", "tasks"}
	datasetKeys = []string{"storage", "source", "source_outside_project", "partitioned", "schema"}
	taskKeys    = []string{"build", "module", "inputs", "outputs", "compute", "params", "retries", "map", "tolerated_failures", "max_concurrency", "map_batch"}
	storageKeys = map[string][]string{
		"object":   {"type", "access_pattern", "versioning", "encryption", "retention_days"},
		"database": {"type", "encryption", "retention_days"},
		"cache":    {"type", "ttl_seconds"},
		"queue":    {"type", "encryption", "retention_days"},
	}
	computeKeys = map[string][]string{
		"local":      {"type", "workers", "memory", "timeout", "compile_memory", "compile_timeout"},
		"container":  {"type", "image", "cpu", "memory", "timeout", "compile_memory", "compile_timeout"},
		"serverless": {"type", "memory", "timeout", "compile_memory", "compile_timeout"},
	}
)

type parser struct {
	file   string
	issues []Issue
	lines  map[string]int
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.issues = append(p.issues, Issue{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// entry is one key: value pair of a mapping.
type entry struct {
	key, val *yaml.Node
}

// mapping returns the pairs of a mapping node in order, reporting keys not in
// allowed (what names where the mapping is, e.g. `task "clean"`). With hints
// set, provider-hint keys are returned separately instead of as errors.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string, hints bool) (map[string]entry, glacier.Hints) {
	out := map[string]entry{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of keys to values", what)
		return out, nil
	}
	var h glacier.Hints
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		switch {
		case slices.Contains(allowed, key):
			out[key] = entry{k, v}
		case hints && isHintKey(key, allowed):
			if v.Kind != yaml.ScalarNode {
				p.errorf(v, "provider hint %q in %s must be a single value", key, what)
				continue
			}
			if h == nil {
				h = glacier.Hints{}
			}
			h[key] = v.Value
		default:
			msg := fmt.Sprintf("unknown key %q in %s", key, what)
			if near := suggest.Closest(key, allowed); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += fmt.Sprintf("; allowed keys: %s", strings.Join(allowed, ", "))
				if hints {
					msg += ", and provider hints such as aws_storage_class"
				}
			}
			p.errorf(k, "%s", msg)
		}
	}
	return out, h
}

// isHintKey reports whether an unknown key is a provider hint: a key with a
// known provider prefix, or one shaped like a hint ("ibm_tier", warned about
// by validation) that is not a near miss of a real key.
func isHintKey(key string, allowed []string) bool {
	prefix, rest, ok := strings.Cut(key, "_")
	if !ok || prefix == "" || rest == "" || strings.ToLower(key) != key {
		return false
	}
	if slices.Contains(glacier.KnownHintPrefixes(), prefix) {
		return true
	}
	return suggest.Closest(key, allowed) == ""
}

func (p *parser) pipeline(root *yaml.Node) *glacier.Pipeline {
	top, _ := p.mapping(root, "the manifest", topKeys, false)
	name := ""
	if e, ok := top["name"]; ok {
		name = p.str(e.val, "name")
	} else {
		p.errorf(root, "the manifest has no name:; add name: followed by the pipeline's name")
	}
	pl := glacier.New(name)
	if e, ok := top["datasets"]; ok {
		p.lines["dataset"] = e.key.Line
		p.each(e.val, "datasets", func(k, v *yaml.Node) {
			p.lines["dataset/"+k.Value] = k.Line
			d := p.dataset(k.Value, v)
			if err := pl.AddDataset(d); err != nil {
				p.errorf(k, "%v", err)
			}
		})
	}
	if e, ok := top["tasks"]; ok {
		p.lines["task"] = e.key.Line
		p.lines["pipeline"] = e.key.Line
		p.each(e.val, "tasks", func(k, v *yaml.Node) {
			p.lines["task/"+k.Value] = k.Line
			t := p.task(k.Value, v)
			if err := pl.AddTask(t); err != nil {
				p.errorf(k, "%v", err)
			}
		})
	} else {
		p.errorf(root, "the manifest has no tasks:; add at least one task")
	}
	return pl
}

// duplicates reports every key given twice in one mapping, anywhere in the
// document: YAML would keep the last silently, and a task given outputs:
// twice would lose the first list without a word.
func (p *parser) duplicates(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				continue
			}
			if prev, dup := first[k.Value]; dup {
				p.errorf(k, "key %q is given twice in one mapping, on lines %d and %d; keep one", k.Value, prev.Line, k.Line)
				continue
			}
			first[k.Value] = k
		}
	}
	for _, c := range n.Content {
		p.duplicates(c)
	}
}

func (p *parser) each(n *yaml.Node, what string, fn func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping from names to definitions", what)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

func (p *parser) dataset(name string, n *yaml.Node) glacier.Dataset {
	what := fmt.Sprintf("dataset %q", name)
	d := glacier.Dataset{Name: name}
	fields, _ := p.mapping(n, what, datasetKeys, false)
	if e, ok := fields["source"]; ok {
		d.Source = p.str(e.val, what+" source")
	}
	d.SourceOutsideProject = p.optBool(fields, "source_outside_project", what)
	d.Partitioned = p.optBool(fields, "partitioned", what)
	if e, ok := fields["schema"]; ok {
		d.Schema, d.SchemaFile = p.datasetSchema(what, e.val)
	}
	if e, ok := fields["storage"]; ok {
		d.Storage = p.storage(what, e.val)
	} else {
		d.Storage = glacier.ObjectStorage{}
	}
	return d
}

func (p *parser) storage(owner string, n *yaml.Node) glacier.Storage {
	what := owner + " storage"
	typ, ok := p.kind(n, what, storageKeys)
	if !ok {
		return nil
	}
	f, hints := p.mapping(n, fmt.Sprintf("%s (type %s)", what, typ), storageKeys[typ], true)
	switch typ {
	case "object":
		s := glacier.ObjectStorage{Hints: hints}
		s.AccessPattern = glacier.AccessPattern(p.optStr(f, "access_pattern", what))
		s.Versioning = p.optBool(f, "versioning", what)
		s.Encryption = p.optBool(f, "encryption", what)
		s.RetentionDays = p.optInt(f, "retention_days", what, false)
		return s
	case "database":
		return glacier.Database{Hints: hints, Encryption: p.optBool(f, "encryption", what),
			RetentionDays: p.optInt(f, "retention_days", what, false)}
	case "cache":
		return glacier.Cache{Hints: hints, TTLSeconds: p.optInt(f, "ttl_seconds", what, true)}
	default: // queue
		return glacier.Queue{Hints: hints, Encryption: p.optBool(f, "encryption", what),
			RetentionDays: p.optInt(f, "retention_days", what, false)}
	}
}

func (p *parser) compute(owner string, n *yaml.Node) glacier.Compute {
	what := owner + " compute"
	typ, ok := p.kind(n, what, computeKeys)
	if !ok {
		return nil
	}
	f, hints := p.mapping(n, fmt.Sprintf("%s (type %s)", what, typ), computeKeys[typ], true)
	compile := glacier.CompileBudget{MemoryMiB: p.optInt(f, "compile_memory", what, true),
		TimeoutSecs: p.optInt(f, "compile_timeout", what, true)}
	switch typ {
	case "local":
		return glacier.Local{Hints: hints, Workers: p.optInt(f, "workers", what, true),
			Memory: p.optInt(f, "memory", what, true), Timeout: p.optInt(f, "timeout", what, true), Compile: compile}
	case "container":
		c := glacier.Container{Hints: hints, Image: p.optStr(f, "image", what),
			Memory: p.optInt(f, "memory", what, true), Timeout: p.optInt(f, "timeout", what, true), Compile: compile}
		if e, ok := f["cpu"]; ok {
			cpu, err := strconv.ParseFloat(e.val.Value, 64)
			switch {
			case e.val.Kind != yaml.ScalarNode || err != nil:
				p.errorf(e.val, "%s cpu must be a number of vCPUs, like 0.5 or 2", what)
			case cpu <= 0:
				p.errorf(e.val, "%s cpu is %s; it must be positive", what, e.val.Value)
			default:
				c.CPU = cpu
			}
		}
		return c
	default: // serverless
		return glacier.Serverless{Hints: hints, Memory: p.optInt(f, "memory", what, true),
			Timeout: p.optInt(f, "timeout", what, true), Compile: compile}
	}
}

// kind reads the type: key of a storage or compute mapping.
func (p *parser) kind(n *yaml.Node, what string, kinds map[string][]string) (string, bool) {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping with a type: (%s)", what, strings.Join(names, ", "))
		return "", false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "type" {
			continue
		}
		v := n.Content[i+1]
		if _, ok := kinds[v.Value]; !ok || v.Kind != yaml.ScalarNode {
			msg := fmt.Sprintf("%s has unknown type %q; use one of %s", what, v.Value, strings.Join(names, ", "))
			if near := suggest.Closest(v.Value, names); near != "" {
				msg = fmt.Sprintf("%s has unknown type %q; did you mean %q?", what, v.Value, near)
			}
			p.errorf(v, "%s", msg)
			return "", false
		}
		return v.Value, true
	}
	p.errorf(n, "%s has no type:; set type: to one of %s", what, strings.Join(names, ", "))
	return "", false
}

func (p *parser) task(name string, n *yaml.Node) glacier.Task {
	what := fmt.Sprintf("task %q", name)
	t := glacier.Task{Name: name}
	f, _ := p.mapping(n, what, taskKeys, false)
	t.Build = p.optStr(f, "build", what)
	t.Module = p.optStr(f, "module", what)
	t.Inputs = p.optList(f, "inputs", what)
	t.Outputs = p.optList(f, "outputs", what)
	t.Retries = p.optInt(f, "retries", what, false)
	t.Map = p.optStr(f, "map", what)
	t.MaxConcurrency = p.optInt(f, "max_concurrency", what, true)
	t.MapBatch = p.optInt(f, "map_batch", what, true)
	if e, ok := f["tolerated_failures"]; ok {
		t.ToleratedFailures = p.percent(e.val, what+" tolerated_failures")
	}
	if e, ok := f["compute"]; ok {
		t.Compute = p.compute(what, e.val)
	}
	if e, ok := f["params"]; ok {
		if e.val.Kind != yaml.MappingNode {
			p.errorf(e.val, "%s params must be a mapping of names to values", what)
		} else {
			t.Params = map[string]string{}
			for i := 0; i+1 < len(e.val.Content); i += 2 {
				k, v := e.val.Content[i], e.val.Content[i+1]
				if v.Kind != yaml.ScalarNode {
					p.errorf(v, "%s param %q must be a single value (a string, number or boolean)", what, k.Value)
					continue
				}
				t.Params[k.Value] = v.Value
			}
		}
	}
	return t
}

// percent reads a percentage written "5%" (or a bare number, "5").
func (p *parser) percent(n *yaml.Node, what string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(n.Value, "%")), 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		p.errorf(n, "%s must be a percentage, like 5%%, got %q", what, n.Value)
		return 0
	}
	return v
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string", what)
		return ""
	}
	return n.Value
}

func (p *parser) optStr(f map[string]entry, key, what string) string {
	if e, ok := f[key]; ok {
		return p.str(e.val, what+" "+key)
	}
	return ""
}

func (p *parser) optBool(f map[string]entry, key, what string) bool {
	e, ok := f[key]
	if !ok {
		return false
	}
	var b bool
	if e.val.Kind != yaml.ScalarNode || e.val.Decode(&b) != nil {
		p.errorf(e.val, "%s %s must be true or false, got %q", what, key, e.val.Value)
	}
	return b
}

// optInt reads an integer; an explicit value must be positive, or zero or
// more when positive is false.
func (p *parser) optInt(f map[string]entry, key, what string, positive bool) int {
	e, ok := f[key]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(e.val.Value)
	switch {
	case e.val.Kind != yaml.ScalarNode || err != nil:
		p.errorf(e.val, "%s %s must be a whole number, got %q", what, key, e.val.Value)
		return 0
	case positive && n <= 0:
		p.errorf(e.val, "%s %s is %d; it must be positive", what, key, n)
		return 0
	case n < 0:
		p.errorf(e.val, "%s %s is %d; it must be zero or more", what, key, n)
		return 0
	}
	return n
}

func (p *parser) optList(f map[string]entry, key, what string) []string {
	e, ok := f[key]
	if !ok {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		p.errorf(e.val, "%s %s must be a list of dataset names, like [raw_orders]", what, key)
		return nil
	}
	out := make([]string, 0, len(e.val.Content))
	for _, item := range e.val.Content {
		if s := p.str(item, fmt.Sprintf("%s %s entry", what, key)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
