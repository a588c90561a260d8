package gcp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// packFunc makes one task's source bundle: the zip Cloud Functions builds
// the task's function from.
type packFunc func(ctx context.Context, spec fnspec.TaskSpec, wasmPath, cacheDir string) ([]byte, error)

// packBundle packs a task's source bundle with gcfbundle: the Go function
// that hosts the sandbox, the task's module byte for byte, and its spec.
func packBundle(ctx context.Context, spec fnspec.TaskSpec, wasmPath, cacheDir string) ([]byte, error) {
	return gcfbundle.Package(ctx, gcfbundle.PackageOptions{Spec: spec, WasmPath: wasmPath, CacheDir: cacheDir})
}

// Pack implements compile.Target.
func (t target) Pack(ctx context.Context, dep *deployment, i int) ([]byte, error) {
	td := dep.Tasks[i]
	return t.pack(ctx, td.TaskSpec(dep.Pipeline), td.Module.Path, dep.Options.CacheDir)
}

// Packed implements compile.Target: Cloud Functions must be able to build
// the bundle, from a go.mod at its root. It names the bundle's object after
// its content and picks the runtime that builds it.
func (target) Packed(dep *deployment, i int, a *compile.Artifact, problem func(string, ...any)) error {
	goMod, ok := a.Packed.Files["go.mod"]
	if !ok {
		return errors.New("the bundle has no go.mod at its root, which Cloud Functions needs to build it")
	}
	goVersion, err := pulumiproject.GoDirective(goMod)
	if err != nil {
		return fmt.Errorf("the bundle's %w", err)
	}
	t := &dep.Tasks[i]
	if t.Runtime, err = runtimeFor(goVersion, dep.Runtime); err != nil {
		problem("%v", err)
	}
	sum := sha256.Sum256(a.Data)
	t.BundleObject = fmt.Sprintf("%s-%s.zip", t.Name, hex.EncodeToString(sum[:])[:16])
	t.EntryPoint = gcfbundle.EntryPoint
	return nil
}
