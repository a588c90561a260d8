package wasmrt_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// Run a task module that copies its input "in" to its output "out", with
// both datasets in files. (The module here is written in WAT; a Go task
// built with GOOS=wasip1 GOARCH=wasm runs the same way.)
func Example() {
	ctx := context.Background()
	wasm, err := os.ReadFile("../testdata/wasm/wat/copy.wasm")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("hello, sandbox\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	rt, err := wasmrt.NewRuntime(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	m, err := rt.Load(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}
	res, err := rt.Run(ctx, m, wasmrt.Invocation{
		Task:    "copy",
		Inputs:  []string{"in"},
		Outputs: []string{"out"},
		Storage: storage.URLs{"in": filestore.URL(in), "out": filestore.URL(out)},
	})
	if err != nil {
		log.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q: %d bytes, sha256 %.12s…\n", data, res.Outputs["out"].Size, res.Outputs["out"].SHA256)
	// Output: "hello, sandbox\n": 15 bytes, sha256 d102c3774da1…
}

// A task that fails commits nothing; the error says why, and matches the
// kind of failure.
func ExampleRuntime_Run_missingInput() {
	ctx := context.Background()
	wasm, err := os.ReadFile("../testdata/wasm/wat/copy.wasm")
	if err != nil {
		log.Fatal(err)
	}
	rt, err := wasmrt.NewRuntime(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	m, err := rt.Load(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}
	_, err = rt.Run(ctx, m, wasmrt.Invocation{
		Task:    "copy",
		Inputs:  []string{"in"},
		Outputs: []string{"out"},
		Storage: storage.URLs{"in": "file:///nonexistent/in", "out": "file:///nonexistent/out"},
	})
	var exit *wasmrt.ExitError
	fmt.Println(errors.As(err, &exit), exit.ExitCode())
	// Output: true 1
}

// Run tasks in worker processes, with a timeout that costs guest code
// nothing. The program must call wasmrt.ServeWorkerIfRequested first thing
// in main (this package's tests do it in TestMain).
func ExamplePool() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("pooled\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	pool, err := wasmrt.NewPool(ctx, wasmrt.PoolOptions{Workers: 2, CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	res, err := pool.Run(ctx, wasmrt.Job{
		ModulePath: "../testdata/wasm/wat/copy.wasm",
		Task:       "copy",
		Inputs:     map[string]string{"in": filestore.URL(in)},
		Outputs:    map[string]string{"out": filestore.URL(out)},
		Timeout:    10 * time.Second,
		LogPath:    filepath.Join(dir, "copy.log"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Outputs["out"].Size, "bytes committed")
	// Output: 7 bytes committed
}
