package gcp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// packFunc makes one task's source bundle: the zip Cloud Functions builds
// the task's function from.
type packFunc func(ctx context.Context, pipeline string, t taskDecl, cacheDir string) ([]byte, error)

// bundle is one task's packed source bundle, ready to write.
type bundle struct {
	glacier.Artifact
	Zip []byte
	// GoVersion is the go line of the bundle's go.mod.
	GoVersion string
}

// MaxBundleBytes bounds a source bundle: Cloud Functions deploys sources
// of at most 100 MiB compressed from Cloud Storage.
const MaxBundleBytes = 100 << 20

// bundles packs every task and checks each bundle: its module must be the
// one built, byte for byte, and Cloud Functions must be able to build it.
// It fills in each task's bundle object, runtime and entry point, and
// reports every problem at once.
func (c *Compiler) bundles(ctx context.Context, dep *deployment, cacheDir string) ([]bundle, error) {
	var out []bundle
	var probs glacier.Problems
	report := plan.Reporter(&probs)
	for i := range dep.Tasks {
		t := &dep.Tasks[i]
		zb, err := c.pack(ctx, dep.Pipeline, *t, cacheDir)
		if err != nil {
			return nil, fmt.Errorf("gcp: packaging task %q: %w", t.Name, err)
		}
		b, err := inspectBundle(t.Task, zb)
		if err != nil {
			return nil, fmt.Errorf("gcp: packaging task %q: %w", t.Name, err)
		}
		problem := report(glacier.Error, "task", t.Name)
		if len(zb) > MaxBundleBytes {
			problem("its source bundle is %s, over the %s Cloud Functions deploys; make the module smaller",
				plan.MiB(int64(len(zb))), plan.MiB(MaxBundleBytes))
		}
		rt, err := runtimeFor(b.GoVersion, dep.Runtime)
		if err != nil {
			problem("%v", err)
		}
		sum := sha256.Sum256(zb)
		t.BundleObject = fmt.Sprintf("%s-%s.zip", t.Name, hex.EncodeToString(sum[:])[:16])
		t.Runtime = rt
		t.EntryPoint = entryPoint
		b.Task, b.Path, b.Size = t.Name, t.Bundle, int64(len(zb))
		out = append(out, b)
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("cannot compile pipeline %q for GCP: %w", dep.Pipeline, err)
	}
	return out, nil
}

// inspectBundle checks that t's bundle holds t's built module and reads
// the go line of its go.mod, which must be at the root, where Cloud
// Functions looks for it.
func inspectBundle(t plan.Task, zb []byte) (bundle, error) {
	packed, err := t.Inspect("bundle", zb, "go.mod")
	if err != nil {
		return bundle{}, err
	}
	goMod, ok := packed.Files["go.mod"]
	if !ok {
		return bundle{}, errors.New("the bundle has no go.mod at its root, which Cloud Functions needs to build it")
	}
	goVersion, err := pulumiproject.GoDirective(goMod)
	if err != nil {
		return bundle{}, fmt.Errorf("the bundle's %w", err)
	}
	return bundle{Artifact: glacier.Artifact{ModuleSHA256: packed.ModuleSHA256}, Zip: zb, GoVersion: goVersion}, nil
}
