// Package apitest checks Glacier's Go API the way a user's program meets
// it: from a module of its own, which requires this one through a replace,
// defines a pipeline in Go, runs it locally and compiles it for AWS.
package apitest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const program = `package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/aws"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func main() {
	wasmrt.ServeWorkerIfRequested()
	dir := os.Args[1]
	ctx := context.Background()

	p := glacier.New("userprog")
	check(p.AddDataset(glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "greeting.txt"}))
	check(p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}}))
	check(p.AddTask(glacier.Task{Name: "copy", Module: "copy.wasm", Inputs: []string{"in"}, Outputs: []string{"out"},
		Compute: glacier.Serverless{Memory: 128, Timeout: 30}}))

	report, err := p.Run(ctx, local.New(local.Options{Dir: dir}))
	check(err)
	for _, t := range report.Tasks {
		fmt.Println("ran", t.Task, t.Status)
	}
	store, err := local.OpenStore(dir)
	check(err)
	out, err := store.Read(p, "out")
	check(err)
	fmt.Printf("out: %s", out)

	c := aws.New(aws.Options{Dir: dir, Out: filepath.Join(dir, "deploy"), Arch: "arm64"})
	comp, err := p.Compile(ctx, c)
	check(err)
	for _, a := range comp.Artifacts {
		fmt.Println("artifact", a.Path)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// TestProgramInItsOwnModule writes a user's program in a module of its
// own and runs it with go run: it must define, run and compile a pipeline
// through the public API alone.
func TestProgramInItsOwnModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program and the Lambda bootstrap")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	mod := t.TempDir()
	write := func(name string, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(mod, name), data, 0o644))
	}
	write("go.mod", []byte("module userprog\n\ngo 1.26\n\nrequire github.com/glacier-pipeline/glacier v0.0.0\n\n"+
		"replace github.com/glacier-pipeline/glacier => "+root+"\n\n"+
		"replace github.com/glacier-pipeline/glacier/sdk-guest => "+filepath.Join(root, "sdk-guest")+"\n\n"+
		"replace github.com/glacier-pipeline/glacier/abi => "+filepath.Join(root, "abi")+"\n"))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	write("go.sum", sum)
	write("main.go", []byte(program))

	wasm, err := os.ReadFile(filepath.Join(root, "testdata", "wasm", "wat", "copy.wasm"))
	require.NoError(t, err)
	newProject := func() string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "copy.wasm"), wasm, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("hello from another module\n"), 0o644))
		return dir
	}
	project := newProject()

	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = mod
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "go mod tidy:\n%s", out)
	run := exec.Command("go", "run", ".", project)
	run.Dir = mod
	out, err = run.CombinedOutput()
	require.NoError(t, err, "the program failed:\n%s", out)
	got := string(out)
	assert.Contains(t, got, "ran copy succeeded\n")
	assert.Contains(t, got, "out: hello from another module\n")
	assert.Contains(t, got, "artifact artifacts/copy.zip\n")
	assert.FileExists(t, filepath.Join(project, "deploy", "main.go"))
	assert.False(t, strings.Contains(got, "ServeWorkerIfRequested"), got)

	// Without the call that serves workers, the run fails at once, saying
	// which call is missing, and nothing of the program runs twice.
	write("main.go", []byte(strings.Replace(program, "wasmrt.ServeWorkerIfRequested()\n", "_ = wasmrt.ServeWorkerIfRequested\n", 1)))
	run = exec.Command("go", "run", ".", newProject())
	run.Dir = mod
	out, err = run.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "must call wasmrt.ServeWorkerIfRequested() first thing in main")
}
