package fnrt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

// partStore is a folder holding datasets as the clouds do: a partitioned
// dataset's object is its part list, its parts objects beside it.
type partStore struct {
	t   *testing.T
	dir string
}

// source writes a partitioned source as a deployment uploads one.
func (s partStore) source(name string, parts map[string]string) {
	var entries []fnspec.PartEntry
	for k, v := range parts {
		obj := fnspec.SourcePartObject(name, k)
		p := filepath.Join(s.dir, filepath.FromSlash(obj))
		require.NoError(s.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(s.t, os.WriteFile(p, []byte(v), 0o644))
		entries = append(entries, fnspec.PartEntry{Key: k, Object: obj, Size: int64(len(v))})
	}
	list, err := fnspec.EncodeParts(entries)
	require.NoError(s.t, err)
	require.NoError(s.t, os.WriteFile(filepath.Join(s.dir, name), list, 0o644))
}

// parts reads a partitioned dataset's current version, by key.
func (s partStore) parts(name string) map[string]string {
	list, err := os.ReadFile(filepath.Join(s.dir, name))
	require.NoError(s.t, err)
	entries, err := fnspec.DecodeParts(list)
	require.NoError(s.t, err)
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(e.Object)))
		require.NoError(s.t, err)
		assert.EqualValues(s.t, len(b), e.Size, "part %q's size", e.Key)
		out[e.Key] = string(b)
	}
	return out
}

func (s partStore) handler(task string, edit func(*fnspec.TaskSpec), names ...string) *fnrt.Handler {
	fn, _ := artifact(s.t, "partsum", func(sp *fnspec.TaskSpec) {
		sp.Task = task
		edit(sp)
	})
	return newHandler(s.t, fnrt.Options{Dir: fn, Datasets: fileURLs(s.dir, names...)})
}

// TestInvokeParts runs split (fan-out to keys it chooses), daysum (a map
// task: plan, batches and parts, then the commit) and total (fan-in) as
// a state machine or workflow invokes them.
func TestInvokeParts(t *testing.T) {
	ctx := context.Background()
	s := partStore{t, t.TempDir()}
	s.source("logs", map[string]string{"a/1.log": "d1,1\nd2,10\n", "a/2.log": "d1,2\n", "b.log": "# none\nd3,5\n"})

	split := s.handler("split", func(sp *fnspec.TaskSpec) {
		sp.Inputs, sp.Outputs, sp.Partitioned = []string{"logs"}, []string{"days"}, []string{"logs", "days"}
		sp.Params = map[string]string{"mode": "split"}
	}, "logs", "days")
	resp, err := split.Invoke(ctx, fnspec.Request{RunID: "r1"})
	require.NoError(t, err)
	assert.Contains(t, resp.Outputs, "days")
	assert.Equal(t, map[string]string{"d1.csv": "d1,1\nd1,2\n", "d2.csv": "d2,10\n", "d3.csv": "d3,5\n"}, s.parts("days"))

	daysum := func(tolerated float64) *fnrt.Handler {
		return s.handler("daysum", func(sp *fnspec.TaskSpec) {
			sp.Inputs, sp.Outputs, sp.Partitioned = []string{"days"}, []string{"sums"}, []string{"days", "sums"}
			sp.Map, sp.MapBatch, sp.ToleratedFailures = "days", 2, tolerated
			sp.Params = map[string]string{"mode": "sum"}
		}, "days", "sums")
	}
	h := daysum(0)
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r1"})
	assert.ErrorContains(t, err, "runs per part", "a map task is never invoked whole")
	_, err = split.Invoke(ctx, fnspec.Request{RunID: "r1", Commit: true})
	assert.ErrorContains(t, err, "maps over nothing")

	resp, err = h.Invoke(ctx, fnspec.Request{Plan: true})
	require.NoError(t, err)
	require.NotNil(t, resp.Batches)
	assert.Equal(t, 2, *resp.Batches, "3 parts in batches of 2")

	// Batch 0 (d1, d2) as Workflows sends it, d3 by key as Step Functions
	// does; nothing is visible before the commit.
	zero := 0
	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "r2", Batch: &zero})
	require.NoError(t, err)
	assert.Equal(t, &fnspec.PartCounts{Total: 2, Ran: 2}, resp.Parts)
	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "r2", Parts: []string{"d3.csv"}})
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Parts.Ran)
	assert.NoFileExists(t, filepath.Join(s.dir, "sums"), "parts are staged, not committed")
	two := 2
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r2", Batch: &two})
	assert.ErrorContains(t, err, "batch 2 is out of range")
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r2", Parts: []string{"d4.csv"}})
	assert.ErrorContains(t, err, `no part "d4.csv"`)

	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "r2", Commit: true})
	require.NoError(t, err)
	assert.Equal(t, &fnspec.PartCounts{Total: 3, Ran: 3}, resp.Parts)
	assert.Equal(t, map[string]string{"d1.csv": "3\n", "d2.csv": "10\n", "d3.csv": "5\n"}, s.parts("sums"))

	total := s.handler("total", func(sp *fnspec.TaskSpec) {
		sp.Inputs, sp.Outputs, sp.Partitioned = []string{"sums"}, []string{"report"}, []string{"sums"}
		sp.Params = map[string]string{"mode": "total"}
	}, "sums", "report")
	_, err = total.Invoke(ctx, fnspec.Request{RunID: "r2"})
	require.NoError(t, err)
	report, err := os.ReadFile(filepath.Join(s.dir, "report"))
	require.NoError(t, err)
	assert.Equal(t, "d1.csv,3\nd2.csv,10\nd3.csv,5\n", string(report))

	// A run whose parts did not all run commits nothing, unless the task
	// tolerates that many failures.
	before := s.parts("sums")
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r3", Parts: []string{"d1.csv", "d2.csv"}})
	require.NoError(t, err)
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r3", Commit: true})
	var fe *fnrt.Error
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, fnspec.KindTaskFailed, fe.Kind)
	assert.Contains(t, err.Error(), "1 of 3 parts failed")
	assert.Contains(t, err.Error(), `part "d3.csv": run "r3" staged no output`)
	assert.Equal(t, before, s.parts("sums"), "a failed commit leaves the last version")

	resp, err = daysum(34).Invoke(ctx, fnspec.Request{RunID: "r3", Commit: true})
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Parts.Failed)
	assert.Equal(t, map[string]string{"d1.csv": "3\n", "d2.csv": "10\n"}, s.parts("sums"), "committed without the failed part")
}

// TestInvokePoisonPart: a part that fails fails its invocation, after the
// other parts of the batch ran and were staged.
func TestInvokePoisonPart(t *testing.T) {
	ctx := context.Background()
	s := partStore{t, t.TempDir()}
	s.source("days", map[string]string{"a.csv": "d,1\n", "b.csv": "d,notanumber\n", "c.csv": "d,3\n"})
	h := s.handler("daysum", func(sp *fnspec.TaskSpec) {
		sp.Inputs, sp.Outputs, sp.Partitioned = []string{"days"}, []string{"sums"}, []string{"days", "sums"}
		sp.Map, sp.MapBatch = "days", 10
		sp.Params = map[string]string{"mode": "sum"}
	}, "days", "sums")
	zero := 0
	_, err := h.Invoke(ctx, fnspec.Request{RunID: "r1", Batch: &zero})
	var fe *fnrt.Error
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, fnspec.KindTaskFailed, fe.Kind)
	assert.True(t, strings.HasPrefix(err.Error(), `1 of 3 parts failed`+"\n"+`    part "b.csv": `), err.Error())
	for _, k := range []string{"a.csv", "c.csv"} {
		assert.FileExists(t, filepath.Join(s.dir, filepath.FromSlash(fnspec.RunPartObject("sums", "r1", k))), fmt.Sprintf("part %s is staged", k))
	}
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r1", Commit: true})
	assert.ErrorContains(t, err, `part "b.csv"`)
	assert.NoFileExists(t, filepath.Join(s.dir, "sums"))
}

// TestPartsStorageDenied: a part list in a bucket that does not exist
// fails the invocation with kind StorageDenied, which no platform retries,
// naming the bucket.
func TestPartsStorageDenied(t *testing.T) {
	srv := fakes3.Start(t)
	useS3(t, srv.Client, nil)
	fn, _ := artifact(t, "partsum", func(sp *fnspec.TaskSpec) {
		sp.Task = "split"
		sp.Inputs, sp.Outputs, sp.Partitioned = []string{"logs"}, []string{"days"}, []string{"logs", "days"}
		sp.Params = map[string]string{"mode": "split"}
	})
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: map[string]string{
		"logs": "s3://no-such-bucket/logs", "days": "s3://no-such-bucket/days",
	}})
	_, err := h.Invoke(context.Background(), fnspec.Request{RunID: "r1"})
	var fe *fnrt.Error
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, fnspec.KindStorageDenied, fe.Kind)
	assert.Contains(t, err.Error(), `bucket "no-such-bucket" does not exist`)
}
