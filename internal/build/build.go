// Package build turns a pipeline's tasks into WebAssembly modules: it runs
// `GOOS=wasip1 GOARCH=wasm go build` for tasks with build: (in parallel, the
// go command's cache making an unchanged task cheap) and hashes ready .wasm
// files for tasks with module:. The local executor and every compiler use the
// modules it returns, so each target gets the same bytes.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/glacier-pipeline/glacier/glacier"
	"github.com/glacier-pipeline/glacier/wasmrt/wasmcheck"
)

// Module is a task's WebAssembly module, ready to run.
type Module struct {
	Task string
	// Path is the module's absolute path.
	Path   string
	SHA256 string
	Size   int64
	// Built reports that this call changed the module (a build: task whose
	// sources changed, or one built for the first time).
	Built bool
}

// Options configure Modules.
type Options struct {
	// Dir is the project directory that build:, module: and the output
	// directory are relative to.
	Dir string
	// OutDir receives built modules as <task>.wasm; relative to Dir. It
	// defaults to .glacier/modules.
	OutDir string
	// Parallel bounds concurrent go builds; zero means two.
	Parallel int
}

// Modules builds or locates every task's module, in the pipeline's task
// order. A failed build names the task and carries the compiler's output.
func Modules(ctx context.Context, p *glacier.Pipeline, opts Options) ([]Module, error) {
	out := opts.OutDir
	if out == "" {
		out = filepath.Join(".glacier", "modules")
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(opts.Dir, out)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 2
	}
	tasks := p.Tasks()
	hashes := &hashCache{m: map[string]hashed{}}
	mods := make([]Module, len(tasks))
	errs := make([]error, len(tasks))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			mods[i], errs[i] = module(ctx, t, opts.Dir, out, hashes)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return mods, nil
}

// hashCache hashes each ready module once per call, however many tasks
// share it.
type hashCache struct {
	mu sync.Mutex
	m  map[string]hashed
}

type hashed struct {
	sum  string
	size int64
	err  error
}

func (c *hashCache) hash(path string) (string, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[path]
	if !ok {
		h.sum, h.size, h.err = HashFile(path)
		c.m[path] = h
	}
	return h.sum, h.size, h.err
}

func module(ctx context.Context, t glacier.Task, dir, out string, hashes *hashCache) (Module, error) {
	if t.Module != "" {
		path := resolve(dir, t.Module)
		sum, size, err := hashes.hash(path)
		if err != nil {
			return Module{}, fmt.Errorf("task %q: %w", t.Name, err)
		}
		return Module{Task: t.Name, Path: path, SHA256: sum, Size: size}, nil
	}
	path := filepath.Join(out, t.Name+".wasm")
	before, _, _ := HashFile(path)
	if err := GoBuild(ctx, resolve(dir, t.Build), path); err != nil {
		return Module{}, fmt.Errorf("task %q: %w", t.Name, err)
	}
	sum, size, err := HashFile(path)
	if err != nil {
		return Module{}, fmt.Errorf("task %q: %w", t.Name, err)
	}
	return Module{Task: t.Name, Path: path, SHA256: sum, Size: size, Built: sum != before}, nil
}

// GoBuild builds the Go main package in pkgDir for GOOS=wasip1 GOARCH=wasm
// into out. The build is reproducible (-trimpath, no VCS stamp), so the same
// sources give the same bytes on every machine with the same Go version.
func GoBuild(ctx context.Context, pkgDir, out string) error {
	if fi, err := os.Stat(pkgDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("build: %s is not a directory; point build: at a Go main package", pkgDir)
	}
	// Build straight to out: the go command leaves an up-to-date target alone
	// (tens of milliseconds), and a target left half-written by a killed
	// build fails its build ID check and is rebuilt next time.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if errors.Is(err, exec.ErrNotFound) {
			msg = "the go command is not on PATH; install Go 1.26 or later"
		}
		return fmt.Errorf("GOOS=wasip1 GOARCH=wasm go build %s failed:\n%s", pkgDir, msg)
	}
	return nil
}

// HashFile returns the hex sha256 and size of a module file. It refuses,
// before reading anything, a path that is not a regular file or is larger
// than a module may be (see wasmcheck.Open).
func HashFile(path string) (string, int64, error) {
	f, size, err := wasmcheck.Open(path, 0)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, size))
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func resolve(dir, rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}
