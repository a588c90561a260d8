// Package projecttest checks, in tests, the Pulumi Go projects the cloud
// compilers write: that a project builds on its own with `go build` (which
// proves its go.sum complete), and what its program declares when run
// under Pulumi's mock monitor (pulumi.WithMocks), with no cloud, CLI or
// credentials.
//
// Both compile the cloud's Pulumi SDK, which is large (see Require), so a
// compiler's tests compile one project once and check it every way. Tidy
// regenerates a compiler's go.mod and go.sum templates from such a
// project, and CheckRequires checks that they pin the SDK versions the
// compiler names.
//
// A project's program must be `func program(ctx *pulumi.Context) error` in
// package main; Mock adds a test file beside it that runs program under
// the mocks and records every resource. That file declares recorder,
// registered, record, projectFile, plain, plainMap and TestProgram, which
// the project must leave free, and calls the cloud's mockOutputs.
package projecttest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// EnvVar turns on the tests that compile a written project: set it to 1.
// scripts/test sets it. Without it they skip, since the first compile of a
// cloud's Pulumi SDK takes minutes on a small machine.
const EnvVar = "GLACIER_PULUMI_TESTS"

// Require skips t unless EnvVar is 1, and under -short whatever EnvVar
// says.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles a Pulumi project, minutes on a cold build cache; -short skips it")
	}
	if os.Getenv(EnvVar) != "1" {
		t.Skipf("compiles a Pulumi project, minutes on a cold build cache; set %s=1 to run it (scripts/test does)", EnvVar)
	}
}

// goEnv is the environment the go command runs a project with: module mode
// on its own go.mod, no workspace, and go.sum taken as it is, so a missing
// entry fails the build instead of being added.
func goEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOWORK=") || strings.HasPrefix(kv, "GOFLAGS=")
	})
	return append(env, append([]string{"GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false"}, extra...)...)
}

// run runs the go command in dir and fails t with its output if it fails.
func run(t testing.TB, dir string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("go %s in %s: %v", strings.Join(args, " "), dir, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

// Build runs `go build` in the project directory dir, as a user would
// after compiling, and `go vet`. It fails t if either fails: a go.sum entry
// missing from the compiler's template shows up here.
func Build(t testing.TB, dir string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "program")
	run(t, dir, goEnv(), "build", "-o", bin, ".")
	run(t, dir, goEnv(), "vet", ".")
}

//go:embed recorder.go.txt
var recorder []byte

// Resource is one resource a program registered under the mocks.
type Resource struct {
	// Type is the resource's type token, such as
	// "gcp:storage/bucket:Bucket".
	Type string `json:"type"`
	// Name is its logical name.
	Name string `json:"name"`
	// Inputs are the resource's inputs as the program gave them, decoded
	// from JSON: strings, float64s, bools, []any and map[string]any. An
	// asset is {"asset": path}, an archive {"archive": path}.
	Inputs map[string]any `json:"inputs"`
	// DependsOn are the resources it explicitly waits for, each as Ref
	// gives it.
	DependsOn []string `json:"dependsOn"`
}

// Ref is how DependsOn names r: "type::name".
func (r Resource) Ref() string { return r.Type + "::" + r.Name }

// Project is a project's Pulumi.yaml as Pulumi's own loader reads it.
type Project struct {
	Name    string `json:"name"`
	Runtime string `json:"runtime"`
	// Config are the project's config values by key ("aws:region").
	Config map[string]any `json:"config"`
}

// Program is what Mock records of a project.
type Program struct {
	Project Project `json:"project"`
	// Resources are every resource the program registered, sorted by
	// type and name.
	Resources []Resource `json:"resources"`
}

// Of returns the resources of one type, in the order registered.
func (p Program) Of(typ string) []Resource { return Of(p.Resources, typ) }

// Get returns the resource of type typ named name, and whether there is
// one.
func (p Program) Get(typ, name string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Get returns the input at a path of keys into nested objects, and
// whether it is there.
func (r Resource) Get(keys ...string) (any, bool) {
	var v any = r.Inputs
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// String returns the string input at a path of keys, or "" if there is
// none.
func (r Resource) String(keys ...string) string {
	v, _ := r.Get(keys...)
	s, _ := v.(string)
	return s
}

// Mock runs the program of the project in dir under Pulumi's mocks and
// returns every resource it registered, with the project's Pulumi.yaml as
// Pulumi loads it. outputs is the Go source of a file in package main that
// defines
//
//	func mockOutputs(args pulumi.MockResourceArgs, outs resource.PropertyMap) (id string)
//
// which sets in outs the outputs the cloud would compute for a resource
// (outs starts as a copy of its inputs) and returns its ID. Mock writes
// two test files into dir.
func Mock(t testing.TB, dir string, outputs []byte) Program {
	t.Helper()
	writeMockFiles(t, dir, outputs)
	record := filepath.Join(t.TempDir(), "resources.json")
	run(t, dir, goEnv("GLACIER_MOCK_RECORD="+record), "test", "-count=1", "-run", "^TestProgram$", ".")
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the mock run wrote no record: %v", err)
	}
	var out Program
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("reading the mock record: %v", err)
	}
	return out
}

// writeMockFiles writes the recorder and the cloud's outputs into dir as
// test files of its package.
func writeMockFiles(t testing.TB, dir string, outputs []byte) {
	t.Helper()
	if !bytes.Contains(outputs, []byte("func mockOutputs(")) {
		t.Fatal("projecttest: outputs does not define mockOutputs")
	}
	for name, data := range map[string][]byte{
		"glacier_mock_test.go":         recorder,
		"glacier_mock_outputs_test.go": outputs,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Suite is how a compiler's tests check a project it wrote.
type Suite struct {
	// Outputs is the Go source of the cloud's mockOutputs (see Mock).
	Outputs []byte
	// Requires are the project's direct requirements, module path to
	// version, as the compiler names them.
	Requires map[string]string
	// Templates is the directory of the compiler's go.mod.txt and
	// go.sum.txt.
	Templates string
	// Update regenerates the templates (see Tidy) instead of checking.
	Update bool
}

// Run checks the project in dir: as subtests, "builds" runs Build and
// "mocks" runs Mock and passes what it records to check. With s.Update it
// runs Tidy into s.Templates instead. dir must be the test's own: Mock
// writes into it.
func (s Suite) Run(t *testing.T, dir string, check func(*testing.T, Program)) {
	t.Helper()
	if s.Update {
		Tidy(t, dir, s.Outputs, s.Requires, filepath.Join(s.Templates, "go.mod.txt"), filepath.Join(s.Templates, "go.sum.txt"))
		t.Logf("rewrote %s/go.mod.txt and go.sum.txt; run the tests again to check them", s.Templates)
		return
	}
	t.Run("builds", func(t *testing.T) { Build(t, dir) })
	t.Run("mocks", func(t *testing.T) { check(t, Mock(t, dir, s.Outputs)) })
}

// Of returns the resources of one type, in the order given.
func Of(resources []Resource, typ string) []Resource {
	var out []Resource
	for _, r := range resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Tidy regenerates a compiler's go.mod and go.sum templates from the
// project in dir: it writes a go.mod that keeps the module and go lines of
// the project's and requires exactly requires (module path to version),
// runs `go mod tidy` on it with the project's sources and Mock's test
// files (with outputs, as for Mock) beside it, so that what they import is
// listed too, and writes the resulting go.mod and go.sum to the files
// named goModOut and goSumOut. Compilers' tests call it under an -update
// flag after a change of SDK version. It needs no go.sum in dir, so it
// works however stale the templates are.
func Tidy(t testing.TB, dir string, outputs []byte, requires map[string]string, goModOut, goSumOut string) {
	t.Helper()
	work := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeMockFiles(t, work, outputs)
	for _, embedded := range embeds(t, work) {
		if err := os.WriteFile(filepath.Join(work, embedded), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), goMod(t, dir, requires), 0o644); err != nil {
		t.Fatal(err)
	}
	env := slices.DeleteFunc(goEnv(), func(kv string) bool { return strings.HasPrefix(kv, "GOFLAGS=") })
	run(t, work, append(env, "GOFLAGS=-buildvcs=false"), "mod", "tidy")
	for from, to := range map[string]string{"go.mod": goModOut, "go.sum": goSumOut} {
		data, err := os.ReadFile(filepath.Join(work, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goMod returns a go.mod with the module and go lines of dir's and
// exactly requires.
func goMod(t testing.TB, dir string, requires map[string]string) []byte {
	t.Helper()
	old, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(old, []byte("\n"))
	goVersion, err := pulumiproject.GoDirective(old)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\ngo %s\n\nrequire (\n", first, goVersion)
	for _, mod := range slices.Sorted(maps.Keys(requires)) {
		fmt.Fprintf(&b, "\t%s %s\n", mod, requires[mod])
	}
	b.WriteString(")\n")
	return b.Bytes()
}

// CheckRequires checks that the go.mod template goMod requires exactly
// requires (module path to version) directly, and everything else only
// indirectly: a compiler's SDK version constants and its templates agree.
func CheckRequires(t testing.TB, goMod []byte, requires map[string]string) {
	t.Helper()
	direct := map[string]string{}
	for _, line := range strings.Split(string(goMod), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 2 && strings.HasPrefix(line, "\t") {
			direct[fields[0]] = fields[1]
		}
	}
	if !maps.Equal(direct, requires) {
		t.Errorf("the go.mod template requires %v directly, the compiler says %v; run scripts/regen (or its tests with -update)", direct, requires)
	}
}

// embeds returns the files named by //go:embed lines in dir's Go files,
// which must exist for the go command to load the package.
func embeds(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "//go:embed "); ok {
				for _, name := range strings.Fields(rest) {
					if strings.ContainsAny(name, "/*") {
						t.Fatalf("projecttest.Tidy: cannot stand in for embedded %q", name)
					}
					out = append(out, name)
				}
			}
		}
	}
	return out
}
