package fnspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
)

// TaskSpec is what a function needs to know about the task it runs. It is
// written into the artifact as SpecFile.
type TaskSpec struct {
	// ABI is the host ABI version the module was built for.
	ABI int `json:"abi"`
	// Pipeline and Task name the pipeline and the task.
	Pipeline string `json:"pipeline"`
	Task     string `json:"task"`
	// ModuleSHA256 is the hex SHA-256 of ModuleFile.
	ModuleSHA256 string `json:"module_sha256"`
	// Params are the task's parameters.
	Params map[string]string `json:"params,omitempty"`
	// Inputs and Outputs are the datasets the task reads and writes.
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	// MemoryMiB is the task's memory: the most its sandbox may use.
	MemoryMiB int `json:"memory_mib"`
	// TimeoutSecs is the task's timeout in seconds.
	TimeoutSecs int `json:"timeout_s"`
	// CompileMemoryMiB and CompileTimeoutSecs are the task's compile budget
	// (glacier.CompileBudget); zero means the sandbox's default. The
	// function's own memory caps it further.
	CompileMemoryMiB   int `json:"compile_memory_mib,omitempty"`
	CompileTimeoutSecs int `json:"compile_timeout_s,omitempty"`
	// Partitioned names the inputs and outputs that are partitioned: their
	// URLs name part lists (see PartEntry).
	Partitioned []string `json:"partitioned,omitempty"`
	// Map is the partitioned input a map task runs over, once per part;
	// empty for a task that does not map. A map task is invoked per batch
	// of parts and then once to commit (see Request).
	Map string `json:"map,omitempty"`
	// MapBatch is how many parts a Request's Batch holds.
	MapBatch int `json:"map_batch,omitempty"`
	// ToleratedFailures is the percentage of a map task's parts that may
	// fail with its outputs still committed (see Tolerated).
	ToleratedFailures float64 `json:"tolerated_failures,omitempty"`
	// Producers names, for each input some task writes, that task; an
	// input it does not name is a source. With a store (StateEnv), the
	// function finds each input's current version through its producer's
	// ref or the source's record.
	Producers map[string]string `json:"producers,omitempty"`
	// Schemas holds, by output, the contract of its dataset (a JSON
	// object, as package schema encodes it): the runtime validates what
	// the task writes against it before anything is committed. This
	// package does not read it, so the compilers link no validator.
	Schemas map[string]json.RawMessage `json:"schemas,omitempty"`
	// Retire names the outputs whose replaced versions the runtime moves
	// to the store's retired names once its commit replaced them, for the
	// bucket's lifecycle rule to expire (store.Retire); the others' are
	// kept.
	Retire []string `json:"retire,omitempty"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate reports every problem with the spec at once.
func (s TaskSpec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.ABI != abi.Version {
		bad("abi is %d, but this runtime speaks host ABI version %d; rebuild the function with a matching glacier", s.ABI, abi.Version)
	}
	if s.Pipeline == "" {
		bad("pipeline is empty")
	}
	if s.Task == "" {
		bad("task is empty")
	}
	if !sha256Hex.MatchString(s.ModuleSHA256) {
		bad("module_sha256 %q is not a hex SHA-256", s.ModuleSHA256)
	}
	seen := map[string]string{}
	for _, set := range []struct {
		kind  string
		names []string
	}{{"input", s.Inputs}, {"output", s.Outputs}} {
		for _, n := range set.names {
			switch {
			case n == "" || len(n) > abi.MaxNameLen || !utf8.ValidString(n):
				bad("%s name %q must be 1 to %d bytes of UTF-8", set.kind, n, abi.MaxNameLen)
			case seen[n] != "":
				bad("dataset %q is declared twice (as %s and %s)", n, seen[n], set.kind)
			}
			seen[n] = set.kind
		}
	}
	if s.MemoryMiB <= 0 {
		bad("memory_mib is %d; it must be positive", s.MemoryMiB)
	}
	if s.TimeoutSecs <= 0 {
		bad("timeout_s is %d; it must be positive", s.TimeoutSecs)
	}
	if s.CompileMemoryMiB < 0 {
		bad("compile_memory_mib is %d; it must be positive", s.CompileMemoryMiB)
	}
	for _, n := range s.Partitioned {
		if seen[n] == "" {
			bad("partitioned dataset %q is neither an input nor an output", n)
		}
	}
	if s.Map != "" && (seen[s.Map] != "input" || !slices.Contains(s.Partitioned, s.Map)) {
		bad("map %q is not a partitioned input", s.Map)
	}
	if s.Map != "" {
		for _, n := range s.Outputs {
			if !slices.Contains(s.Partitioned, n) {
				bad("output %q of a map task is not partitioned", n)
			}
		}
	}
	if s.Map != "" && s.MapBatch <= 0 {
		bad("map_batch is %d; a map task's must be positive", s.MapBatch)
	}
	for _, n := range slices.Sorted(maps.Keys(s.Producers)) {
		if seen[n] != "input" {
			bad("producers names %q, which is not an input", n)
		}
	}
	if s.ToleratedFailures < 0 || s.ToleratedFailures > 100 {
		bad("tolerated_failures is %g; it must be a percentage, 0 to 100", s.ToleratedFailures)
	}
	if s.CompileTimeoutSecs < 0 {
		bad("compile_timeout_s is %d; it must be positive", s.CompileTimeoutSecs)
	}
	for _, n := range slices.Sorted(maps.Keys(s.Schemas)) {
		if seen[n] != "output" {
			bad("schemas names %q, which is not one of the outputs %q", n, s.Outputs)
		} else if raw := bytes.TrimSpace(s.Schemas[n]); len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
			bad("schemas of %q is not a JSON object", n)
		}
	}
	for _, n := range s.Retire {
		if seen[n] != "output" {
			bad("retire names %q, which is not one of the outputs %q", n, s.Outputs)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("task spec of %q: %w", s.Task, err)
	}
	return nil
}

// Encode returns the spec as indented JSON. The bytes depend only on the
// spec (map keys are sorted), so artifacts holding them are reproducible.
func (s TaskSpec) Encode() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("task spec of %q: %w", s.Task, err)
	}
	return append(b, '\n'), nil
}

// ReadSpec reads and validates dir/SpecFile. Unknown fields are refused:
// they mean the artifact was made by a newer glacier.
func ReadSpec(dir string) (TaskSpec, error) {
	path := filepath.Join(dir, SpecFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return TaskSpec{}, fmt.Errorf("read task spec: %w; the function's artifact must hold %s beside %s", err, SpecFile, ModuleFile)
	}
	var s TaskSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return TaskSpec{}, fmt.Errorf("read task spec %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return TaskSpec{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseDatasets parses the value of DatasetsEnv and checks it with
// CheckDatasets.
func (s TaskSpec) ParseDatasets(env string) (map[string]string, error) {
	if strings.TrimSpace(env) == "" {
		return nil, fmt.Errorf("%s is not set; the function's environment must map each of task %q's datasets to its URL (deploy the program glacier compile wrote)", DatasetsEnv, s.Task)
	}
	var urls map[string]string
	if err := json.Unmarshal([]byte(env), &urls); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object of dataset names to URLs: %w", DatasetsEnv, err)
	}
	if err := s.CheckDatasets(urls); err != nil {
		return nil, err
	}
	return urls, nil
}

// CheckDatasets checks that urls maps exactly the spec's inputs and
// outputs, each to an absolute URL. The error names every missing, extra or
// malformed entry.
func (s TaskSpec) CheckDatasets(urls map[string]string) error {
	var errs []error
	declared := map[string]bool{}
	for _, set := range []struct {
		kind  string
		names []string
	}{{"input", s.Inputs}, {"output", s.Outputs}} {
		for _, n := range set.names {
			declared[n] = true
			raw, ok := urls[n]
			if !ok {
				errs = append(errs, fmt.Errorf("it has no URL for %s dataset %q", set.kind, n))
				continue
			}
			if u, err := url.Parse(raw); err != nil || u.Scheme == "" || (u.Host == "" && u.Path == "") {
				errs = append(errs, fmt.Errorf("the URL %q of dataset %q is not an absolute URL such as s3://bucket/key", raw, n))
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(urls)) {
		if !declared[n] {
			errs = append(errs, fmt.Errorf("it names dataset %q, which task %q neither reads nor writes", n, s.Task))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s does not match task %q (inputs %q, outputs %q): %w", DatasetsEnv, s.Task, s.Inputs, s.Outputs, err)
	}
	return nil
}
