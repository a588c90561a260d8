// Package compiletest is the conformance suite of the cloud compilers, in
// the shape of gocloud.dev's drivertest: a target's tests give a Harness,
// and RunConformanceTests checks, through glacier.Compiler alone, what
// every target must do alike: compile deterministically, refuse what it
// cannot deploy naming the culprit, refuse a foreign output directory,
// enforce its cloud's limits, refuse names two datasets or tasks would
// share, and apply the shared defaults. Stand-in modules and a stand-in
// packer (Modules, StandIn) keep it fast: no Go build, no packager.
//
// Golden compares a written project's files with the golden files a
// reviewer reads changes of generated output in.
package compiletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Harness is what a target's tests give the suite. The suite compiles
// examples/etl and small pipelines of glacier's default compute, which
// every target must accept.
type Harness[D any] struct {
	// New returns the target's compiler for opts, packing every task with
	// pack.
	New func(opts compile.Options, pack Packer) *compile.Compiler[D]
	// Pack is a stand-in for the target's packer: it makes what the target
	// checks of an artifact (see StandIn).
	Pack Packer
	// Clash are two datasets, or two tasks, whose resources the target
	// would give one name.
	Clash Clash
}

// Clash are two datasets or tasks whose resources would share a name.
type Clash struct {
	// Kind is "dataset" or "task".
	Kind string
	// Names are theirs, in declaration order.
	Names [2]string
	// What is the name they would share, as in messages ("bucket name").
	What string
}

// RunConformanceTests runs the suite against the target h describes.
func RunConformanceTests[D any](t *testing.T, h Harness[D]) {
	spec := h.New(compile.Options{}, h.Pack).Spec()
	s := suite{spec, func(o compile.Options, p Packer) glacier.Compiler { return h.New(o, p) }, h.Pack, h.Clash}
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(t, s) })
	t.Run("Refusals", func(t *testing.T) { testRefusals(t, s) })
	t.Run("ForeignOut", func(t *testing.T) { testForeignOut(t, s) })
	t.Run("Limits", func(t *testing.T) { testLimits(t, s) })
	t.Run("Defaults", func(t *testing.T) { testDefaults(t, s) })
	t.Run("NameClash", func(t *testing.T) { testNameClash(t, s) })
	t.Run("Artifacts", func(t *testing.T) { testArtifacts(t, s) })
	t.Run("ProgramNames", func(t *testing.T) { testProgramNames(t, s) })
}

// suite is a Harness with its target's spec.
type suite struct {
	Spec  *compile.Spec
	New   func(opts compile.Options, pack Packer) glacier.Compiler
	Pack  Packer
	Clash Clash
}

// compileWith compiles p from dir into out with h's stand-in packer.
func compileWith(t *testing.T, h suite, p *glacier.Pipeline, opts compile.Options) (*glacier.Compilation, error) {
	t.Helper()
	if opts.Modules == nil {
		opts.Modules = Modules(t, p)
	}
	return p.Compile(context.Background(), h.New(opts, h.Pack))
}

func testDeterministic(t *testing.T, h suite) {
	m := ETL(t)
	opts := compile.Options{Dir: m.Dir, Modules: Modules(t, m.Pipeline), Tags: map[string]string{"team": "data", "env": "prod"}}
	a, b := t.TempDir(), t.TempDir()
	for _, out := range []string{a, b} {
		opts.Out = out
		_, err := compileWith(t, h, m.Pipeline, opts)
		require.NoError(t, err)
	}
	first := Tree(t, a)
	sameTree(t, first, Tree(t, b), "two compilations give the same bytes")

	// Compiling again over an earlier output replaces what the compiler
	// wrote, drops what it no longer writes and keeps the stacks' files.
	for name, data := range map[string]string{
		h.Spec.Artifacts + "/gone.zip": "stale",
		"gone.go":                      "package main\n",
		"main.go":                      "edited",
		"Pulumi.dev.yaml":              "config: {}\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(a, filepath.FromSlash(name)), []byte(data), 0o644))
	}
	opts.Out = a
	_, err := compileWith(t, h, m.Pipeline, opts)
	require.NoError(t, err)
	again := Tree(t, a)
	assert.True(t, strings.HasSuffix(again["Pulumi.dev.yaml"], "\nconfig: {}\n"), "a stack's settings are left alone")
	delete(again, "Pulumi.dev.yaml")
	sameTree(t, first, again, "compiling over an earlier output gives the same bytes")

	// The default prefix is the pipeline's name with '_' as '-', which
	// names everything as that prefix given explicitly does.
	p := pipeline(t, "orders_etl", glacier.Serverless{}, glacier.ObjectStorage{})
	dir := ProjectDir(t)
	implicit, explicit := t.TempDir(), t.TempDir()
	_, err = compileWith(t, h, p, compile.Options{Dir: dir, Out: implicit})
	require.NoError(t, err)
	_, err = compileWith(t, h, p, compile.Options{Dir: dir, Out: explicit, Prefix: "orders-etl"})
	require.NoError(t, err)
	sameTree(t, Tree(t, explicit), Tree(t, implicit), "the default prefix is the pipeline's name")
	assert.Contains(t, Tree(t, implicit)["main.go"], `"orders-etl-`)
}

func testRefusals(t *testing.T, h suite) {
	tests := []struct {
		name    string
		compute glacier.Compute
		storage glacier.Storage
		culprit string
	}{
		{"local compute", glacier.Local{}, glacier.ObjectStorage{}, `task "clean": has local compute`},
		{"default compute is local", nil, glacier.ObjectStorage{}, `task "clean": has local compute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pipeline(t, "p", tt.compute, tt.storage)
			out := filepath.Join(t.TempDir(), "out")
			_, err := compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: out})
			refused(t, h, err, tt.culprit)
			assert.Contains(t, err.Error(), h.Spec.Cloud)
			assert.NoDirExists(t, out, "nothing is written when the pipeline is refused")
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		p := pipeline(t, "p", glacier.Local{}, glacier.ObjectStorage{})
		out := filepath.Join(t.TempDir(), "out")
		_, err := compileWith(t, h, p, compile.Options{Dir: t.TempDir(), Out: out})
		refused(t, h, err, `dataset "in": source in.csv does not exist`, `task "clean": has local compute`)
		assert.NoDirExists(t, out)
	})
}

// refused checks that err refuses the pipeline with exactly the problems
// starting with want, in order.
func refused(t *testing.T, h suite, err error, want ...string) {
	t.Helper()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "for "+h.Spec.Cloud+":")
	var verr *glacier.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	require.Len(t, verr.Problems, len(want), "%v", err)
	for i, w := range want {
		assert.True(t, strings.HasPrefix(verr.Problems[i].String(), w), "problem %q does not start with %q", verr.Problems[i], w)
	}
}

func testForeignOut(t *testing.T, h suite) {
	p := pipeline(t, "p", glacier.Serverless{}, glacier.ObjectStorage{})
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644))
	_, err := compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: out})
	require.ErrorContains(t, err, "is not empty and is not an earlier output of this compiler")
	require.ErrorContains(t, err, fmt.Sprintf("%q", h.Spec.Marker()))
	assert.Equal(t, []string{"notes.txt"}, slices.Sorted(maps.Keys(Tree(t, out))), "nothing is written")

	// Another target's output is foreign too.
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "Pulumi.yaml"), []byte("# Written by glacier compile --target other.\n"), 0o644))
	_, err = compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: other})
	require.ErrorContains(t, err, "is not an earlier output of this compiler")

	_, err = compileWith(t, h, p, compile.Options{Dir: ProjectDir(t)})
	require.ErrorContains(t, err, "Options.Out is empty")
}

func testLimits(t *testing.T, h suite) {
	maxMem, maxTimeout := h.Spec.Memory.MaxTask(), h.Spec.MaxTimeoutSecs
	for _, ok := range []glacier.Serverless{{Memory: maxMem}, {Timeout: maxTimeout}, {Memory: 1, Timeout: 1}} {
		p := pipeline(t, "p", ok, glacier.ObjectStorage{})
		_, err := compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: t.TempDir()})
		assert.NoError(t, err, "memory %d MiB, timeout %d s", ok.Memory, ok.Timeout)
	}

	p := pipeline(t, "p", glacier.Serverless{Memory: maxMem + 1, Timeout: maxTimeout + 1}, glacier.ObjectStorage{})
	_, err := compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: t.TempDir()})
	refused(t, h, err, fmt.Sprintf(`task "clean": memory %d MiB`, maxMem+1), fmt.Sprintf(`task "clean": timeout is %d s`, maxTimeout+1))
	assert.ErrorContains(t, err, fmt.Sprintf("set compute memory to %d or less", maxMem))

	p = pipeline(t, "p", glacier.Serverless{}, glacier.ObjectStorage{})
	_, err = compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: t.TempDir(),
		Serverless: compile.ServerlessDefaults{MemoryMiB: maxMem + 1, TimeoutSecs: maxTimeout + 1}})
	refused(t, h, err, `option "defaults": serverless memory`, `option "defaults": serverless timeout`,
		fmt.Sprintf(`task "clean": memory %d MiB`, maxMem+1), fmt.Sprintf(`task "clean": timeout is %d s`, maxTimeout+1))
}

func testDefaults(t *testing.T, h suite) {
	p := pipeline(t, "p", glacier.Serverless{}, glacier.ObjectStorage{})
	out := t.TempDir()
	comp, err := compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: out,
		Serverless: compile.ServerlessDefaults{MemoryMiB: 1024, TimeoutSecs: 42}})
	require.NoError(t, err)
	require.Len(t, comp.Artifacts, 1)
	spec := taskSpec(t, filepath.Join(out, comp.Artifacts[0].Path))
	assert.Equal(t, 1024, spec.MemoryMiB, "a task without memory gets the default")
	assert.Equal(t, 42, spec.TimeoutSecs, "a task without a timeout gets the default")

	// A task's own settings win.
	p = pipeline(t, "p", glacier.Serverless{Memory: 256, Timeout: 7}, glacier.ObjectStorage{})
	comp, err = compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: out,
		Serverless: compile.ServerlessDefaults{MemoryMiB: 1024, TimeoutSecs: 42}})
	require.NoError(t, err)
	spec = taskSpec(t, filepath.Join(out, comp.Artifacts[0].Path))
	assert.Equal(t, 256, spec.MemoryMiB)
	assert.Equal(t, 7, spec.TimeoutSecs)
}

func taskSpec(t *testing.T, artifact string) fnspec.TaskSpec {
	t.Helper()
	zb, err := os.ReadFile(artifact)
	require.NoError(t, err)
	var spec fnspec.TaskSpec
	require.NoError(t, json.Unmarshal(ziptest.Files(t, zb)[fnspec.SpecFile], &spec))
	return spec
}

func testNameClash(t *testing.T, h suite) {
	c := h.Clash
	require.Contains(t, []string{"dataset", "task"}, c.Kind, "the harness names a clash")
	p := glacier.New("p")
	sl := glacier.Serverless{}
	add := func(d glacier.Dataset) { require.NoError(t, p.AddDataset(d)) }
	add(glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv"})
	if c.Kind == "dataset" {
		add(glacier.Dataset{Name: c.Names[0], Storage: glacier.ObjectStorage{}})
		add(glacier.Dataset{Name: c.Names[1], Storage: glacier.ObjectStorage{}})
		require.NoError(t, p.AddTask(glacier.Task{Name: "t", Module: "t.wasm", Inputs: []string{"in"}, Outputs: c.Names[:], Compute: sl}))
	} else {
		for i, name := range c.Names {
			out := fmt.Sprintf("out%d", i)
			add(glacier.Dataset{Name: out, Storage: glacier.ObjectStorage{}})
			require.NoError(t, p.AddTask(glacier.Task{Name: name, Module: "t.wasm", Inputs: []string{"in"}, Outputs: []string{out}, Compute: sl}))
		}
	}
	require.NoError(t, p.Validate().Err())
	out := filepath.Join(t.TempDir(), "out")
	_, err := compileWith(t, h, p, compile.Options{Dir: ProjectDir(t), Out: out, Prefix: "p"})
	refused(t, h, err, fmt.Sprintf("%s %q: would share the %s", c.Kind, c.Names[1], c.What))
	assert.ErrorContains(t, err, fmt.Sprintf("with %s %q", c.Kind, c.Names[0]))
	assert.ErrorContains(t, err, "rename one of them")
	assert.NoDirExists(t, out)
}

func testArtifacts(t *testing.T, h suite) {
	m := ETL(t)
	mods := Modules(t, m.Pipeline)
	out := t.TempDir()
	comp, err := compileWith(t, h, m.Pipeline, compile.Options{Dir: m.Dir, Out: out, Modules: mods})
	require.NoError(t, err)
	assert.Equal(t, h.Spec.Name, comp.Target)
	assert.Equal(t, out, comp.Dir)
	tasks := m.Pipeline.Tasks()
	require.Len(t, comp.Artifacts, len(tasks))
	for i, a := range comp.Artifacts {
		assert.Equal(t, tasks[i].Name, a.Task, "one artifact per task, in declaration order")
		assert.Equal(t, h.Spec.Artifacts+"/"+a.Task+".zip", a.Path)
		assert.Equal(t, mods[a.Task].SHA256, a.ModuleSHA256, "the artifact holds the built module")
		fi, err := os.Stat(filepath.Join(out, a.Path))
		require.NoError(t, err)
		assert.Equal(t, fi.Size(), a.Size)
	}

	tests := []struct {
		name string
		pack Packer
		want string
	}{
		{"another module", func(ctx context.Context, spec fnspec.TaskSpec, wasmPath string) ([]byte, error) {
			other := filepath.Join(t.TempDir(), "other.wasm")
			require.NoError(t, os.WriteFile(other, []byte("\x00asm\x01\x00\x00\x00 another"), 0o644))
			return h.Pack(ctx, spec, other)
		}, "not the built module's"},
		{"not a zip", func(context.Context, fnspec.TaskSpec, string) ([]byte, error) { return []byte("nope"), nil }, "not a zip"},
		{"the packer fails", func(context.Context, fnspec.TaskSpec, string) ([]byte, error) {
			return nil, errors.New("no toolchain")
		}, `packaging task "clean_orders": no toolchain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, err := m.Pipeline.Compile(context.Background(), h.New(compile.Options{Dir: m.Dir, Out: out, Modules: mods}, tt.pack))
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, h.Spec.Name+": ")
			assert.NoDirExists(t, out, "nothing is written")
		})
	}
}

// sameTree checks that two trees (see Tree) hold the same files, naming
// those that differ.
func sameTree(t *testing.T, want, got map[string]string, msg string) {
	t.Helper()
	assert.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), "%s: the files", msg)
	for name, content := range want {
		if g, ok := got[name]; ok && g != content {
			t.Errorf("%s: %s differs", msg, name)
		}
	}
}

func testProgramNames(t *testing.T, h suite) {
	names := ProgramNames(t, h.Spec)
	assert.Contains(t, names, "program", "main.go's own names are there")
	assert.Greater(t, len(names), len(h.Spec.MainNames), "and the static files'")
	for _, name := range names {
		ids := pulumiproject.NewIdents(names...)
		assert.Equal(t, name+"Dataset", ids.Add(name, "Dataset"), "a dataset's variable never takes %q", name)
	}
}

// Tree reads every file under dir: slash path to mode and content.
func Tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	require.NoError(t, err)
	return files
}
