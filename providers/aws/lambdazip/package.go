// Package lambdazip packages Glacier tasks as AWS Lambda functions on the
// provided.al2023 custom runtime. Each function is a zip holding the
// generic bootstrap (the program in ./bootstrap, which hosts the wasmrt
// sandbox and serves datasets from S3), the task's WebAssembly module byte
// for byte, its fnspec.TaskSpec and, when the function's architecture is the
// packaging machine's, the module's machine code precompiled so the
// function skips compiling it on a cold start. The module is checked, and
// precompiled, by the module checker (package modcheck), so this package
// and the compilers that use it do not link the sandbox.
//
//	zip, err := lambdazip.Package(ctx, lambdazip.PackageOptions{
//		Arch:     lambdazip.ArchARM64,
//		Spec:     spec,
//		WasmPath: mod.Path,
//		CacheDir: ".glacier/cache",
//	})
//
// The same inputs give the same zip bytes on the same machine: entries are
// sorted and carry fixed timestamps and modes, the bootstrap is built
// reproducibly, and the precompiled code is deterministic. (The precompiled
// code depends on the packaging machine's CPU features, which wazero also
// checks when it loads it, so zips made on machines with other CPUs may
// differ; a Lambda host whose CPU differs compiles the module at cold
// start instead, as if nothing were precompiled.)
//
// # Costs
//
// The precompiled code makes the zip several times larger and spares a
// cold start the compilation, which takes most of it. BenchmarkArtifactSize
// and BenchmarkColdStart measure both (scripts/bench runs them); the
// README's table has the figures.
package lambdazip

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
	"github.com/glacier-pipeline/glacier/providers/internal/modcheck"
)

// Lambda architectures, as Lambda names them.
const (
	ArchARM64  = "arm64"
	ArchX86_64 = "x86_64"
)

// BootstrapPkg is the import path of the bootstrap program.
const BootstrapPkg = artifact.ModulePath + "/providers/aws/lambdazip/bootstrap"

// BootstrapFile is the bootstrap's name in the zip, as provided.al2023
// requires.
const BootstrapFile = "bootstrap"

// goarch maps Lambda's architecture names to Go's.
var goarch = map[string]string{ArchARM64: "arm64", ArchX86_64: "amd64"}

// PackageOptions say what Package packages.
type PackageOptions struct {
	// Arch is the function's architecture: ArchARM64 or ArchX86_64.
	Arch string
	// Spec describes the task. Its ModuleSHA256 must be the module's.
	Spec fnspec.TaskSpec
	// WasmPath is the task's module, as built by package build.
	WasmPath string
	// CacheDir keeps built bootstraps, the module checker, its results and
	// precompiled modules between calls. Empty means
	// os.UserCacheDir()/glacier.
	CacheDir string
	// NoPrecompile leaves the precompiled machine code out even when the
	// architecture matches this machine's; the function then compiles the
	// module on every cold start.
	NoPrecompile bool
}

// Package returns the zip of one task's Lambda function: BootstrapFile
// (mode 0755), fnspec.ModuleFile (the bytes at WasmPath), fnspec.SpecFile
// and, when the architecture is this machine's and NoPrecompile is false,
// fnspec.PrecompiledDir.
//
// It fails if the options are incomplete, the spec is invalid, the module's
// SHA-256 is not the spec's, the bootstrap or the module checker cannot be
// built (see BuildBootstrap), or the module does not load as the
// function's sandbox will load it (for instance because it was built for
// another host ABI; the error is then a *modcheck.Error).
func Package(ctx context.Context, opts PackageOptions) ([]byte, error) {
	if _, ok := goarch[opts.Arch]; !ok {
		return nil, fmt.Errorf("lambdazip: architecture %q is not one Lambda runs; use %q or %q", opts.Arch, ArchARM64, ArchX86_64)
	}
	spec, err := opts.Spec.Encode()
	if err != nil {
		return nil, fmt.Errorf("lambdazip: %w", err)
	}
	mod, err := modcheck.Check(ctx, modcheck.Options{
		Spec: opts.Spec, ModulePath: opts.WasmPath, CacheDir: opts.CacheDir,
		Precompile: !opts.NoPrecompile && Precompilable(opts.Arch),
	})
	if err != nil {
		return nil, fmt.Errorf("lambdazip: %w", err)
	}
	boot, err := BuildBootstrap(ctx, opts.Arch, opts.CacheDir)
	if err != nil {
		return nil, err
	}
	bootBytes, err := os.ReadFile(boot)
	if err != nil {
		return nil, fmt.Errorf("lambdazip: %w", err)
	}
	files := []artifact.File{
		{Name: BootstrapFile, Mode: artifact.ModeExec, Data: bootBytes},
		{Name: fnspec.ModuleFile, Mode: artifact.ModeFile, Data: mod.Wasm},
		{Name: fnspec.SpecFile, Mode: artifact.ModeFile, Data: spec},
	}
	if mod.Precompiled != "" {
		cache, err := artifact.ReadDir(mod.Precompiled, fnspec.PrecompiledDir)
		if err != nil {
			return nil, fmt.Errorf("lambdazip: task %q: %w", opts.Spec.Task, err)
		}
		files = append(files, cache...)
	}
	zip, err := artifact.Zip(files)
	if err != nil {
		return nil, fmt.Errorf("lambdazip: task %q: %w", opts.Spec.Task, err)
	}
	return zip, nil
}

// Precompilable reports whether Package can ship precompiled machine code
// for a function of this architecture: only when this machine is Linux on
// the same architecture, because the module checker compiles the module
// here with the bootstrap's sandbox, as the bootstrap would on Lambda.
func Precompilable(arch string) bool {
	return runtime.GOOS == "linux" && goarch[arch] == runtime.GOARCH
}

// built memoizes BuildBootstrap within a process: the source does not
// change under a running compile.
var built sync.Map // key{arch, cacheDir} -> *buildResult

type buildKey struct{ arch, cacheDir string }

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// BuildBootstrap builds the bootstrap for a Lambda architecture (or finds it
// in cacheDir, or in this process's memory) and returns its path, which
// the caller must not change. The build is static (CGO_ENABLED=0), stripped
// and reproducible, with the lambda.norpc tag; see artifact.GoBuild for
// where the source comes from.
func BuildBootstrap(ctx context.Context, arch, cacheDir string) (string, error) {
	ga, ok := goarch[arch]
	if !ok {
		return "", fmt.Errorf("lambdazip: architecture %q is not one Lambda runs; use %q or %q", arch, ArchARM64, ArchX86_64)
	}
	v, _ := built.LoadOrStore(buildKey{arch, cacheDir}, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() {
		r.path, r.err = artifact.GoBuild(ctx, artifact.Options{
			Pkg:      BootstrapPkg,
			GOOS:     "linux",
			GOARCH:   ga,
			Tags:     []string{"lambda.norpc"},
			CacheDir: artifact.CacheDir(cacheDir),
		})
		if r.err != nil {
			r.err = fmt.Errorf("lambdazip: build the %s bootstrap: %w", arch, r.err)
		}
	})
	if r.err != nil {
		// Forget failures: they may be the context's.
		built.CompareAndDelete(buildKey{arch, cacheDir}, r)
	}
	return r.path, r.err
}
