package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/daylogs"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/gcp/internal/gcftest"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// mapFiles and mapDays shape the generated folder of TestMapEndToEnd, as
// in providers/local's TestPartitionedPipeline: mapFiles files of two
// "day,value" lines over mapDays days.
const mapFiles, mapDays = 2000, 30

// poisonKey is the part TestMapEndToEnd poisons.
const poisonKey = "07/0007.log"

// mapProject is the 2,000-file pipeline of providers/local's
// TestPartitionedPipeline, serverless, in a project directory of its own:
// parse maps over logs with a broadcast input (header); split fans out
// one part per day; daysum maps over the days in batches of 7; total fans
// in. parse fails on a part holding "POISON" and tolerates tolerated% of
// its parts failing.
type mapProject struct {
	dir  string
	p    *glacier.Pipeline
	mods map[string]build.Module
	data map[string]string // key → the file's text
}

func newMapProject(t *testing.T, concat, partsum string, data map[string]string, tolerated float64) *mapProject {
	t.Helper()
	pr := &mapProject{dir: t.TempDir(), p: glacier.New("maps"), data: data}
	write := func(name, text string) {
		path := filepath.Join(pr.dir, "data", filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	for key, text := range data {
		write("logs/"+key, text)
	}
	write("header", "# parsed v1\n")
	obj := glacier.ObjectStorage{}
	add := func(d glacier.Dataset) { require.NoError(t, pr.p.AddDataset(d)) }
	add(glacier.Dataset{Name: "logs", Storage: obj, Source: "data/logs", Partitioned: true})
	add(glacier.Dataset{Name: "header", Storage: obj, Source: "data/header"})
	for _, name := range []string{"parsed", "days", "daysums"} {
		add(glacier.Dataset{Name: name, Storage: obj, Partitioned: true})
	}
	add(glacier.Dataset{Name: "report", Storage: obj})
	task := func(tk glacier.Task) {
		tk.Compute = glacier.Serverless{Memory: 128, Timeout: 120}
		require.NoError(t, pr.p.AddTask(tk))
	}
	task(glacier.Task{Name: "parse", Module: concat, Inputs: []string{"header", "logs"}, Outputs: []string{"parsed"}, Map: "logs",
		Params: map[string]string{"poison": "POISON"}, ToleratedFailures: tolerated})
	task(glacier.Task{Name: "split", Module: partsum, Inputs: []string{"parsed"}, Outputs: []string{"days"}, Params: map[string]string{"mode": "split"}})
	task(glacier.Task{Name: "daysum", Module: partsum, Inputs: []string{"days"}, Outputs: []string{"daysums"}, Map: "days",
		MapBatch: 7, Params: map[string]string{"mode": "sum"}})
	task(glacier.Task{Name: "total", Module: partsum, Inputs: []string{"daysums"}, Outputs: []string{"report"}, Params: map[string]string{"mode": "total"}})
	require.Empty(t, pr.p.Validate())
	built, err := build.Modules(context.Background(), pr.p, build.Options{Dir: pr.dir})
	require.NoError(t, err)
	pr.mods = map[string]build.Module{}
	for _, m := range built {
		pr.mods[m.Task] = m
	}
	return pr
}

// want is the report computed from the files alone, leaving out the
// files holding POISON.
func (pr *mapProject) want(t *testing.T) string {
	r, err := daylogs.Report(pr.data)
	require.NoError(t, err)
	return r
}

// runLocally runs the project with glacier run's executor and returns
// every output (a partitioned one's parts by key, the report under "")
// and what became of each map task's parts.
func (pr *mapProject) runLocally(t *testing.T) (map[string]map[string]string, map[string]*fnspec.PartCounts) {
	t.Helper()
	exec := local.New(local.Options{Dir: pr.dir, Modules: slices.Collect(maps.Values(pr.mods)), Parallel: 2})
	_, err := pr.p.Run(context.Background(), exec)
	require.NoError(t, err)
	counts := map[string]*fnspec.PartCounts{}
	for _, tr := range exec.LastRun().Tasks {
		counts[tr.Task] = tr.Parts
	}
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	out := map[string]map[string]string{}
	for _, d := range []string{"parsed", "days", "daysums"} {
		parts, err := store.PartsOf(pr.p, d)
		require.NoError(t, err)
		out[d] = map[string]string{}
		for _, p := range parts {
			b, err := os.ReadFile(store.ObjectPath(p.Digest))
			require.NoError(t, err)
			out[d][p.Key] = string(b)
		}
	}
	report, err := store.Read(pr.p, "report")
	require.NoError(t, err)
	out["report"] = map[string]string{"": string(report)}
	return out, counts
}

// write makes key's file of the logs source hold text, in the project
// and in pr.data.
func (pr *mapProject) write(t *testing.T, key, text string) {
	t.Helper()
	pr.data[key] = text
	path := filepath.Join(pr.dir, "data", "logs", filepath.FromSlash(key))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

// remove deletes key's file of the logs source.
func (pr *mapProject) remove(t *testing.T, key string) {
	t.Helper()
	delete(pr.data, key)
	require.NoError(t, os.Remove(filepath.Join(pr.dir, "data", "logs", filepath.FromSlash(key))))
}

// cloud is a deployment of a mapProject on this machine: a bucket per
// dataset and the store's state bucket on a fake Cloud Storage, seeded as
// the program seeds them, and each task's bundle served by the Functions
// Framework.
type cloud struct {
	srv *fakegcs.Server
	fns map[string]*gcftest.Function
	out string // the compiled project
}

// mapState is the state bucket of a deployed mapProject.
const mapState = "e2e-glacier-state"

// bucketFor names the bucket of a dataset in the fake Cloud Storage.
func bucketFor(dataset string) string { return "e2e-" + strings.ReplaceAll(dataset, "_", "-") }

// deploy makes the buckets and deploys pr.
func deploy(t *testing.T, pr *mapProject) *cloud {
	t.Helper()
	c := &cloud{srv: fakegcs.Start(t), fns: map[string]*gcftest.Function{}}
	for _, d := range pr.p.Datasets() {
		c.srv.CreateBucket(t, bucketFor(d.Name))
	}
	c.srv.CreateBucket(t, mapState)
	c.redeploy(t, pr)
	return c
}

// redeploy compiles pr with the real packer, seeds the buckets with its
// sources as the program uploads them, and serves each task's bundle
// that changed, as pulumi up after a change does.
func (c *cloud) redeploy(t *testing.T, pr *mapProject) {
	t.Helper()
	opts := Options{Dir: pr.dir, Out: t.TempDir(), Modules: pr.mods, CacheDir: gcftest.CacheDir()}
	_, err := pr.p.Compile(context.Background(), New(opts))
	require.NoError(t, err)
	dep, probs := designFor(t, pr.p, opts)
	require.NoError(t, probs.Err())
	compiletest.Upload(t, c.srv, dep.Deployment, opts.Out, "gs", mapState, bucketFor, pr.mods)
	urls := map[string]string{}
	for _, d := range dep.Datasets {
		urls[d.Name] = "gs://" + bucketFor(d.Name) + "/" + d.Name
	}
	before := c.out
	c.out = opts.Out
	for _, task := range dep.Tasks {
		zb, err := os.ReadFile(filepath.Join(c.out, task.Artifact))
		require.NoError(t, err)
		if before != "" {
			old, err := os.ReadFile(filepath.Join(before, task.Artifact))
			require.NoError(t, err)
			if bytes.Equal(old, zb) {
				continue
			}
			c.fns[task.Name].Stop()
		}
		c.fns[task.Name] = gcftest.Launch(t, gcftest.Build(t, task.Name, zb), map[string]string{
			"STORAGE_EMULATOR_HOST": c.srv.Host,
			fnspec.DatasetsEnv:      gcftest.DatasetsEnv(t, urls, task.Touches()...),
			fnspec.StateEnv:         "gs://" + mapState,
		})
		require.NoError(t, c.fns[task.Name].WaitReady(2*time.Minute), "function %s:\n%s", task.Name, c.fns[task.Name].Output())
	}
}

// run walks the compiled workflow with the functions' URLs in its
// environment, as the program sets them, and execution ID runID.
func (c *cloud) run(t *testing.T, runID string) (*walker, any, error) {
	t.Helper()
	def, err := os.ReadFile(filepath.Join(c.out, "workflow.yaml"))
	require.NoError(t, err)
	urls, tasks := map[string]string{}, map[string]string{}
	for name, f := range c.fns {
		urls[name], tasks[f.URL] = f.URL, name
	}
	js, err := json.Marshal(urls)
	require.NoError(t, err)
	w := newWalker(t, def, map[string]string{urlsEnv: string(js), "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": runID}, tasks)
	ret, err := w.Run(t.Context())
	return w, ret, err
}

// outputs reads every output as the cloud holds it: a partitioned one's
// parts through the list at its stable name, the report under "".
func (c *cloud) outputs(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, d := range []string{"parsed", "days", "daysums"} {
		list, ok := c.srv.GetObject(t, bucketFor(d), d)
		require.True(t, ok, "dataset %s has no part list", d)
		entries, err := fnspec.DecodeParts(list)
		require.NoError(t, err)
		out[d] = map[string]string{}
		for _, e := range entries {
			data, ok := c.srv.GetObject(t, bucketFor(d), e.Object)
			require.True(t, ok, "dataset %s: part %s's object %s is missing", d, e.Key, e.Object)
			out[d][e.Key] = string(data)
		}
	}
	report, ok := c.srv.GetObject(t, bucketFor("report"), "report")
	require.True(t, ok)
	out["report"] = map[string]string{"": string(report)}
	return out
}

// lists are the current objects of the outputs: what a run commits.
func (c *cloud) lists(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		data, _ := c.srv.GetObject(t, bucketFor(d), d)
		out[d] = string(data)
	}
	return out
}

// calls counts the workflow's calls by task and kind (run, plan, batch
// I, commit).
func calls(w *walker) map[string]int {
	out := map[string]int{}
	for _, c := range w.Calls {
		kind := "run"
		switch {
		case c.Body["plan"] == true:
			kind = "plan"
		case c.Body["commit"] == true:
			kind = "commit"
		case c.Body["batch"] != nil:
			kind = fmt.Sprintf("batch %v", c.Body["batch"])
		}
		out[c.Task+" "+kind]++
	}
	return out
}

// wantCalls are the calls of a run that succeeds: each map task's plan,
// each of its batches once, and its commit; each other task once.
func wantCalls(parseBatches, daysumBatches int) map[string]int {
	out := map[string]int{"parse plan": 1, "parse commit": 1, "split run": 1, "daysum plan": 1, "daysum commit": 1, "total run": 1}
	for i := range parseBatches {
		out[fmt.Sprintf("parse batch %d", i)] = 1
	}
	for i := range daysumBatches {
		out[fmt.Sprintf("daysum batch %d", i)] = 1
	}
	return out
}

// TestMapEndToEnd runs the 2,000-file pipeline of providers/local's
// TestPartitionedPipeline on Google Cloud as far as this machine can: the
// compiled bundles under the Functions Framework over a fake Cloud
// Storage, called in the order of the compiled workflow, which a walker
// runs step by step (plan, the parallel loop of batches, commit). The
// outputs are byte for byte glacier run's, and the report is what the
// files add up to. An unchanged execution runs no part; after one file
// changed, one added and one deleted, each map task runs the parts glacier
// run runs. Then a poison
// part: the run fails and commits nothing; with tolerated_failures, the
// commit leaves the part out, as glacier run does, and every other part
// is found in the memo; fixed, the part runs alone.
func TestMapEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and serves four Cloud Functions bundles and runs 2,000 parts; run without -short")
	}
	gcftest.NeedGo(t)
	concat := wasmbuild.Build(t, "../../testdata/wasm/concat")
	partsum := wasmbuild.Build(t, "../../testdata/wasm/partsum")
	data := daylogs.Files(mapFiles, mapDays)
	pr := newMapProject(t, concat, partsum, maps.Clone(data), 0)
	start := time.Now()
	c := deploy(t, pr)
	t.Logf("compiled, seeded and served four bundles in %v", time.Since(start).Round(time.Millisecond))
	counts := func(ret any, task string) any {
		return withoutKeys(ret.(map[string]any)[task].(map[string]any)["parts"])
	}
	parts := func(total, ran, cached, failed int) any {
		return map[string]any{"total": float64(total), "ran": float64(ran), "cached": float64(cached), "failed": float64(failed)}
	}

	start = time.Now()
	w, ret, err := c.run(t, "e2e-1")
	require.NoError(t, err, "the workflow failed; functions' output:\n%s", c.output())
	t.Logf("2,000 parts through the workflow in %v", time.Since(start).Round(time.Millisecond))
	parseBatches := (mapFiles + glacier.DefaultMapBatch - 1) / glacier.DefaultMapBatch
	assert.Equal(t, wantCalls(parseBatches, (mapDays+6)/7), calls(w))
	assert.Equal(t, parts(mapFiles, mapFiles, 0, 0), counts(ret, "parse"), "parse's commit counts its parts")

	got := c.outputs(t)
	assert.Equal(t, pr.want(t), got["report"][""], "the report is what the files add up to")
	start = time.Now()
	local, _ := pr.runLocally(t)
	t.Logf("glacier run's executor ran the 2,000 parts in %v", time.Since(start).Round(time.Millisecond))
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		assert.Equal(t, local[d], got[d], "%s differs from glacier run's", d)
	}
	assert.Len(t, got["parsed"], mapFiles)

	// Unchanged: the workflow calls as before, and nothing runs.
	w, ret, err = c.run(t, "e2e-again")
	require.NoError(t, err, "the workflow failed; functions' output:\n%s", c.output())
	assert.Equal(t, wantCalls(parseBatches, (mapDays+6)/7), calls(w))
	assert.Equal(t, parts(mapFiles, 0, mapFiles, 0), counts(ret, "parse"))
	assert.Equal(t, parts(mapDays, 0, mapDays, 0), counts(ret, "daysum"))
	for task, r := range ret.(map[string]any) {
		assert.Equal(t, "cached", r.(map[string]any)["status"], task)
	}

	// One file changed, one added, one deleted: each map task runs exactly
	// the parts glacier run runs over the same change.
	pr.write(t, "00/0000.log", "d03,1000\n")
	pr.write(t, "new/extra.log", "d05,20\nd29,3\n")
	pr.remove(t, "01/0001.log")
	local, want := pr.runLocally(t)
	require.Equal(t, 2, want["parse"].Ran, "glacier run reran the changed file and the added one")
	c.redeploy(t, pr)
	_, ret, err = c.run(t, "e2e-changed")
	require.NoError(t, err, "the workflow failed; functions' output:\n%s", c.output())
	for _, task := range []string{"parse", "daysum"} {
		w := want[task]
		assert.Equal(t, parts(w.Total, w.Ran, w.Cached, w.Failed), counts(ret, task), "%s runs the parts glacier run ran", task)
	}
	got = c.outputs(t)
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		assert.Equal(t, local[d], got[d], "%s differs from glacier run's after the change", d)
	}
	assert.Equal(t, pr.want(t), got["report"][""])

	// A poison part: the batch holding it fails, so the loop and the
	// workflow do, before any commit.
	before := c.lists(t)
	pr.write(t, poisonKey, "POISON\n")
	c.redeploy(t, pr)
	w, _, err = c.run(t, "e2e-2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `part \"`+poisonKey+`\"`)
	assert.Equal(t, before, c.lists(t), "a failed run commits nothing: every output is as it was")
	assert.Zero(t, calls(w)["parse commit"], "the commit never ran")
	assert.Zero(t, calls(w)["split run"], "nothing downstream ran")
	assert.Equal(t, 1, calls(w)["parse plan"])

	// The same with tolerated_failures: 1% of 2,000 parts may fail. The
	// commit leaves the part out, the other parts are in the memo, and the
	// outputs follow, as glacier run's do.
	tolerant := newMapProject(t, concat, partsum, maps.Clone(pr.data), 1)
	c.redeploy(t, tolerant)
	w, ret, err = c.run(t, "e2e-3")
	require.NoError(t, err, "one failed part of 2,000 is within 1%%; functions' output:\n%s", c.output())
	assert.Equal(t, 1, calls(w)["parse commit"])
	require.Len(t, w.Logs, 1, "the failed batch is logged")
	assert.Equal(t, "parse", w.Logs[0].(map[string]any)["json"].(map[string]any)["task"])
	assert.Equal(t, parts(mapFiles, 0, mapFiles-1, 1), counts(ret, "parse"))
	got = c.outputs(t)
	assert.NotContains(t, got["parsed"], poisonKey)
	assert.Len(t, got["parsed"], mapFiles-1)
	assert.Equal(t, tolerant.want(t), got["report"][""], "the report leaves the poisoned file out")
	local, _ = tolerant.runLocally(t)
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		assert.Equal(t, local[d], got[d], "%s differs from glacier run's with the same tolerance", d)
	}

	// Fixed with new lines: that part runs alone.
	tolerant.write(t, poisonKey, "d03,5\n")
	c.redeploy(t, tolerant)
	_, ret, err = c.run(t, "e2e-4")
	require.NoError(t, err, "functions' output:\n%s", c.output())
	assert.Equal(t, parts(mapFiles, 1, mapFiles-1, 0), counts(ret, "parse"))
	got = c.outputs(t)
	local, _ = tolerant.runLocally(t)
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		assert.Equal(t, local[d], got[d], "%s differs from glacier run's", d)
	}
	assert.Equal(t, tolerant.want(t), got["report"][""])
}

// withoutKeys drops the failures' list from a PartCounts as JSON.
func withoutKeys(v any) any {
	m := maps.Clone(v.(map[string]any))
	delete(m, "failed_keys")
	return m
}

// output is every function's output, for a failure's message.
func (c *cloud) output() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(c.fns)) {
		fmt.Fprintf(&b, "--- %s\n%s\n", name, c.fns[name].Output())
	}
	return b.String()
}
