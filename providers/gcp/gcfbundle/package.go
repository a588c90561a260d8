package gcfbundle

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
	"github.com/glacier-pipeline/glacier/providers/internal/modcheck"
)

// EntryPoint is the function's entry point (FUNCTION_TARGET): the name its
// function package registers with the Functions Framework. It equals
// gcfrt.EntryPoint (a test checks); spelling it out keeps the runtime, and
// the Cloud Storage client with it, out of programs that only package
// bundles, such as the glacier CLI.
const EntryPoint = "GlacierTask"

// Runtime is the Cloud Functions runtime the bundles build with. It
// follows the go directive of the Glacier module, which the bundle
// inherits; Package fails if they disagree.
const Runtime = "go126"

// PackageOptions say what Package packages.
type PackageOptions struct {
	// Spec describes the task. Its ModuleSHA256 must be the module's.
	Spec fnspec.TaskSpec
	// WasmPath is the task's module, as built by package build.
	WasmPath string
	// CacheDir keeps the module checker, its results and precompiled
	// modules between calls. Empty means os.UserCacheDir()/glacier.
	CacheDir string
	// NoPrecompile leaves the precompiled machine code out even when this
	// machine can make it; the function then compiles the module on every
	// cold start.
	NoPrecompile bool
}

// Package returns the source bundle of one task's Cloud Function; the
// package documentation lists its files.
//
// It fails if the spec is invalid, the module's SHA-256 is not the spec's,
// the Glacier module's source cannot be found or vendored (it needs the go
// command and, for modules missing from the module cache, the module
// proxy), or the module does not load as the function's sandbox will load
// it (the error is then a *modcheck.Error).
func Package(ctx context.Context, opts PackageOptions) ([]byte, error) {
	fs, err := files(ctx, opts)
	if err != nil {
		return nil, err
	}
	zip, err := artifact.Zip(fs)
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: task %q: %w", opts.Spec.Task, err)
	}
	return zip, nil
}

// files returns the files of the bundle Package zips, unsorted.
func files(ctx context.Context, opts PackageOptions) ([]artifact.File, error) {
	spec, err := opts.Spec.Encode()
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: %w", err)
	}
	mod, err := modcheck.Check(ctx, modcheck.Options{
		Spec: opts.Spec, ModulePath: opts.WasmPath, CacheDir: opts.CacheDir,
		Precompile: !opts.NoPrecompile && Precompilable(),
	})
	if err != nil {
		return nil, fmt.Errorf("gcfbundle: %w", err)
	}
	tree, err := vendored(ctx)
	if err != nil {
		return nil, err
	}
	if rt := "go" + strings.ReplaceAll(majorMinor(tree.goVersion), ".", ""); rt != Runtime {
		return nil, fmt.Errorf("gcfbundle: the Glacier module says go %s, so its functions need Cloud Functions runtime %s, but gcfbundle.Runtime is %s; update gcfbundle.Runtime",
			tree.goVersion, rt, Runtime)
	}
	out := append([]artifact.File{
		{Name: "function.go", Mode: artifact.ModeFile, Data: []byte(functionSource)},
		{Name: "cmd/main.go", Mode: artifact.ModeFile, Data: []byte(cmdSource)},
		{Name: fnspec.ModuleFile, Mode: artifact.ModeFile, Data: mod.Wasm},
		{Name: fnspec.SpecFile, Mode: artifact.ModeFile, Data: spec},
	}, tree.files...)
	if mod.Precompiled != "" {
		cache, err := artifact.ReadDir(mod.Precompiled, fnspec.PrecompiledDir)
		if err != nil {
			return nil, fmt.Errorf("gcfbundle: task %q: %w", opts.Spec.Task, err)
		}
		for i := range cache {
			cache[i].Mode = artifact.ModeFile
		}
		out = append(out, cache...)
	}
	return out, nil
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// Precompilable reports whether Package can ship precompiled machine code:
// only on Linux on amd64, the platform Cloud Functions runs, because the
// code is compiled here by the same sandbox the function runs (the module
// checker's). wazero keys
// it by its version, the architecture and the CPU's features (SSE4.1, BMI1,
// ABM); a function on a CPU that differs ignores it and compiles the module
// at cold start, as it would without it.
func Precompilable() bool {
	return runtime.GOOS == "linux" && runtime.GOARCH == "amd64"
}
