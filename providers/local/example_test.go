package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// Example defines a pipeline in Go and runs it locally: one task, a ready
// WebAssembly module that copies its input "in" to its output "out". The
// program (here the test binary, whose TestMain does it) must call
// wasmrt.ServeWorkerIfRequested first thing, because tasks run in copies of
// it.
func Example() {
	dir, _ := os.MkdirTemp("", "glacier-example-")
	defer os.RemoveAll(dir)
	wasm, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "wasm", "wat", "copy.wasm"))
	_ = os.WriteFile(filepath.Join(dir, "copy.wasm"), wasm, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("hello, glacier\n"), 0o644)

	p := glacier.New("example")
	_ = p.AddDataset(glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "greeting.txt"})
	_ = p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}})
	_ = p.AddTask(glacier.Task{Name: "copy", Module: "copy.wasm", Inputs: []string{"in"}, Outputs: []string{"out"}})

	// With no Modules given, the executor builds (or here, hashes) them.
	report, err := p.Run(context.Background(), local.New(local.Options{Dir: dir}))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range report.Tasks {
		fmt.Println(t.Task, t.Status)
	}
	store, _ := local.OpenStore(dir)
	out, _ := store.Read(p, "out")
	fmt.Print(string(out))
	// Output:
	// copy succeeded
	// hello, glacier
}
