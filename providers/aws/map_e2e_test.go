package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/daylogs"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/store"
)

// Sizes of the partitioned pipeline, as providers/local's
// TestPartitionedPipeline makes it.
const (
	mapFiles = 2000
	mapDays  = 30
)

// partsPipeline is providers/local's TestPartitionedPipeline, over a
// generated folder of 2,000 files of "day,value" lines in a new project:
// a map task with a broadcast input (parse: concat, which also fails on a
// file holding POISON), dynamic fan-out (split: one part per day), a
// second map task (daysum) and a fan-in (total). parse tolerates 5% of
// failed parts. It returns the project directory and the files, key →
// text.
func partsPipeline(t *testing.T) (*glacier.Pipeline, string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	data := daylogs.Files(mapFiles, mapDays)
	write := func(name, text string) {
		path := filepath.Join(dir, "data", filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	for key, text := range data {
		write("logs/"+key, text)
	}
	write("header", "# parsed v1\n")
	concat := wasmbuild.Build(t, "../../testdata/wasm/concat")
	partsum := wasmbuild.Build(t, "../../testdata/wasm/partsum")
	p := glacier.New("parts")
	obj := glacier.ObjectStorage{}
	for _, d := range []glacier.Dataset{
		{Name: "logs", Storage: obj, Source: "data/logs", Partitioned: true},
		{Name: "header", Storage: obj, Source: "data/header"},
		{Name: "parsed", Storage: obj, Partitioned: true},
		{Name: "days", Storage: obj, Partitioned: true},
		{Name: "daysums", Storage: obj, Partitioned: true},
		{Name: "report", Storage: obj},
	} {
		require.NoError(t, p.AddDataset(d))
	}
	for _, task := range []glacier.Task{
		{Name: "parse", Module: concat, Inputs: []string{"header", "logs"}, Outputs: []string{"parsed"}, Map: "logs",
			Params: map[string]string{"poison": "POISON"}, ToleratedFailures: 5},
		{Name: "split", Module: partsum, Inputs: []string{"parsed"}, Outputs: []string{"days"}, Params: map[string]string{"mode": "split"}},
		{Name: "daysum", Module: partsum, Inputs: []string{"days"}, Outputs: []string{"daysums"}, Map: "days", Params: map[string]string{"mode": "sum"}},
		{Name: "total", Module: partsum, Inputs: []string{"daysums"}, Outputs: []string{"report"}, Params: map[string]string{"mode": "total"}},
	} {
		task.Compute = glacier.Serverless{Timeout: 60}
		require.NoError(t, p.AddTask(task))
	}
	require.NoError(t, p.Validate().Err())
	return p, dir, data
}

// wantReport computes the report from the files alone, as
// TestPartitionedPipeline does: per day, the sum of its values.
func wantReport(t *testing.T, data map[string]string) string {
	t.Helper()
	r, err := daylogs.Report(data)
	require.NoError(t, err)
	return r
}

// TestMapEndToEnd runs the 2,000-file partitioned pipeline as deployed:
// compiled for AWS, its state machine run by aws-local-stepfunctions with
// each Distributed Map inlined (sfntest.Inline), every Task state invoking
// the task's own zip under the Lambda emulator, the datasets and the
// store's state in gofakes3, seeded as the program would.
//
//  1. The outputs equal, byte for byte and part by part, those glacier
//     run gives for the same project, the report a computation made here,
//     and every cache key glacier run's.
//  2. An unchanged execution runs no part and no task: all cached.
//  3. One file changed, one added, one deleted, deployed again: each map
//     task runs exactly the parts glacier run runs over the same change,
//     and the outputs follow.
//  4. 101 poisoned parts (over parse's 5% of 2,000) fail the execution at
//     the commit, and nothing new is committed.
//  5. One poisoned part: left out of the commit, the rest follows; the
//     other 100 are found in the memo.
//  6. The file fixed with new lines, only its part runs, and the outputs
//     are glacier run's again.
func TestMapEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 2,000 parts under the Lambda emulator; run without -short")
	}
	node := sfntest.Find(t)
	ctx := context.Background()
	p, dir, data := partsPipeline(t)
	built, err := build.Modules(ctx, p, build.Options{Dir: dir})
	require.NoError(t, err)
	mods := map[string]build.Module{}
	for _, m := range built {
		mods[m.Task] = m
	}
	write := func(key, text string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "logs", filepath.FromSlash(key)), []byte(text), 0o644))
	}

	// glacier run over the project as it stands: the parts each map task
	// ran, by task.
	localStore, err := local.OpenStore(dir)
	require.NoError(t, err)
	localRun := func() map[string]*fnspec.PartCounts {
		t.Helper()
		start := time.Now()
		rep, err := p.Run(ctx, local.New(local.Options{Dir: dir, Modules: built, Parallel: 2, Backoff: time.Millisecond}))
		require.NoError(t, err)
		t.Logf("glacier run: %v", time.Since(start).Round(time.Millisecond))
		rec, err := localStore.Run(rep.RunID)
		require.NoError(t, err)
		counts := map[string]*fnspec.PartCounts{}
		for _, tr := range rec.Tasks {
			if tr.Parts != nil {
				c := *tr.Parts
				counts[tr.Task] = &c
			}
		}
		return counts
	}
	localParts := func(dataset string) map[string]string {
		t.Helper()
		parts, err := localStore.PartsOf(p, dataset)
		require.NoError(t, err)
		out := map[string]string{}
		for _, part := range parts {
			b, err := os.ReadFile(localStore.ObjectPath(part.Digest))
			require.NoError(t, err)
			out[part.Key] = string(b)
		}
		return out
	}
	localRun()
	localReport, err := localStore.Read(p, "report")
	require.NoError(t, err)
	require.Equal(t, wantReport(t, data), string(localReport))

	// The same project compiled for AWS, and compiled again after each
	// change, as a redeployment does.
	compile := func() (string, *deployment) {
		t.Helper()
		opts := x86Opts
		opts.Dir, opts.Out, opts.CacheDir, opts.Modules = dir, filepath.Join(t.TempDir(), "out"), filepath.Join(modDir, "cache"), mods
		start := time.Now()
		_, err := p.Compile(ctx, New(opts))
		require.NoError(t, err)
		t.Logf("glacier compile: %v", time.Since(start).Round(time.Millisecond))
		dep, probs := designFor(t, p, opts)
		require.NoError(t, probs.Err())
		return opts.Out, dep
	}
	out, dep := compile()
	require.NotEmpty(t, dep.StateLogical, "a partitioned pipeline keeps a store")

	s3 := fakes3.Start(t)
	bucket := map[string]string{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + "-e2e"
		s3.CreateBucket(t, bucket[d.Name])
	}
	state := dep.StateLogical + "-e2e"
	s3.CreateBucket(t, state)
	deploy := func(out string, dep *deployment) {
		t.Helper()
		compiletest.Upload(t, s3, dep.Deployment, out, "s3", state, func(d string) string { return bucket[d] }, mods)
	}
	deploy(out, dep)
	// The definition with the buckets' names, as the program gives it.
	def := read(t, out, "statemachine.asl.json")
	for _, d := range dep.DefinitionBuckets {
		def = strings.ReplaceAll(def, bucketPlaceholder(d), bucket[d])
	}
	defPath := filepath.Join(t.TempDir(), "statemachine.asl.json")
	require.NoError(t, os.WriteFile(defPath, []byte(def), 0o644))
	functions := startFunctions(t, dep, out, bucket, state, func(string) map[string]string { return s3.Env() })
	task := map[string]string{} // function name -> task
	for _, td := range dep.Tasks {
		task[td.FunctionName] = td.Name
	}

	// execution is how a run of the state machine ended: how often each
	// state invoked its function, the parts the map tasks' invocations
	// ran, and each task's last response (a map task's commit's).
	type execution struct {
		*sfntest.Result
		calls     map[string]int
		partsRan  map[string]int
		responses map[string]fnspec.Response
	}
	run := func(name string) execution {
		t.Helper()
		var mu sync.Mutex
		x := execution{calls: map[string]int{}, partsRan: map[string]int{}, responses: map[string]fnspec.Response{}}
		handler := func(ctx context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
			var tn string
			body, resp, err := invokeTaskState(ctx, input, func(fn string) (*lambdarie.Function, error) {
				tn = task[fn]
				if state != tn && state != partsStateName(tn) && state != commitStateName(tn) {
					return nil, errors.New("state " + state + " invokes function " + fn)
				}
				mu.Lock()
				x.calls[state]++
				mu.Unlock()
				return functions[tn], nil
			})
			if err != nil {
				return nil, err
			}
			if resp.RunID != name {
				return nil, fmt.Errorf("state %s ran as run %q, not the execution's name %q", state, resp.RunID, name)
			}
			mu.Lock()
			defer mu.Unlock()
			if state == partsStateName(tn) {
				x.partsRan[tn] += resp.Parts.Ran
			} else {
				x.responses[tn] = resp
			}
			return body, nil
		}
		read := func(ctx context.Context, b, key string) ([]byte, error) {
			got, err := s3.Client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &b, Key: &key})
			if err != nil {
				return nil, err
			}
			defer got.Body.Close()
			var buf bytes.Buffer
			_, err = buf.ReadFrom(got.Body)
			return buf.Bytes(), err
		}
		// The deadline only stops a hung run.
		ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
		defer cancel()
		start := time.Now()
		res, err := node.Run(ctx, defPath, sfntest.Options{ExecutionName: name, Handler: handler, S3: read})
		require.NoError(t, err)
		x.Result = res
		t.Logf("execution %s: %s in %v", name, res.Status, time.Since(start).Round(time.Millisecond))
		return x
	}
	// parts returns the current parts of a partitioned dataset in S3, as
	// its stable name lists them.
	parts := func(dataset string) map[string]string {
		t.Helper()
		list, ok := s3.GetObject(t, bucket[dataset], dataset)
		require.True(t, ok, "no list of %s", dataset)
		entries, err := fnspec.DecodeParts(list)
		require.NoError(t, err)
		out := map[string]string{}
		for _, e := range entries {
			b, ok := s3.GetObject(t, bucket[dataset], e.Object)
			require.True(t, ok, "%s: part %s's object %s", dataset, e.Key, e.Object)
			assert.EqualValues(t, len(b), e.Size, "%s: part %s's size", dataset, e.Key)
			out[e.Key] = string(b)
		}
		return out
	}
	object := func(dataset string) string {
		t.Helper()
		b, ok := s3.GetObject(t, bucket[dataset], dataset)
		require.True(t, ok, "no object %s", dataset)
		return string(b)
	}
	sameAsLocal := func(step string) {
		t.Helper()
		for _, d := range []string{"parsed", "days", "daysums"} {
			got, want := parts(d), localParts(d)
			assert.Len(t, got, len(want), "%s: %s", step, d)
			assert.True(t, maps.Equal(want, got), "%s: the parts of %s in S3 differ from glacier run's", step, d)
		}
		want, err := localStore.Read(p, "report")
		require.NoError(t, err)
		assert.Equal(t, string(want), object("report"), step)
	}
	// sameKeys checks that every task's ref names the cache key glacier
	// run committed it under.
	sameKeys := func(step string) {
		t.Helper()
		for _, td := range dep.Tasks {
			lr, ok := localStore.TaskRef(dep.Pipeline, td.Name)
			require.True(t, ok)
			b, ok := s3.GetObject(t, state, store.RefName(dep.Pipeline, td.Name))
			require.True(t, ok, "%s: no ref of %s", step, td.Name)
			var cr store.Ref
			require.NoError(t, json.Unmarshal(b, &cr))
			assert.Equal(t, lr.Key, cr.Key, "%s: %s's cache key is glacier run's", step, td.Name)
		}
	}
	batches := (mapFiles + glacier.DefaultMapBatch - 1) / glacier.DefaultMapBatch
	everyState := map[string]int{"parse parts": batches, "parse commit": 1, "split": 1, "daysum parts": 1, "daysum commit": 1, "total": 1}
	keys := slices.Sorted(maps.Keys(data))

	// 1. Every part, byte for byte glacier run's.
	x := run("e2e-1")
	require.Equal(t, "SUCCEEDED", x.Status, "%+v", x.Result)
	assert.Equal(t, everyState, x.calls)
	assert.Equal(t, map[string]int{"parse": mapFiles, "daysum": mapDays}, x.partsRan)
	assert.Equal(t, &fnspec.PartCounts{Total: mapFiles, Ran: mapFiles}, x.responses["parse"].Parts)
	assert.Equal(t, &fnspec.PartCounts{Total: mapDays, Ran: mapDays}, x.responses["daysum"].Parts)
	assert.Equal(t, wantReport(t, data), object("report"))
	sameAsLocal("e2e-1")
	sameKeys("e2e-1")

	// 2. Unchanged: no part and no task runs.
	x = run("e2e-2")
	require.Equal(t, "SUCCEEDED", x.Status, "%+v", x.Result)
	assert.Equal(t, everyState, x.calls, "the state machine knows nothing of the memo")
	assert.Equal(t, map[string]int{"parse": 0, "daysum": 0}, x.partsRan, "no guest ran")
	for tn, resp := range x.responses {
		assert.Equal(t, "cached", resp.Status, tn)
	}
	assert.Equal(t, &fnspec.PartCounts{Total: mapFiles, Cached: mapFiles}, x.responses["parse"].Parts)

	// 3. One file changed, one added, one deleted.
	changed, deleted, added := keys[7], keys[1234], "new/extra.log"
	data[changed] = "d03,1000\n"
	data[added] = "d05,20\nd29,3\n"
	delete(data, deleted)
	write(changed, data[changed])
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data", "logs", "new"), 0o755))
	write(added, data[added])
	require.NoError(t, os.Remove(filepath.Join(dir, "data", "logs", filepath.FromSlash(deleted))))
	want := localRun()
	require.Equal(t, 2, want["parse"].Ran, "glacier run reran the changed file and the added one")
	out, dep = compile()
	deploy(out, dep)
	x = run("e2e-3")
	require.Equal(t, "SUCCEEDED", x.Status, "%+v", x.Result)
	for _, tn := range []string{"parse", "daysum"} {
		assert.Equal(t, want[tn], x.responses[tn].Parts, "%s runs the parts glacier run ran", tn)
		assert.Equal(t, want[tn].Ran, x.partsRan[tn], tn)
	}
	assert.Equal(t, wantReport(t, data), object("report"))
	sameAsLocal("e2e-3")
	sameKeys("e2e-3")

	// 4. More poisoned parts than 5% tolerates (101 of 2,000, in every
	// batch): the map runs every batch, and the commit, counting parts,
	// fails and commits nothing.
	keys = slices.Sorted(maps.Keys(data))
	var poisoned []string
	for i := 0; len(poisoned) <= mapFiles*5/100; i += 19 {
		poisoned = append(poisoned, keys[i])
	}
	for _, k := range poisoned {
		write(k, "POISON\n")
	}
	out, dep = compile()
	deploy(out, dep)
	before := map[string]string{}
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		before[d] = object(d)
	}
	x = run("e2e-4")
	assert.Equal(t, "FAILED", x.Status)
	assert.Equal(t, "Glacier."+string(fnspec.KindTaskFailed), x.Error)
	assert.Contains(t, x.Cause, fmt.Sprintf("%d of %d parts failed, more than tolerated_failures: 5%% allows", len(poisoned), mapFiles))
	assert.Equal(t, map[string]int{"parse parts": batches, "parse commit": 1}, x.calls, "the commit fails; nothing downstream runs")
	assert.Equal(t, map[string]int{"parse": 0}, x.partsRan, "every unpoisoned part is in the memo")
	for d, b := range before {
		assert.Equal(t, b, object(d), "%s is as it was", d)
	}

	// 5. One poisoned part: within 5%; the commit leaves it out and the
	// rest follows. The other parts are as in step 3, so in the memo.
	for _, k := range poisoned[1:] {
		write(k, data[k])
	}
	out, dep = compile()
	deploy(out, dep)
	x = run("e2e-5")
	require.Equal(t, "SUCCEEDED", x.Status, "%+v", x.Result)
	assert.Equal(t, everyState, x.calls)
	c := x.responses["parse"].Parts
	require.NotNil(t, c)
	assert.Equal(t, []int{mapFiles, 0, mapFiles - 1, 1}, []int{c.Total, c.Ran, c.Cached, c.Failed})
	require.Len(t, c.FailedKeys, 1)
	assert.Equal(t, poisoned[0], c.FailedKeys[0].Key)
	parsed := parts("parsed")
	assert.Len(t, parsed, mapFiles-1)
	assert.NotContains(t, parsed, poisoned[0])
	without := maps.Clone(data)
	delete(without, poisoned[0])
	assert.Equal(t, wantReport(t, without), object("report"))

	// 6. The file fixed, with new lines (its old ones are in the memo):
	// only its part runs, and the outputs are glacier run's over the same
	// files.
	data[poisoned[0]] = "d01,77\n"
	write(poisoned[0], data[poisoned[0]])
	out, dep = compile()
	deploy(out, dep)
	x = run("e2e-6")
	require.Equal(t, "SUCCEEDED", x.Status, "%+v", x.Result)
	assert.Equal(t, 1, x.partsRan["parse"], "only the fixed part runs")
	assert.Equal(t, &fnspec.PartCounts{Total: mapFiles, Ran: 1, Cached: mapFiles - 1}, x.responses["parse"].Parts)
	assert.Equal(t, wantReport(t, data), object("report"))
	localRun()
	sameAsLocal("e2e-6")
	sameKeys("e2e-6")
}
