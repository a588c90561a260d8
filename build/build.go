// Package build turns a pipeline's tasks into WebAssembly modules: it runs
// `GOOS=wasip1 GOARCH=wasm go build` once for each distinct build: package
// (in parallel, the go command's cache making an unchanged package cheap)
// and hashes ready .wasm files for tasks with module:. Built modules are
// kept by content, as <sha256>.wasm, so tasks that share a package share
// one file. The local executor and every compiler use the modules it
// returns, so each target gets the same bytes.
//
//	mods, err := build.Modules(ctx, pipeline, build.Options{Dir: projectDir})
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

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/wasmcheck"
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
	// OutDir receives built modules; relative to Dir. It defaults to
	// .glacier/modules.
	OutDir string
	// Parallel bounds concurrent go builds; zero means two.
	Parallel int
	// Building, if set, is called before each package is built, with the
	// tasks that use it, so a caller can say what the Go toolchain is busy
	// with: a first build on a cold cache takes tens of seconds. Calls may
	// come from several goroutines at once.
	Building func(pkgDir string, tasks []string)
	// Warn, if set, is told of what would make the modules' digests differ
	// from one checkout of the project to another, once per go.mod; such
	// a module still builds.
	Warn func(msg string)
}

// Modules builds or locates every task's module, in the pipeline's task
// order. Tasks that name the same build: package share one build. A
// failed build names its tasks and carries the compiler's output.
func Modules(ctx context.Context, p *glacier.Pipeline, opts Options) ([]Module, error) {
	out := opts.OutDir
	if out == "" {
		out = filepath.Join(".glacier", "modules")
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(opts.Dir, out)
	}
	if err := os.MkdirAll(filepath.Join(out, "build"), 0o700); err != nil {
		return nil, err
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 2
	}
	tasks := p.Tasks()

	// One job per distinct package or ready module.
	type job struct {
		pkg, file string // exactly one is set
		tasks     []string
		mod       Module
		err       error
	}
	var jobs []*job
	byPath := map[string]*job{}
	jobOf := make([]*job, len(tasks))
	for i, t := range tasks {
		key, pkg, file := "", "", ""
		if t.Module != "" {
			file = resolve(opts.Dir, t.Module)
			key = "module:" + file
		} else {
			pkg = filepath.Clean(resolve(opts.Dir, t.Build))
			key = "build:" + pkg
		}
		j, ok := byPath[key]
		if !ok {
			j = &job{pkg: pkg, file: file}
			byPath[key] = j
			jobs = append(jobs, j)
		}
		j.tasks = append(j.tasks, t.Name)
		jobOf[i] = j
	}

	if opts.Warn != nil {
		var pkgs []string
		for _, j := range jobs {
			if j.pkg != "" {
				pkgs = append(pkgs, j.pkg)
			}
		}
		warnReplaces(pkgs, opts.Warn)
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if j.file != "" {
				j.mod, j.err = ready(j.file)
			} else {
				if opts.Building != nil {
					opts.Building(j.pkg, j.tasks)
				}
				j.mod, j.err = buildPackage(ctx, j.pkg, out)
			}
			if j.err != nil {
				j.err = fmt.Errorf("%s: %w", taskList(j.tasks), j.err)
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, j := range jobs {
		errs = append(errs, j.err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	mods := make([]Module, len(tasks))
	for i, t := range tasks {
		mods[i] = jobOf[i].mod
		mods[i].Task = t.Name
	}
	return mods, nil
}

// taskList names tasks for an error: `task "a"`, `tasks "a", "b"`.
func taskList(tasks []string) string {
	q := make([]string, 0, 3)
	for _, t := range tasks[:min(len(tasks), 3)] {
		q = append(q, fmt.Sprintf("%q", t))
	}
	if len(tasks) > 3 {
		q = append(q, fmt.Sprintf("and %d more", len(tasks)-3))
	}
	if len(tasks) == 1 {
		return "task " + q[0]
	}
	return "tasks " + strings.Join(q, ", ")
}

// ready hashes a module: file.
func ready(path string) (Module, error) {
	sum, size, err := HashFile(path)
	if err != nil {
		return Module{}, err
	}
	return Module{Path: path, SHA256: sum, Size: size}, nil
}

// buildPackage builds pkg into out/build/<key>.wasm, where the go command
// finds it up to date next time, and keeps the module as out/<sha256>.wasm.
func buildPackage(ctx context.Context, pkg, out string) (Module, error) {
	key := sha256.Sum256([]byte(pkg))
	target := filepath.Join(out, "build", filepath.Base(pkg)+"-"+hex.EncodeToString(key[:8])+".wasm")
	_, before, _ := kept(target)
	if err := GoBuild(ctx, pkg, target); err != nil {
		return Module{}, err
	}
	if err := checkMain(pkg, target); err != nil {
		return Module{}, err
	}
	wasm, sum, err := kept(target)
	if err != nil {
		return Module{}, err
	}
	path := filepath.Join(out, sum+".wasm")
	if _, err := os.Stat(path); err != nil {
		if err := writeFile(path, wasm); err != nil {
			return Module{}, fmt.Errorf("keep module %s: %w", path, err)
		}
	}
	return Module{Path: path, SHA256: sum, Size: int64(len(wasm)), Built: sum != before}, nil
}

// kept returns the module kept of what the go command built at target,
// without its build ID (see stripBuildID), and its hex SHA-256.
func kept(target string) ([]byte, string, error) {
	wasm, err := wasmcheck.ReadFile(target, 0)
	if err != nil {
		return nil, "", err
	}
	wasm = stripBuildID(wasm)
	sum := sha256.Sum256(wasm)
	return wasm, hex.EncodeToString(sum[:]), nil
}

// checkMain refuses what go build makes of a package that is not a main
// package: an archive, not a WebAssembly module.
func checkMain(pkg, built string) error {
	f, err := os.Open(built)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "\x00asm" {
		return fmt.Errorf("build: %s is not a main package, so go build made a library archive, not a module; point build: at a package main (one with func main that calls task.Run)", pkg)
	}
	return nil
}

// writeFile writes data to dst through a temporary file and a rename, so
// dst is whole or absent.
func writeFile(dst string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*.wasm")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
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
