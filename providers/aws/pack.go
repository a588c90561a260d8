package aws

import (
	"context"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
)

// packFunc packages one task: the zip its Lambda function runs.
type packFunc func(ctx context.Context, arch Arch, spec fnspec.TaskSpec, wasmPath, cacheDir string) ([]byte, error)

// packLambda packages a task with lambdazip: the generic bootstrap, the
// task's module byte for byte and its spec.
func packLambda(ctx context.Context, arch Arch, spec fnspec.TaskSpec, wasmPath, cacheDir string) ([]byte, error) {
	return lambdazip.Package(ctx, lambdazip.PackageOptions{Arch: string(arch), Spec: spec, WasmPath: wasmPath, CacheDir: cacheDir})
}

// Pack implements compile.Target.
func (t target) Pack(ctx context.Context, dep *deployment, i int) ([]byte, error) {
	td := dep.Tasks[i]
	return t.pack(ctx, td.Arch, td.TaskSpec(dep.Pipeline), td.Module.Path, dep.Options.CacheDir)
}

// Packed implements compile.Target: Lambda also bounds the code unzipped.
func (target) Packed(_ *deployment, _ int, a *compile.Artifact, problem func(string, ...any)) error {
	checkArtifact(a.Packed, problem)
	return nil
}
