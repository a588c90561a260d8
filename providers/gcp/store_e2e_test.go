package gcp

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/etlgolden"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	"github.com/glacier-pipeline/glacier/internal/testutil/glacierbin"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/gcp/internal/gcftest"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
)

// TestStoreEndToEnd deploys examples/etl with its store as far as this
// machine can: the compiled bundles are built and served by the Functions
// Framework, the buckets live on a fake Cloud Storage holding what the
// Pulumi program uploads (each source as its stable name and as a version
// in the store, and its record in the state bucket), and a walker runs
// the compiled workflow. The first execution runs every task, with
// outputs byte for byte the golden ones; the second runs no guest, every
// task answering cached; after a source changes and is deployed again,
// exactly the tasks with a changed input run, and the outputs are
// glacier run's over the changed project.
func TestStoreEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and serves five Cloud Functions bundles; run without -short")
	}
	gcftest.NeedGo(t)
	m := etl(t)
	built, err := build.Modules(context.Background(), m.Pipeline, build.Options{Dir: m.Dir, OutDir: t.TempDir()})
	require.NoError(t, err)
	mods := map[string]build.Module{}
	for _, b := range built {
		mods[b.Task] = b
	}
	compileAt := func(m *manifest.Manifest) (*deployment, string) {
		out := t.TempDir()
		opts := Options{Dir: m.Dir, Out: out, Modules: mods, CacheDir: gcftest.CacheDir()}
		_, err := m.Pipeline.Compile(context.Background(), New(opts))
		require.NoError(t, err)
		dep, probs := designFor(t, m.Pipeline, opts)
		require.NoError(t, probs.Err())
		return dep, out
	}
	dep, out := compileAt(m)
	require.NotEmpty(t, dep.StateLogical, "examples/etl keeps a store")

	srv := fakegcs.Start(t)
	urls := map[string]string{}
	for _, d := range dep.Datasets {
		b := bucketFor(d.Name)
		srv.CreateBucket(t, b)
		urls[d.Name] = "gs://" + b + "/" + d.Name
	}
	state := bucketFor(dep.StateLogical)
	srv.CreateBucket(t, state)
	// upload does what the program's uploads do for the project compiled
	// into out with dep.
	upload := func(dep *deployment, out string) {
		compiletest.Upload(t, srv, dep.Deployment, out, "gs", state, bucketFor, mods)
	}
	upload(dep, out)

	c := &cloud{srv: srv, fns: map[string]*gcftest.Function{}, out: out}
	for _, task := range dep.Tasks {
		zb, err := os.ReadFile(filepath.Join(out, task.Artifact))
		require.NoError(t, err)
		c.fns[task.Name] = gcftest.Launch(t, gcftest.Build(t, task.Name, zb), map[string]string{
			"STORAGE_EMULATOR_HOST": srv.Host,
			fnspec.DatasetsEnv:      gcftest.DatasetsEnv(t, urls, task.Touches()...),
			fnspec.StateEnv:         "gs://" + state,
		})
	}
	for name, f := range c.fns {
		require.NoError(t, f.WaitReady(2*time.Minute), "function %s:\n%s", name, f.Output())
	}

	// execute walks the workflow once and returns each task's status.
	execute := func(run string) map[string]string {
		_, ret, err := c.run(t, run)
		require.NoError(t, err, "%s: the workflow failed; functions' output:\n%s", run, c.output())
		out := map[string]string{}
		for task, r := range ret.(map[string]any) {
			resp := r.(map[string]any)
			assert.Equal(t, run, resp["run_id"])
			out[task] = resp["status"].(string)
		}
		return out
	}
	check := func(run string, want func(dataset string) []byte) {
		for _, task := range dep.Tasks {
			for _, ds := range task.Writes {
				got, ok := srv.GetObject(t, bucketFor(ds), ds)
				require.True(t, ok, "%s: %s wrote no %s", run, task.Name, ds)
				assert.True(t, bytes.Equal(want(ds), got), "%s: %s: %d bytes in Cloud Storage, %d expected", run, ds, len(got), len(want(ds)))
			}
		}
	}
	all := func(status string) map[string]string {
		out := map[string]string{}
		for _, task := range dep.Tasks {
			out[task.Name] = status
		}
		return out
	}
	golden := func(ds string) []byte { return etlgolden.Output(t, ds) }

	assert.Equal(t, all("succeeded"), execute("e2e-run"), "the first execution runs every task")
	check("e2e-run", golden)
	assert.Equal(t, all("cached"), execute("e2e-again"), "an unchanged pipeline runs no guest")
	check("e2e-again", golden)

	m2, want := etlgolden.Changed(t, mods)
	dep2, out2 := compileAt(m2)
	for _, task := range dep.Tasks {
		a, err := os.ReadFile(filepath.Join(out, task.Artifact))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(out2, task.Artifact))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "a changed source changes no bundle (%s)", task.Name)
	}
	upload(dep2, out2)
	expect := map[string]string{}
	for _, task := range dep.Tasks {
		expect[task.Name] = "cached"
		for _, in := range task.Reads {
			if in == etlgolden.ChangedSource || !etlgolden.IsSource(t, in) && !bytes.Equal(golden(in), want(in)) {
				expect[task.Name] = "succeeded"
			}
		}
	}
	assert.Equal(t, "cached", expect["clean_orders"], "orders did not change")
	got := execute("e2e-changed")
	t.Logf("after the change: %v", got)
	assert.Equal(t, expect, got, "exactly the tasks with a changed input run")
	check("e2e-changed", want)
	// customer_stats has retention_days: the version the change replaced
	// left its name for its retired one, where a lifecycle rule expires it.
	// daily_revenue has too, but ran to the same bytes: nothing retired.
	compiletest.Retired(t, srv, bucketFor("customer_stats"), golden("customer_stats"))
	require.Equal(t, "succeeded", got["daily_revenue"])
	compiletest.Kept(t, srv, bucketFor("daily_revenue"), want("daily_revenue"))
	assert.Equal(t, slices.Sorted(maps.Keys(expect)), slices.Sorted(maps.Keys(got)))

	// The CLI reads the deployed store through gs://, as it does s3://.
	bin := glacierbin.Build(t)
	cli := func(args ...string) string {
		t.Helper()
		return glacierbin.Run(t, bin, m2.Dir, srv.Env(), args...)
	}
	remote := "gs://" + state
	assert.Regexp(t, `(?m)^e2e-again +succeeded +.* 5 cached$`, cli("runs", "--remote", remote))
	assert.Equal(t, string(want("customer_stats")), cli("cat", "--remote", remote, "customer_stats"))
	assert.Regexp(t, `(?m)^summarised \d+ orders of \d+ customers$`, cli("logs", "--remote", remote, "customer_stats"))
}
