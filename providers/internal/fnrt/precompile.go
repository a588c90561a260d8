package fnrt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/wasmrt"
	"github.com/glacier-pipeline/glacier/wasmrt/wasmcheck"
)

// ServeIfRequested turns this process into a wasmrt.Pool worker if its
// parent started it as one (see wasmrt.ServeWorkerIfRequested), and then
// exits; otherwise it returns at once. Both a Handler's sandbox and
// Precompile run such workers. A program that builds a Handler calls it
// first thing in main, in a program that imports its storage drivers (the
// worker serves the task's datasets through the schemes they register):
//
//	import _ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
//
//	func main() {
//		fnrt.ServeIfRequested()
//		...
//	}
func ServeIfRequested() {
	wasmrt.ServeWorkerIfRequested()
}

// Precompile compiles the module at modulePath into dir, a compilation cache
// that New uses when it is the artifact's PrecompiledDir. It compiles in a
// worker of exe, a program that calls ServeIfRequested, so the cache is made
// by the very sandbox that will read it (wazero keys its cache by its own
// version and by the CPU's features, which is also why precompiled code only
// helps on the platform it was made on), and under spec's compile budget,
// as the function would compile it: a module the function would refuse is
// refused here. Nothing runs when dir exists already: it is created whole,
// by a rename, once the compilation succeeded.
//
// Compilation is deterministic: the same module, program and CPU give the
// same files.
func Precompile(ctx context.Context, exe string, spec fnspec.TaskSpec, modulePath, dir string) error {
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
	pool, err := wasmrt.NewPool(ctx, wasmrt.PoolOptions{
		Workers:  1,
		CacheDir: tmp,
		Command:  func() *exec.Cmd { return exec.Command(exe) },
	})
	if err != nil {
		return fmt.Errorf("precompile with %s: %w", exe, err)
	}
	err = pool.Compile(ctx, wasmrt.Job{
		Task: spec.Task, ModulePath: modulePath, ModuleSHA256: spec.ModuleSHA256,
		MemoryLimit: uint64(spec.MemoryMiB) << 20, Compile: compileBudget(spec),
	})
	pool.Close()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("precompile %s: %w", modulePath, err)
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

// ReadModule reads the module at path for spec's artifact: a regular file
// of bounded size whose SHA-256 is spec's. With validate, it also checks
// the module exactly as the function's sandbox will load it
// (wasmrt.Validate), for a packager that does not precompile it (which
// loads it in the same sandbox). So no artifact carries a file that is not
// a module the function can run.
func ReadModule(ctx context.Context, spec fnspec.TaskSpec, path string, validate bool) ([]byte, error) {
	wasm, err := wasmcheck.ReadFile(path, 0)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != spec.ModuleSHA256 {
		return nil, fmt.Errorf("module %s has SHA-256 %s, but the spec says %s; pass the module the spec was made from",
			path, got, spec.ModuleSHA256)
	}
	if validate {
		if err := wasmrt.Validate(ctx, wasm, uint64(spec.MemoryMiB)<<20); err != nil {
			return nil, fmt.Errorf("module %s: %w", path, err)
		}
	}
	return wasm, nil
}
