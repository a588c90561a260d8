package gcp

import (
	"context"

	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/sdk-guest/abi"
)

// entryPoint is the Go function Cloud Functions calls in every bundle.
const entryPoint = gcfbundle.EntryPoint

// packBundle packs a task's source bundle with gcfbundle: the Go function
// that hosts the sandbox, the task's module byte for byte, and its spec.
func packBundle(ctx context.Context, pipeline string, t taskDecl, cacheDir string) ([]byte, error) {
	return gcfbundle.Package(ctx, gcfbundle.PackageOptions{
		Spec:     taskSpec(pipeline, t),
		WasmPath: t.Module.Path,
		CacheDir: cacheDir,
	})
}

// taskSpec is what the function is told about its task: the same limits
// the function is deployed with.
func taskSpec(pipeline string, t taskDecl) fnrt.TaskSpec {
	return fnrt.TaskSpec{
		ABI:          abi.Version,
		Pipeline:     pipeline,
		Task:         t.Name,
		ModuleSHA256: t.Module.SHA256,
		Params:       t.Params,
		Inputs:       t.Reads,
		Outputs:      t.Writes,
		MemoryMiB:    t.MemoryMiB,
		TimeoutSecs:  t.TimeoutSecs,

		CompileMemoryMiB:   t.Limits.Compile.MemoryMiB,
		CompileTimeoutSecs: t.Limits.Compile.TimeoutSecs,
	}
}
