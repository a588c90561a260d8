package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
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
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
	"github.com/glacier-pipeline/glacier/providers/local"
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
// the task's own zip under the Lambda emulator, the datasets in gofakes3
// seeded as the program would. The outputs must equal, byte for byte and
// part by part, those glacier run gives for the same project, and the
// report a computation made here. Then 101 poisoned parts (over parse's
// 5% of 2,000) fail the execution at the commit and nothing new is
// committed; one poisoned part is left out of the commit, and the rest
// follows.
func TestMapEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 2,000 parts under the Lambda emulator; run without -short")
	}
	node := sfntest.Find(t)
	ctx := context.Background()
	p, dir, data := partsPipeline(t)
	mods, err := build.Modules(ctx, p, build.Options{Dir: dir})
	require.NoError(t, err)

	// glacier run's outputs.
	start := time.Now()
	_, err = p.Run(ctx, local.New(local.Options{Dir: dir, Modules: mods, Parallel: 2, Backoff: time.Millisecond}))
	require.NoError(t, err)
	store, err := local.OpenStore(dir)
	require.NoError(t, err)
	localParts := func(dataset string) map[string]string {
		parts, err := store.PartsOf(p, dataset)
		require.NoError(t, err)
		out := map[string]string{}
		for _, part := range parts {
			b, err := os.ReadFile(store.ObjectPath(part.Digest))
			require.NoError(t, err)
			out[part.Key] = string(b)
		}
		return out
	}
	t.Logf("glacier run: %v", time.Since(start).Round(time.Millisecond))
	localReport, err := store.Read(p, "report")
	require.NoError(t, err)
	require.Equal(t, wantReport(t, data), string(localReport))

	// The same project compiled for AWS.
	opts := x86Opts
	opts.Dir, opts.Out, opts.CacheDir = dir, filepath.Join(t.TempDir(), "out"), filepath.Join(modDir, "cache")
	opts.Modules = map[string]build.Module{}
	for _, m := range mods {
		opts.Modules[m.Task] = m
	}
	out := opts.Out
	start = time.Now()
	_, err = p.Compile(ctx, New(opts))
	require.NoError(t, err)
	t.Logf("glacier compile: %v", time.Since(start).Round(time.Millisecond))
	dep, probs := designFor(t, p, opts)
	require.NoError(t, probs.Err())

	// The buckets and source objects the program would create.
	s3 := fakes3.Start(t)
	bucket := map[string]string{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + "-e2e"
		s3.CreateBucket(t, bucket[d.Name])
		switch {
		case d.PartListFile() != "":
			list := []byte(read(t, out, d.PartListFile()))
			entries, err := fnspec.DecodeParts(list)
			require.NoError(t, err)
			require.Len(t, entries, mapFiles)
			for _, e := range entries {
				s3.PutObject(t, bucket[d.Name], e.Object, []byte(read(t, out, path.Join(d.SourceFile(), e.Key))))
			}
			s3.PutObject(t, bucket[d.Name], d.Name, list)
		case d.Source != "":
			s3.PutObject(t, bucket[d.Name], d.Name, []byte(read(t, out, d.SourceFile())))
		}
	}
	// The definition with the buckets' names, as the program gives it.
	def := read(t, out, "statemachine.asl.json")
	for _, d := range dep.DefinitionBuckets {
		def = strings.ReplaceAll(def, bucketPlaceholder(d), bucket[d])
	}
	defPath := filepath.Join(t.TempDir(), "statemachine.asl.json")
	require.NoError(t, os.WriteFile(defPath, []byte(def), 0o644))

	// One emulator per function, with the environment the program gives it.
	functions := map[string]*lambdarie.Function{} // by function name
	task := map[string]string{}                   // function name -> task
	for _, td := range dep.Tasks {
		urls := map[string]string{}
		for _, d := range td.Touches() {
			urls[d] = "s3://" + bucket[d] + "/" + d
		}
		envJSON, err := json.Marshal(urls)
		require.NoError(t, err)
		env := s3.Env()
		env[fnspec.DatasetsEnv] = string(envJSON)
		functions[td.FunctionName] = lambdarie.Start(t, lambdarie.Options{
			BootstrapDir: ziptest.Extract(t, []byte(read(t, out, td.Artifact))),
			Env:          env,
			Timeout:      time.Duration(td.Limits.TimeoutSecs) * time.Second,
			MemoryMiB:    td.FunctionMemoryMiB,
		})
		task[td.FunctionName] = td.Name
	}

	// run runs the state machine as execution name and returns how it
	// ended, how often each state invoked its function, and the commits'
	// responses by task.
	run := func(name string) (*sfntest.Result, map[string]int, map[string]fnspec.Response) {
		t.Helper()
		var mu sync.Mutex
		calls, commits := map[string]int{}, map[string]fnspec.Response{}
		handler := func(ctx context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
			var tn string
			body, resp, err := invokeTaskState(ctx, input, func(fn string) (*lambdarie.Function, error) {
				tn = task[fn]
				if state != tn && state != partsStateName(tn) && state != commitStateName(tn) {
					return nil, errors.New("state " + state + " invokes function " + fn)
				}
				mu.Lock()
				calls[state]++
				mu.Unlock()
				return functions[fn], nil
			})
			if err != nil {
				return nil, err
			}
			if resp.RunID != name {
				return nil, fmt.Errorf("state %s ran as run %q, not the execution's name %q", state, resp.RunID, name)
			}
			if state == commitStateName(tn) {
				mu.Lock()
				commits[tn] = resp
				mu.Unlock()
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
		t.Logf("execution %s: %s in %v", name, res.Status, time.Since(start).Round(time.Millisecond))
		return res, calls, commits
	}
	// parts returns the current parts of a partitioned dataset in S3.
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
	batches := (mapFiles + glacier.DefaultMapBatch - 1) / glacier.DefaultMapBatch

	// 1. Every part, byte for byte glacier run's.
	res, calls, commits := run("e2e-1")
	require.Equal(t, "SUCCEEDED", res.Status, "%+v", res)
	assert.Equal(t, map[string]int{"parse parts": batches, "parse commit": 1, "split": 1, "daysum parts": 1, "daysum commit": 1, "total": 1}, calls)
	assert.Equal(t, &fnspec.PartCounts{Total: mapFiles, Ran: mapFiles}, commits["parse"].Parts)
	assert.Equal(t, &fnspec.PartCounts{Total: mapDays, Ran: mapDays}, commits["daysum"].Parts)
	for _, d := range []string{"parsed", "days", "daysums"} {
		got, want := parts(d), localParts(d)
		assert.Len(t, got, len(want), d)
		assert.True(t, maps.Equal(want, got), "%s: the parts in S3 differ from glacier run's", d)
	}
	assert.Equal(t, string(localReport), object("report"))

	// 2. More poisoned parts than 5% tolerates (101 of 2,000, in every
	// batch): the map runs every batch, and the commit, counting parts,
	// fails and commits nothing.
	keys := slices.Sorted(maps.Keys(data))
	var poisoned []string
	for i := 0; len(poisoned) <= mapFiles*5/100; i += 19 {
		poisoned = append(poisoned, keys[i])
	}
	for _, k := range poisoned {
		s3.PutObject(t, bucket["logs"], fnspec.SourcePartObject("logs", k), []byte("POISON\n"))
	}
	lists := map[string]string{}
	for _, d := range []string{"parsed", "days", "daysums", "report"} {
		lists[d] = object(d)
	}
	res, calls, _ = run("e2e-2")
	assert.Equal(t, "FAILED", res.Status)
	assert.Equal(t, "Glacier."+string(fnspec.KindTaskFailed), res.Error)
	assert.Contains(t, res.Cause, fmt.Sprintf("%d of %d parts failed (tolerated: 5%%)", len(poisoned), mapFiles))
	assert.Equal(t, map[string]int{"parse parts": batches, "parse commit": 1}, calls, "the commit fails; nothing downstream runs")
	for d, before := range lists {
		assert.Equal(t, before, object(d), "%s is as it was", d)
	}

	// 3. One poison part: within 5%; the commit leaves the part out and
	// the rest follows.
	for _, k := range poisoned[1:] {
		s3.PutObject(t, bucket["logs"], fnspec.SourcePartObject("logs", k), []byte(data[k]))
	}
	res, calls, commits = run("e2e-3")
	require.Equal(t, "SUCCEEDED", res.Status, "%+v", res)
	assert.Equal(t, map[string]int{"parse parts": batches, "parse commit": 1, "split": 1, "daysum parts": 1, "daysum commit": 1, "total": 1}, calls)
	c := commits["parse"].Parts
	require.NotNil(t, c)
	assert.Equal(t, []int{mapFiles, mapFiles - 1, 1}, []int{c.Total, c.Ran, c.Failed})
	require.Len(t, c.FailedKeys, 1)
	assert.Equal(t, poisoned[0], c.FailedKeys[0].Key)
	parsed := parts("parsed")
	assert.Len(t, parsed, mapFiles-1)
	assert.NotContains(t, parsed, poisoned[0])
	delete(data, poisoned[0])
	assert.Equal(t, wantReport(t, data), object("report"))
}
