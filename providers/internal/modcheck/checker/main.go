// Command checker loads a task's module as a function's sandbox will, for
// the packagers (package modcheck), so that a compiler refuses at compile
// time what a function would refuse at cold start, without linking the
// sandbox itself. Asked to, it also precompiles the module: it is built from
// the same source as the function runtimes, with the same wazero and the
// sandbox configured as theirs, so the machine code it writes is what a
// function on this machine's platform would make, filed under the keys the
// function looks up.
//
// It reads one fnspec.CheckRequest from its standard input and writes one
// fnspec.CheckResult to its standard output. The module is loaded in a
// wasmrt.Pool worker (this program again), under the task's compile budget;
// a refusal is a result, not a failure of the program. Run by hand, it
// has nothing to do.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func main() {
	wasmrt.ServeWorkerIfRequested()
	if err := serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "checker: %v\n", err)
		os.Exit(2)
	}
}

// serve answers the request on in with a result on out. Its error means no
// result was written: the request was unreadable, or the sandbox could not
// start.
func serve(ctx context.Context, in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	var req fnspec.CheckRequest
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("read the request: %w (the packagers run this program; it has nothing to do when run by hand)", err)
	}
	if req.Protocol != fnspec.CheckProtocol {
		return fmt.Errorf("the request speaks protocol %d, this checker %d; it was built from other sources than its caller", req.Protocol, fnspec.CheckProtocol)
	}
	var res fnspec.CheckResult
	if err := check(ctx, req); err != nil {
		if errors.Is(err, errNoSandbox) {
			return err
		}
		res = fnspec.CheckResult{Kind: fnspec.Kind(wasmrt.KindOf(err)), Error: err.Error()}
		if res.Kind == "" {
			res.Kind = fnspec.KindError
		}
	}
	return json.NewEncoder(out).Encode(res)
}

// errNoSandbox marks a worker pool that would not start: the checker's
// fault, not the module's.
var errNoSandbox = errors.New("start the sandbox")

// check loads the module in a worker, as the function's sandbox will, and
// when asked leaves its machine code in req.Precompile.
func check(ctx context.Context, req fnspec.CheckRequest) error {
	pool, err := wasmrt.NewPool(ctx, wasmrt.PoolOptions{Workers: 1, CacheDir: req.Precompile})
	if err != nil {
		return fmt.Errorf("%w: %w", errNoSandbox, err)
	}
	defer pool.Close()
	job := wasmrt.Job{
		Task: req.Spec.Task, ModulePath: req.Module, ModuleSHA256: req.Spec.ModuleSHA256,
		MemoryLimit: uint64(req.Spec.MemoryMiB) << 20,
		Compile: wasmrt.CompileBudget{
			Memory:  uint64(req.Spec.CompileMemoryMiB) << 20,
			Timeout: time.Duration(req.Spec.CompileTimeoutSecs) * time.Second,
		},
	}
	if req.Precompile == "" {
		return pool.Validate(ctx, job)
	}
	if err := pool.Compile(ctx, job); err != nil {
		return err
	}
	// wazero writes each entry to a temporary file and renames it; none
	// should be left, but a stray one must not reach an artifact.
	err = filepath.WalkDir(req.Precompile, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmp") {
			err = os.Remove(p)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("task %q: precompile: %w", req.Spec.Task, err)
	}
	return nil
}
