// Package modcheck checks task modules for the packagers as a function's
// sandbox will load them, and precompiles them, without linking the
// sandbox: the compilers that package functions must build on machines and
// in programs that never run a task, and wazero is most of the weight of a
// program that links it.
//
// The work is done by the checker program (./checker), built for this
// machine from the Glacier module's source as the function runtimes are
// (artifact.GoBuild), and so with the same sandbox and the same wazero.
// Check runs it with fnspec's check protocol: a refusal carries the kind and
// the message the function would give at cold start, and precompiled code
// is the code the function would make on this machine's platform.
//
// Results are kept in the cache directory, keyed by the module, the task's
// memory limit and compile budget, and the checker's build: a module
// checked once is not checked again until one of them changes.
package modcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
	"github.com/glacier-pipeline/glacier/wasmcheck"
)

// CheckerPkg is the import path of the checker program.
const CheckerPkg = artifact.ModulePath + "/providers/internal/modcheck/checker"

// Options say what Check checks.
type Options struct {
	// Spec is the task's spec, valid, whose ModuleSHA256 is the module's.
	Spec fnspec.TaskSpec
	// ModulePath is the task's module file.
	ModulePath string
	// Precompile asks for the module's machine code for this machine too,
	// which costs a full compilation the first time instead of a check.
	Precompile bool
	// CacheDir keeps the checker, its results and the precompiled code
	// between calls. Empty means artifact.CacheDir("").
	CacheDir string
}

// Module is a checked module.
type Module struct {
	// Wasm is the module's bytes.
	Wasm []byte
	// Precompiled is, when Options.Precompile was set, the directory
	// holding the module's machine code, laid out as fnspec.PrecompiledDir
	// is. The caller must not change it.
	Precompiled string
}

// Error is a module the function's sandbox would refuse.
type Error struct {
	// Kind is the kind the function would report, such as
	// fnspec.KindInvalidModule, fnspec.KindABIVersion,
	// fnspec.KindMemoryLimit or fnspec.KindCompileBudget.
	Kind fnspec.Kind
	// Message is the sandbox's message, which names the task.
	Message string
}

// Error returns the sandbox's message.
func (e *Error) Error() string { return e.Message }

// Check reads the module at opts.ModulePath, a regular file of bounded
// size, checks that its SHA-256 is the spec's, and has the checker load it
// as the function's sandbox will, under the spec's memory limit and compile
// budget. A module the sandbox would refuse returns an *Error. Errors name
// the task.
func Check(ctx context.Context, opts Options) (Module, error) {
	task := opts.Spec.Task
	wasm, err := wasmcheck.ReadFile(opts.ModulePath, 0)
	if err != nil {
		return Module{}, &Error{Kind: fnspec.KindInvalidModule, Message: fmt.Sprintf("task %q: %v", task, err)}
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != opts.Spec.ModuleSHA256 {
		return Module{}, fmt.Errorf("task %q: module %s has SHA-256 %s, but the spec says %s; pass the module the spec was made from",
			task, opts.ModulePath, got, opts.Spec.ModuleSHA256)
	}
	cacheDir := artifact.CacheDir(opts.CacheDir)
	c, err := checker(ctx, cacheDir)
	if err != nil {
		return Module{}, err
	}
	key := c.key(opts.Spec)
	if !opts.Precompile {
		done := filepath.Join(cacheDir, "checked", key)
		if _, err := os.Stat(done); err == nil {
			return Module{Wasm: wasm}, nil
		}
		if err := c.run(ctx, fnspec.CheckRequest{Spec: opts.Spec, Module: opts.ModulePath}); err != nil {
			return Module{}, err
		}
		// Only a success is remembered: a refusal may be a slow moment.
		if err := os.MkdirAll(filepath.Dir(done), 0o755); err == nil {
			_ = os.WriteFile(done, nil, 0o644)
		}
		return Module{Wasm: wasm}, nil
	}
	dir := filepath.Join(cacheDir, "precompiled", key)
	if err := c.precompile(ctx, opts, dir); err != nil {
		return Module{}, err
	}
	return Module{Wasm: wasm, Precompiled: dir}, nil
}

// precompile fills dir with the module's machine code, unless it exists
// already: it is made whole in a temporary directory beside it and renamed,
// so it only exists once the module compiled.
func (c *built) precompile(ctx context.Context, opts Options, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("task %q: precompile: %w", opts.Spec.Task, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("task %q: precompile: %w", opts.Spec.Task, err)
	}
	defer os.RemoveAll(tmp)
	if err := c.run(ctx, fnspec.CheckRequest{Spec: opts.Spec, Module: opts.ModulePath, Precompile: tmp}); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return nil // another process got there first
		}
		return fmt.Errorf("task %q: precompile: %w", opts.Spec.Task, err)
	}
	return nil
}

// built is the checker built for this machine.
type built struct {
	path string
	sum  string // hex SHA-256 of the binary: its results are its own
}

// key names what a check of spec's module by this checker depends on.
func (c *built) key(spec fnspec.TaskSpec) string {
	h := sha256.New()
	for _, s := range []string{c.sum, spec.ModuleSHA256, strconv.Itoa(spec.MemoryMiB),
		strconv.Itoa(spec.CompileMemoryMiB), strconv.Itoa(spec.CompileTimeoutSecs)} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// run sends req to the checker and returns its verdict.
func (c *built) run(ctx context.Context, req fnspec.CheckRequest) error {
	req.Protocol = fnspec.CheckProtocol
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("task %q: %w", req.Spec.Task, err)
	}
	cmd := exec.CommandContext(ctx, c.path)
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("task %q: the module checker %s failed (%v): %s", req.Spec.Task, c.path, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var res fnspec.CheckResult
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		return fmt.Errorf("task %q: the module checker %s answered %q: %w", req.Spec.Task, c.path, stdout.String(), err)
	}
	if res.Kind != "" {
		return &Error{Kind: res.Kind, Message: res.Error}
	}
	return nil
}

// builds memoizes checker within a process: the source does not change
// under a running compile.
var builds sync.Map // cache dir -> *buildResult

type buildResult struct {
	once sync.Once
	c    *built
	err  error
}

// checker builds the checker for this machine (or finds it in cacheDir or
// in this process's memory).
func checker(ctx context.Context, cacheDir string) (*built, error) {
	v, _ := builds.LoadOrStore(cacheDir, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() { r.c, r.err = build(ctx, cacheDir) })
	if r.err != nil {
		// Forget failures: they may be the context's.
		builds.CompareAndDelete(cacheDir, r)
	}
	return r.c, r.err
}

func build(ctx context.Context, cacheDir string) (*built, error) {
	path, err := artifact.GoBuild(ctx, artifact.Options{
		Pkg: CheckerPkg, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CacheDir: cacheDir,
	})
	if err != nil {
		return nil, fmt.Errorf("build the module checker: %w", err)
	}
	exe, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("build the module checker: %w", err)
	}
	sum := sha256.Sum256(exe)
	return &built{path: path, sum: hex.EncodeToString(sum[:])}, nil
}
