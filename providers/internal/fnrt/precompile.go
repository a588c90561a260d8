package fnrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

// precompileEnv marks a process started by Precompile; its value is a
// precompileJob as JSON.
const precompileEnv = "GLACIER_FNRT_PRECOMPILE"

type precompileJob struct {
	Module string `json:"module"`
	Dir    string `json:"dir"`
}

// ServeIfRequested turns this process into what its parent asked for, and
// then exits: a wasmrt.Pool worker (see wasmrt.ServeWorkerIfRequested), or
// the compiler behind Precompile. Otherwise it returns at once. A program
// that builds a Handler calls it first thing in main, after registering its
// storage drivers (the worker serves the task's datasets):
//
//	func main() {
//		wasmrt.RegisterScheme("s3", drv)
//		fnrt.ServeIfRequested()
//		...
//	}
func ServeIfRequested() {
	wasmrt.ServeWorkerIfRequested()
	spec, ok := os.LookupEnv(precompileEnv)
	if !ok {
		return
	}
	if err := servePrecompile(spec); err != nil {
		fmt.Fprintf(os.Stderr, "glacier precompile: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func servePrecompile(spec string) error {
	var job precompileJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		return fmt.Errorf("bad %s: %w", precompileEnv, err)
	}
	wasm, err := os.ReadFile(job.Module)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// The same configuration a Pool worker uses, so its cache lookups hit.
	rt, err := wasmrt.NewRuntimeWithConfig(ctx, wasmrt.NewConfig().WithCacheDir(job.Dir))
	if err != nil {
		return err
	}
	_, err = rt.Load(ctx, wasm)
	if cerr := rt.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// Precompile compiles the module at modulePath into dir, a compilation cache
// that New uses when it is the artifact's PrecompiledDir. It runs exe, a
// program that calls ServeIfRequested, so the cache is made by the very
// sandbox that will read it (wazero keys its cache by its own version and by
// the CPU's features, which is also why precompiled code only helps on the
// platform it was made on). Nothing runs when dir exists already: it is
// created whole, by a rename, once the compilation succeeded.
//
// Compilation is deterministic: the same module, program and CPU give the
// same files.
func Precompile(ctx context.Context, exe, modulePath, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	modulePath, err := filepath.Abs(modulePath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	defer os.RemoveAll(tmp)
	job, _ := json.Marshal(precompileJob{Module: modulePath, Dir: tmp})
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), precompileEnv+"="+string(job))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("precompile %s with %s: %v: %s", modulePath, exe, err, strings.TrimSpace(out.String()))
	}
	// wazero writes each entry to a temporary file and renames it; none
	// should be left, but a stray one must not reach an artifact.
	err = filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmp") {
			err = os.Remove(p)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return nil // another process got there first
		}
		return fmt.Errorf("precompile: %w", err)
	}
	return nil
}

// linkCache makes dst a writable compilation cache whose files are symbolic
// links to those under shipped (which may be missing or read-only). wazero
// reads a hit through the link and writes a miss beside it.
func linkCache(shipped, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(shipped); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(shipped, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(shipped, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		return os.Symlink(abs, target)
	})
}
