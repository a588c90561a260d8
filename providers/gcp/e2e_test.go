package gcp

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// TestBundles compiles examples/etl with its real modules and the real
// packer, twice: every bundle holds the module glacier run executes, byte
// for byte, Cloud Functions can build it, and both compilations give the
// same bundles.
func TestBundles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds examples/etl's modules and vendors the function runtime")
	}
	m := etl(t)
	built, err := build.Modules(context.Background(), m.Pipeline, build.Options{Dir: m.Dir, OutDir: t.TempDir()})
	require.NoError(t, err)
	mods := map[string]build.Module{}
	for _, b := range built {
		mods[b.Task] = b
	}
	cache := t.TempDir()
	var trees [2]map[string]string
	for i := range trees {
		out := t.TempDir()
		comp, err := m.Pipeline.Compile(context.Background(), New(Options{Dir: m.Dir, Out: out, Modules: mods, CacheDir: cache}))
		require.NoError(t, err)
		for _, a := range comp.Artifacts {
			assert.Equal(t, mods[a.Task].SHA256, a.ModuleSHA256, "bundle of %s", a.Task)
			zb, err := os.ReadFile(filepath.Join(out, a.Path))
			require.NoError(t, err)
			packed, err := plan.Task{Module: mods[a.Task]}.Inspect("bundle", zb, spec.Read...)
			require.NoError(t, err)
			assert.Equal(t, mods[a.Task].SHA256, packed.ModuleSHA256)
			goVersion, err := pulumiproject.GoDirective(packed.Files["go.mod"])
			require.NoError(t, err)
			_, err = runtimeFor(goVersion, gcfbundle.Runtime)
			assert.NoError(t, err, "gcfbundle's own runtime builds the bundle")
		}
		trees[i] = compiletest.Tree(t, out)
	}
	assert.Equal(t, trees[0], trees[1])
}
