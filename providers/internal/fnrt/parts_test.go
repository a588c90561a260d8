package fnrt_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
)

// storedParts is a deployed partitioned pipeline with a store: source logs
// → split (fan-out to one part per day) → days → daysum (a map task) →
// sums → total (fan-in) → report, every dataset beside its stable name
// under data.
type storedParts struct {
	t                    *testing.T
	data, state          string
	store                *store.Store
	log                  *syncbuf.Buffer
	split, daysum, total *fnrt.Handler
}

func newStoredParts(t *testing.T, tolerated float64) *storedParts {
	dir := t.TempDir()
	state := filestore.URL(filepath.Join(dir, "state"))
	p := &storedParts{t: t, data: filepath.Join(dir, "data"), state: filepath.Join(dir, "state"), log: &syncbuf.Buffer{}}
	names := []string{"logs", "days", "sums", "report"}
	roots := map[string]string{}
	for _, n := range names {
		roots[n] = filestore.URL(p.data)
	}
	var err error
	p.store, err = store.New(nil, store.Layout{State: state, Datasets: roots})
	require.NoError(t, err)
	handler := func(task, in, out, mode string, edit func(*fnspec.TaskSpec)) *fnrt.Handler {
		fn, _ := artifact(t, "partsum", func(sp *fnspec.TaskSpec) {
			sp.Task, sp.Inputs, sp.Outputs = task, []string{in}, []string{out}
			sp.Params = map[string]string{"mode": mode}
			if producer := map[string]string{"days": "split", "sums": "daysum"}[in]; producer != "" {
				sp.Producers = map[string]string{in: producer}
			}
			if edit != nil {
				edit(sp)
			}
		})
		return newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(p.data, in, out), State: state, Log: p.log})
	}
	p.split = handler("split", "logs", "days", "split", func(sp *fnspec.TaskSpec) { sp.Partitioned = []string{"logs", "days"} })
	p.daysum = handler("daysum", "days", "sums", "sum", func(sp *fnspec.TaskSpec) {
		sp.Partitioned, sp.Map, sp.MapBatch, sp.ToleratedFailures = []string{"days", "sums"}, "days", 2, tolerated
		sp.Retire = []string{"sums"}
	})
	p.total = handler("total", "sums", "report", "total", func(sp *fnspec.TaskSpec) { sp.Partitioned = []string{"sums"} })
	return p
}

// source makes parts the current version of source logs, as a deployment
// uploads one.
func (p *storedParts) source(parts map[string]string) {
	ctx := context.Background()
	var list []fnspec.Part
	for k, data := range parts {
		v := fnspec.Version{Digest: sha([]byte(data)), Size: int64(len(data))}
		require.NoError(p.t, p.store.PutObject(ctx, "deploy", "deploy", "logs", v, strings.NewReader(data)))
		list = append(list, fnspec.Part{Key: k, Version: v})
	}
	v, err := p.store.PutParts(ctx, "deploy", "deploy", "logs", list)
	require.NoError(p.t, err)
	require.NoError(p.t, p.store.PutSource(ctx, "test", store.SourceRef{Dataset: "logs", Version: v}))
}

// execution runs the pipeline as the state machine or the workflow does
// and returns the map task's parts, counted over its batch invocations,
// and what its commit said, or the error that stopped it.
func (p *storedParts) execution(runID string) (batches fnspec.PartCounts, commit fnspec.Response, err error) {
	ctx := context.Background()
	if _, err := p.split.Invoke(ctx, fnspec.Request{RunID: runID}); err != nil {
		return batches, commit, err
	}
	plan, err := p.daysum.Invoke(ctx, fnspec.Request{RunID: runID, Plan: true})
	require.NoError(p.t, err)
	var failed error
	for i := range *plan.Batches {
		resp, err := p.daysum.Invoke(ctx, fnspec.Request{RunID: runID, Batch: &i})
		failed = errors.Join(failed, err)
		if resp.Parts != nil {
			batches.Ran += resp.Parts.Ran
			batches.Cached += resp.Parts.Cached
		}
	}
	if commit, err = p.daysum.Invoke(ctx, fnspec.Request{RunID: runID, Commit: true}); err != nil {
		return batches, commit, errors.Join(failed, err)
	}
	_, err = p.total.Invoke(ctx, fnspec.Request{RunID: runID})
	return batches, commit, errors.Join(failed, err)
}

// stable reads partitioned dataset name through its stable name, as an
// outside reader does, by key.
func (p *storedParts) stable(name string) map[string]string {
	list, err := os.ReadFile(filepath.Join(p.data, name))
	require.NoError(p.t, err)
	entries, err := fnspec.DecodeParts(list)
	require.NoError(p.t, err)
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(p.data, filepath.FromSlash(e.Object)))
		require.NoError(p.t, err)
		out[e.Key] = string(b)
	}
	return out
}

func (p *storedParts) report() string {
	b, err := os.ReadFile(filepath.Join(p.data, "report"))
	require.NoError(p.t, err)
	return string(b)
}

// TestStoredMapMemoised: with a store, a map task's parts are memoised one
// by one: a second execution runs no part, a changed file reruns its day
// alone, a new day runs one part, and the replaced parts are retired.
func TestStoredMapMemoised(t *testing.T) {
	p := newStoredParts(t, 0)
	p.source(map[string]string{"a/1.log": "d1,1\nd2,10\n", "a/2.log": "d1,2\n", "b.log": "# none\nd3,5\n"})

	parts, commit, err := p.execution("r1")
	require.NoError(t, err)
	assert.Equal(t, fnspec.PartCounts{Ran: 3}, parts)
	assert.Equal(t, "succeeded", commit.Status)
	assert.Equal(t, &fnspec.PartCounts{Total: 3, Ran: 3}, commit.Parts)
	assert.Equal(t, map[string]string{"d1.csv": "3\n", "d2.csv": "10\n", "d3.csv": "5\n"}, p.stable("sums"))
	assert.Equal(t, "d1.csv,3\nd2.csv,10\nd3.csv,5\n", p.report())
	guests := strings.Count(p.log.String(), `part "`)

	parts, commit, err = p.execution("r2")
	require.NoError(t, err)
	assert.Equal(t, fnspec.PartCounts{Cached: 3}, parts, "an unchanged execution runs no part")
	assert.Equal(t, "cached", commit.Status)
	assert.Equal(t, guests, strings.Count(p.log.String(), `part "`), "no guest ran")
	recs, err := p.store.RunTasks(context.Background(), "r2")
	require.NoError(t, err)
	for _, r := range recs {
		assert.True(t, r.Cached, "task %s in r2", r.Task)
	}

	// d2 changes: one part runs, the others are found; the replaced part
	// and list are retired, the unchanged parts kept.
	oldSums, _, err := p.store.Current(context.Background(), "test", "sums", "daysum")
	require.NoError(t, err)
	oldParts, err := p.store.Parts(context.Background(), "sums", oldSums)
	require.NoError(t, err)
	p.source(map[string]string{"a/1.log": "d1,1\nd2,11\n", "a/2.log": "d1,2\n", "b.log": "# none\nd3,5\nd4,7\n"})
	parts, commit, err = p.execution("r3")
	require.NoError(t, err)
	assert.Equal(t, fnspec.PartCounts{Ran: 2, Cached: 2}, parts, "d2 changed and d4 is new")
	assert.Equal(t, &fnspec.PartCounts{Total: 4, Ran: 2, Cached: 2}, commit.Parts)
	assert.Equal(t, map[string]string{"d1.csv": "3\n", "d2.csv": "11\n", "d3.csv": "5\n", "d4.csv": "7\n"}, p.stable("sums"))
	assert.Equal(t, "d1.csv,3\nd2.csv,11\nd3.csv,5\nd4.csv,7\n", p.report())
	retired := func(v fnspec.Version) bool {
		_, err := os.Stat(filepath.Join(p.data, filepath.FromSlash(store.RetiredName(v.Digest))))
		return err == nil
	}
	assert.True(t, retired(oldSums), "the replaced list is retired")
	for _, op := range oldParts {
		has, err := p.store.Has(context.Background(), "sums", op.Version)
		require.NoError(t, err)
		if op.Key == "d2.csv" {
			assert.True(t, retired(op.Version) && !has, "the replaced part %s is retired", op.Key)
		} else {
			assert.True(t, has && !retired(op.Version), "the kept part %s stays", op.Key)
		}
	}

	// Back to the first files: every part and the whole are in the memo,
	// and what was retired comes back.
	p.source(map[string]string{"a/1.log": "d1,1\nd2,10\n", "a/2.log": "d1,2\n", "b.log": "# none\nd3,5\n"})
	parts, commit, err = p.execution("r4")
	require.NoError(t, err)
	assert.Equal(t, fnspec.PartCounts{Cached: 3}, parts)
	assert.Equal(t, "cached", commit.Status)
	assert.Equal(t, map[string]string{"d1.csv": "3\n", "d2.csv": "10\n", "d3.csv": "5\n"}, p.stable("sums"))

	// The memo's entry of the whole invocation spares the batches a look
	// at each part's: without the parts' entries, nothing runs either.
	entries, err := filepath.Glob(filepath.Join(p.state, "memo", "daysum", "*.json"))
	require.NoError(t, err)
	removed := 0
	for _, f := range entries {
		var e store.MemoEntry
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &e))
		if e.Part != "" {
			require.NoError(t, os.Remove(f))
			removed++
		}
	}
	require.Equal(t, 5, removed, "d1, d2 twice, d3 and d4")
	parts, commit, err = p.execution("r5")
	require.NoError(t, err)
	assert.Equal(t, fnspec.PartCounts{Cached: 3}, parts)
	assert.Equal(t, "cached", commit.Status)
}

// TestStoredMapPoisonPart: a failing part fails its batch and the commit,
// nothing new is committed, and after the file is fixed the rerun runs
// that part alone; with tolerated_failures the outputs are committed
// without it, under a key the next execution misses.
func TestStoredMapPoisonPart(t *testing.T) {
	good := map[string]string{"a.log": "d1,1\n", "b.log": "d2,2\n", "c.log": "d3,3\n"}
	bad := map[string]string{"a.log": "d1,1\n", "b.log": "d2,notanumber\n", "c.log": "d3,3\nd4,4\n"}
	for _, tolerated := range []float64{0, 25} {
		p := newStoredParts(t, tolerated)
		p.source(good)
		_, _, err := p.execution("r1")
		require.NoError(t, err)
		before := p.stable("sums")

		p.source(bad)
		parts, commit, err := p.execution("r2")
		// The batch of d1 and d2 failed: its counts are in its error.
		assert.Equal(t, fnspec.PartCounts{Ran: 1, Cached: 1}, parts, "tolerated %v: d3 found, d4 ran", tolerated)
		var fe *fnrt.Error
		require.True(t, errors.As(err, &fe), "%v", err)
		assert.Contains(t, err.Error(), `part "d2.csv"`)
		// The parts that ran keep their records, with their logs; a part
		// found in the memo keeps none.
		failed, ok, err2 := p.store.RunPartOf(context.Background(), "r2", "daysum", "d2.csv")
		require.NoError(t, err2)
		require.True(t, ok, "the failed part's record")
		assert.Equal(t, "failed", failed.Status)
		assert.Contains(t, failed.Log, "notanumber")
		assert.NotEmpty(t, failed.Key)
		ran, ok, err2 := p.store.RunPartOf(context.Background(), "r2", "daysum", "d4.csv")
		require.NoError(t, err2)
		require.True(t, ok, "the new part's record")
		assert.Equal(t, "succeeded", ran.Status)
		_, ok, err2 = p.store.RunPartOf(context.Background(), "r2", "daysum", "d1.csv")
		require.NoError(t, err2)
		assert.False(t, ok, "a part found in the memo keeps no record")
		if tolerated == 0 {
			assert.Contains(t, err.Error(), "1 of 4 parts failed")
			assert.Contains(t, err.Error(), "it has no memo entry")
			assert.Equal(t, before, p.stable("sums"), "a failed commit leaves the last version")
		} else {
			// The batch failed, the commit did not: total ran over what
			// was committed.
			require.NotNil(t, commit.Parts, "the commit succeeded")
			assert.Equal(t, 1, commit.Parts.Failed)
			assert.Equal(t, map[string]string{"d1.csv": "1\n", "d3.csv": "3\n", "d4.csv": "4\n"}, p.stable("sums"))
			assert.Equal(t, "d1.csv,1\nd3.csv,3\nd4.csv,4\n", p.report())
		}

		bad["b.log"] = "d2,20\n"
		p.source(bad)
		parts, commit, err = p.execution("r3")
		require.NoError(t, err)
		assert.Equal(t, fnspec.PartCounts{Ran: 1, Cached: 3}, parts, "tolerated %v: only the fixed part runs", tolerated)
		assert.Equal(t, "succeeded", commit.Status)
		assert.Equal(t, map[string]string{"d1.csv": "1\n", "d2.csv": "20\n", "d3.csv": "3\n", "d4.csv": "4\n"}, p.stable("sums"))
		bad["b.log"] = "d2,notanumber\n"
	}
}

// TestStoredMapStableNameIsTheItems: the stable name of a partitioned
// output is the list a Distributed Map reads its items from, each naming
// its object in the store.
func TestStoredMapStableNameIsTheItems(t *testing.T) {
	p := newStoredParts(t, 0)
	p.source(map[string]string{"x.log": "d1,4\n"})
	_, _, err := p.execution("r1")
	require.NoError(t, err)
	list, err := os.ReadFile(filepath.Join(p.data, "sums"))
	require.NoError(t, err)
	entries, err := fnspec.DecodeParts(list)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, fnspec.PartEntry{Key: "d1.csv", Object: store.ObjectName(sha([]byte("4\n"))), Size: 2, SHA256: sha([]byte("4\n"))}, entries[0])
	_, err = storage.DefaultURLMux().Stat(context.Background(), filestore.URL(filepath.Join(p.data, "sums.runs")))
	assert.ErrorIs(t, err, storage.ErrNotFound, "nothing is staged beside the stable name")
}

// TestMapRequests: a map task is invoked per part, batch, plan or commit,
// any other task whole; a batch or a key the input does not have is
// refused; a partitioned task without a store is refused when it starts.
func TestMapRequests(t *testing.T) {
	ctx := context.Background()
	p := newStoredParts(t, 0)
	p.source(map[string]string{"a.log": "d1,1\n", "b.log": "d2,2\nd3,3\n"})
	_, _, err := p.execution("r1")
	require.NoError(t, err)

	_, err = p.daysum.Invoke(ctx, fnspec.Request{RunID: "r2"})
	assert.ErrorContains(t, err, "runs per part", "a map task is never invoked whole")
	_, err = p.split.Invoke(ctx, fnspec.Request{RunID: "r2", Commit: true})
	assert.ErrorContains(t, err, "maps over nothing")
	resp, err := p.daysum.Invoke(ctx, fnspec.Request{Plan: true})
	require.NoError(t, err)
	assert.Equal(t, 2, *resp.Batches, "3 parts in batches of 2")
	two := 2
	_, err = p.daysum.Invoke(ctx, fnspec.Request{RunID: "r2", Batch: &two})
	assert.ErrorContains(t, err, "batch 2 is out of range")
	_, err = p.daysum.Invoke(ctx, fnspec.Request{RunID: "r2", Parts: []string{"d4.csv"}})
	assert.ErrorContains(t, err, `no part "d4.csv"`)
	resp, err = p.daysum.Invoke(ctx, fnspec.Request{RunID: "r2", Parts: []string{"d3.csv", "d1.csv"}})
	require.NoError(t, err)
	assert.Equal(t, &fnspec.PartCounts{Total: 2, Cached: 2}, resp.Parts, "parts by key, as Step Functions sends them")

	fn, _ := artifact(t, "partsum", func(sp *fnspec.TaskSpec) {
		sp.Inputs, sp.Outputs, sp.Partitioned = []string{"logs"}, []string{"days"}, []string{"logs", "days"}
	})
	_, err = fnrt.New(ctx, fnrt.Options{Dir: fn, Datasets: fileURLs(t.TempDir(), "logs", "days"), ScratchDir: t.TempDir()})
	assert.ErrorContains(t, err, "which live in the store: set "+fnspec.StateEnv)
}

// TestPartsStorageDenied: a store in a bucket that does not exist fails
// the invocation with kind StorageDenied, which no platform retries,
// naming the bucket.
func TestPartsStorageDenied(t *testing.T) {
	srv := fakes3.Start(t)
	useS3(t, srv.Client, nil)
	fn, _ := artifact(t, "partsum", func(sp *fnspec.TaskSpec) {
		sp.Task = "split"
		sp.Inputs, sp.Outputs, sp.Partitioned = []string{"logs"}, []string{"days"}, []string{"logs", "days"}
		sp.Params = map[string]string{"mode": "split"}
	})
	h := newHandler(t, fnrt.Options{Dir: fn, State: "s3://no-such-bucket", Datasets: map[string]string{
		"logs": "s3://no-such-bucket/logs", "days": "s3://no-such-bucket/days",
	}})
	_, err := h.Invoke(context.Background(), fnspec.Request{RunID: "r1"})
	var fe *fnrt.Error
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, fnspec.KindStorageDenied, fe.Kind)
	assert.Contains(t, err.Error(), `bucket "no-such-bucket" does not exist`)
}
