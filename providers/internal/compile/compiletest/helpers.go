package compiletest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject/projecttest"
	"github.com/glacier-pipeline/glacier/store"
)

// Design runs what compile.Run does before it packs: t's decisions on p
// with opts, and every problem.
func Design[D any](t *testing.T, p *glacier.Pipeline, target compile.Target[D], opts compile.Options) (D, glacier.Problems) {
	t.Helper()
	dep, probs, err := compile.Design(p, target, opts)
	require.NoError(t, err)
	return dep, probs
}

// Problems returns probs as strings, errors and warnings apart.
func Problems(probs glacier.Problems) (errs, warns []string) {
	for _, p := range probs {
		if p.Severity == glacier.Error {
			errs = append(errs, p.String())
		} else {
			warns = append(warns, p.String())
		}
	}
	return errs, warns
}

// AssertProblems checks that got are exactly as many problems as want,
// the i-th holding want[i].
func AssertProblems(t *testing.T, got, want []string) {
	t.Helper()
	require.Len(t, got, len(want), "problems: %q", got)
	for i, w := range want {
		assert.True(t, strings.Contains(got[i], w), "problem %q does not hold %q", got[i], w)
	}
}

// ProgramNames are the names no variable of spec's written program may
// take.
func ProgramNames(t *testing.T, spec *compile.Spec) []string {
	t.Helper()
	names, err := compile.ProgramNames(spec)
	require.NoError(t, err)
	return names
}

// Project checks the project spec's compiler wrote in out (see
// projecttest.Suite): the cloud's mock outputs are
// testdata/mocks/outputs.go.txt, and -update rewrites the go.mod and
// go.sum templates.
func Project(t *testing.T, spec *compile.Spec, out string, check func(*testing.T, projecttest.Program)) {
	t.Helper()
	projecttest.Require(t)
	outputs, err := os.ReadFile(filepath.Join("testdata", "mocks", "outputs.go.txt"))
	require.NoError(t, err)
	suite := projecttest.Suite{Outputs: outputs, Requires: spec.Requires(), Templates: "templates", Update: *Update}
	suite.Run(t, out, check)
}

// ModuleFiles checks that spec's embedded go.mod requires the SDK
// versions spec names; Project under -update rewrites it.
func ModuleFiles(t *testing.T, spec *compile.Spec) {
	t.Helper()
	mod, err := fs.ReadFile(spec.Program, "templates/go.mod.txt")
	require.NoError(t, err)
	projecttest.CheckRequires(t, mod, spec.Requires())
}

// Buckets is an emulated object store, as fakes3 and fakegcs serve one.
type Buckets interface {
	PutObject(tb testing.TB, bucket, key string, data []byte)
	GetObject(tb testing.TB, bucket, key string) ([]byte, bool)
}

// Retired checks that the version of a dataset in bucket holding replaced
// bytes, which a commit replaced, left its name for its retired one
// (store.Retire), whole.
func Retired(t *testing.T, srv Buckets, bucket string, replaced []byte) {
	t.Helper()
	_, kept, retired, ok := versionAt(t, srv, bucket, replaced)
	assert.False(t, kept, "the replaced version is no version any more")
	assert.True(t, ok && bytes.Equal(retired, replaced), "the replaced version is retired, whole")
}

// Kept checks that the version of a dataset in bucket holding current
// bytes is a version, and was not retired.
func Kept(t *testing.T, srv Buckets, bucket string, current []byte) {
	t.Helper()
	got, kept, _, retired := versionAt(t, srv, bucket, current)
	assert.True(t, kept && bytes.Equal(got, current), "the current version is a version, whole")
	assert.False(t, retired, "the current version was not retired")
}

// versionAt reads the version of bytes b in bucket and its retired copy.
func versionAt(t *testing.T, srv Buckets, bucket string, b []byte) (version []byte, isVersion bool, retired []byte, isRetired bool) {
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	version, isVersion = srv.GetObject(t, bucket, store.ObjectName(digest))
	retired, isRetired = srv.GetObject(t, bucket, store.RetiredName(digest))
	return version, isVersion, retired, isRetired
}

// Upload does on an emulator what the program compiled into out from d
// uploads: each source as its stable name and as its version (for a
// partitioned source, each part as its version, the part list as the
// version and the list of parts' objects as the stable name), its record
// in the state bucket, and the layout record naming each dataset's bucket
// (scheme://bucketOf(dataset)) and each task's module, of mods.
func Upload(t *testing.T, srv Buckets, d *compile.Deployment, out, scheme, state string, bucketOf func(dataset string) string,
	mods map[string]build.Module) {
	t.Helper()
	rec := store.LayoutRecord{Pipeline: d.Pipeline, Datasets: map[string]string{}, Modules: map[string]string{}}
	for _, ds := range d.Datasets {
		rec.Datasets[ds.Name] = scheme + "://" + bucketOf(ds.Name)
		if ds.Source == "" {
			continue
		}
		read := func(name string) []byte {
			data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
			require.NoError(t, err)
			return data
		}
		if ds.Partitioned {
			entries, err := fnspec.DecodeParts(read(ds.PartListFile()))
			require.NoError(t, err)
			for _, e := range entries {
				srv.PutObject(t, bucketOf(ds.Name), e.Object, read(path.Join(ds.SourceFile(), e.Key)))
			}
			srv.PutObject(t, bucketOf(ds.Name), ds.Name, read(ds.PartListFile()))
		} else {
			srv.PutObject(t, bucketOf(ds.Name), ds.Name, read(ds.SourceFile()))
		}
		srv.PutObject(t, bucketOf(ds.Name), ds.SourceObject(), read(ds.VersionFile()))
		srv.PutObject(t, state, d.SourceRecordName(ds.Name), read(ds.SourceRecordFile()))
	}
	for _, task := range d.Tasks {
		require.Contains(t, mods, task.Name)
		rec.Modules[task.Name] = mods[task.Name].SHA256
	}
	layout, err := json.Marshal(rec)
	require.NoError(t, err)
	srv.PutObject(t, state, d.LayoutName(), layout)
}
