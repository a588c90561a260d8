package aws

import (
	"context"

	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/sdk-guest/abi"
)

// packLambda packages a task with lambdazip: the generic bootstrap, the
// task's module byte for byte and its spec.
func packLambda(ctx context.Context, dep *deployment, t taskDecl, cacheDir string) ([]byte, error) {
	return lambdazip.Package(ctx, lambdazip.PackageOptions{
		Arch:     t.Arch,
		Spec:     taskSpec(dep, t),
		WasmPath: t.Module.Path,
		CacheDir: cacheDir,
	})
}

// taskSpec is what the bootstrap needs to know about a task.
func taskSpec(dep *deployment, t taskDecl) fnrt.TaskSpec {
	return fnrt.TaskSpec{
		ABI:          abi.Version,
		Pipeline:     dep.Pipeline,
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
