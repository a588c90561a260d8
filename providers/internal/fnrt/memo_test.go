package fnrt_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/motos3"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
)

// putSource makes data source dataset in's current version, as a
// deployment does.
func putSource(t *testing.T, s *store.Store, data string) {
	t.Helper()
	ctx := context.Background()
	u := s.StagingURL("deploy", "deploy", "in")
	w, err := storage.DefaultURLMux().Stage(ctx, u)
	require.NoError(t, err)
	_, err = w.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, w.Commit(ctx))
	v := fnspec.Version{Digest: sha([]byte(data)), Size: int64(len(data))}
	require.NoError(t, s.Adopt(ctx, "in", u, v))
	require.NoError(t, s.PutSource(ctx, "test", store.SourceRef{Dataset: "in", Version: v}))
}

// TestInvokeMemoised: with a store, a second invocation over unchanged
// inputs commits the recorded outputs and runs no guest; a changed input
// runs it again; a missing one says what to check in the cloud.
func TestInvokeMemoised(t *testing.T) {
	ctx := context.Background()
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) {
		s.Inputs = []string{"in"}
		s.Params = map[string]string{"suffix": "!"}
	})
	dir := t.TempDir()
	state := filestore.URL(filepath.Join(dir, "state"))
	data := filepath.Join(dir, "data")
	log := &syncbuf.Buffer{}
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "in", "out"), State: state, Log: log})
	s, err := store.New(nil, store.Layout{State: state, Datasets: map[string]string{"in": filestore.URL(data), "out": filestore.URL(data)}})
	require.NoError(t, err)

	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r0"})
	assert.ErrorContains(t, err, `input "in" has no version in the store yet; it is a source the deployment has not uploaded`)

	putSource(t, s, "hello")
	guests := func() int { return strings.Count(log.String(), "[copy] copied") }
	resp, err := h.Invoke(ctx, fnspec.Request{RunID: "r1"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", resp.Status)
	assert.Equal(t, 1, guests())
	stable, err := os.ReadFile(filepath.Join(data, "out"))
	require.NoError(t, err)
	assert.Equal(t, "hello!", string(stable), "the stable name holds the new version")
	want := fnspec.Version{Digest: sha([]byte("hello!")), Size: 6}
	cur, ok, err := s.Current(ctx, "test", "out", "copy")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, want, cur)

	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "r2"})
	require.NoError(t, err)
	assert.Equal(t, "cached", resp.Status)
	assert.Equal(t, 1, guests(), "a cached invocation runs no guest")
	assert.Equal(t, fnspec.OutputInfo{Size: 6, SHA256: want.Digest}, resp.Outputs["out"])
	recs, err := s.RunTasks(ctx, "r2")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.True(t, recs[0].Cached)

	putSource(t, s, "bye")
	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "r3"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", resp.Status)
	assert.Equal(t, 2, guests())
	stable, err = os.ReadFile(filepath.Join(data, "out"))
	require.NoError(t, err)
	assert.Equal(t, "bye!", string(stable))

	// Back to the first input: the memo has it, whichever run made it.
	putSource(t, s, "hello")
	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "r4"})
	require.NoError(t, err)
	assert.Equal(t, "cached", resp.Status)
	assert.Equal(t, 2, guests())
	stable, err = os.ReadFile(filepath.Join(data, "out"))
	require.NoError(t, err)
	assert.Equal(t, "hello!", string(stable))
}

// TestMemoisedOutputsAllOrNothing: a task with two outputs whose second
// fails to become a version after the first did commits neither: both
// stable names and the ref keep the last run's, and no memo entry is
// written, so the rerun runs the guest and commits both.
func TestMemoisedOutputsAllOrNothing(t *testing.T) {
	srv := fakes3.Start(t)
	useS3(t, srv.Client, srv.Env())
	for _, b := range []string{"state", "b-in", "b-out", "b-out2"} {
		srv.CreateBucket(t, b)
	}
	ctx := context.Background()
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) {
		s.Inputs, s.Outputs = []string{"in"}, []string{"out", "out2"}
		s.Params = map[string]string{"suffix": "!", "also": "out2"}
	})
	urls := map[string]string{"in": "s3://b-in/in", "out": "s3://b-out/out", "out2": "s3://b-out2/out2"}
	log := &syncbuf.Buffer{}
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: urls, State: "s3://state", Log: log})
	s, err := store.New(nil, store.Layout{State: "s3://state", Datasets: map[string]string{"in": "s3://b-in", "out": "s3://b-out", "out2": "s3://b-out2"}})
	require.NoError(t, err)
	stable := func() [2]string {
		a, _ := srv.GetObject(t, "b-out", "out")
		b, _ := srv.GetObject(t, "b-out2", "out2")
		return [2]string{string(a), string(b)}
	}

	putSource(t, s, "hello")
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r1"})
	require.NoError(t, err)
	assert.Equal(t, [2]string{"hello!", "hello!"}, stable())
	ref, _, ok, err := s.Ref(ctx, "test", "copy")
	require.NoError(t, err)
	require.True(t, ok)

	// The second output's version cannot be made: out's is, out2's copy
	// is refused.
	putSource(t, s, "bye")
	srv.Deny(func(r fakes3.Request) bool {
		return r.Method == http.MethodPut && strings.HasPrefix(r.Path, "/b-out2/objects/")
	})
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r2"})
	require.ErrorContains(t, err, `output "out2"`)
	has, err := s.Has(ctx, "out", fnspec.Version{Digest: sha([]byte("bye!")), Size: 4})
	require.NoError(t, err)
	assert.True(t, has, "the first output became a version")
	assert.Equal(t, [2]string{"hello!", "hello!"}, stable(), "no stable name moved")
	after, _, _, err := s.Ref(ctx, "test", "copy")
	require.NoError(t, err)
	assert.Equal(t, ref, after, "the ref still names the last run's outputs")
	for _, n := range []string{"out", "out2"} {
		cur, _, err := s.Current(ctx, "test", n, "copy")
		require.NoError(t, err)
		assert.Equal(t, sha([]byte("hello!")), cur.Digest, "readers of %s see the last run's version", n)
	}

	srv.Deny(nil)
	resp, err := h.Invoke(ctx, fnspec.Request{RunID: "r3"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", resp.Status, "no memo entry was written for the failed run")
	assert.Equal(t, 3, strings.Count(log.String(), "[copy] copied"))
	assert.Equal(t, [2]string{"bye!", "bye!"}, stable())
}

// TestRunRecordOfFailure: a failed invocation records its failure in the
// run, with the end of the guest's log and the platform's link to the
// whole of it; a long log keeps its last RecordLogTail bytes.
func TestRunRecordOfFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	state := filestore.URL(filepath.Join(dir, "state"))
	data := filepath.Join(dir, "data")
	s, err := store.New(nil, store.Layout{State: state, Datasets: map[string]string{"out": filestore.URL(data)}})
	require.NoError(t, err)
	var linked [2]time.Time
	logsURL := func(start, end time.Time) string {
		linked = [2]time.Time{start, end}
		return "https://logs.example/fn?from=" + start.Format(time.RFC3339Nano)
	}
	record := func(task, runID string) store.RunTask {
		t.Helper()
		recs, err := s.RunTasks(ctx, runID)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, task, recs[0].Task)
		return recs[0]
	}

	fn, _ := artifact(t, "errorpartial", nil)
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "out"), State: state, Log: &syncbuf.Buffer{}, LogsURL: logsURL})
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r1"})
	require.ErrorContains(t, err, "row 7: bad currency code")
	rec := record("errorpartial", "r1")
	assert.Equal(t, "failed", rec.Status)
	assert.Contains(t, rec.Error, "row 7: bad currency code")
	assert.Contains(t, rec.Log, "row 7: bad currency code", "the guest's own words are in the record")
	assert.Zero(t, rec.LogDropped)
	assert.False(t, linked[0].IsZero() || linked[1].Before(linked[0]), "the link spans the invocation: %v", linked)
	assert.Equal(t, "https://logs.example/fn?from="+linked[0].Format(time.RFC3339Nano), rec.LogsURL)
	assert.Empty(t, rec.Outputs)

	fn, _ = artifact(t, "flood", func(s *fnspec.TaskSpec) { s.Outputs, s.Params = nil, map[string]string{"mib": "1"} })
	h = newHandler(t, fnrt.Options{Dir: fn, Datasets: map[string]string{}, State: state, Log: io.Discard})
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r2"})
	require.NoError(t, err)
	rec = record("flood", "r2")
	assert.Equal(t, "succeeded", rec.Status)
	assert.LessOrEqual(t, len(rec.Log), fnrt.RecordLogTail)
	assert.Greater(t, len(rec.Log), fnrt.RecordLogTail/2)
	assert.Greater(t, rec.LogDropped, int64(fnrt.RecordLogTail), "the flood's log is longer than the record keeps")
	assert.Contains(t, rec.Log, "flood! flood!")
	assert.Empty(t, rec.LogsURL, "no link without Options.LogsURL")
}

// TestMemoisedLargeOutputMoto: an output of more than 100 MiB goes through
// the store on moto's S3, which enforces S3's multipart part sizes: staged
// in parts, copied into a version and onto the stable name, with no upload
// left behind; the next invocation is cached.
func TestMemoisedLargeOutputMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 101 MiB through moto's server; run without -short")
	}
	srv := motos3.Start(t)
	useS3(t, srv.Client, srv.Env())
	for _, b := range []string{"state", "b-in", "b-out"} {
		srv.CreateBucket(t, b)
	}
	ctx := context.Background()
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) {
		s.Inputs = []string{"in"}
		s.Params = map[string]string{"suffix": "!"}
		s.TimeoutSecs = 300
	})
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: map[string]string{"in": "s3://b-in/in", "out": "s3://b-out/out"},
		State: "s3://state", Log: &syncbuf.Buffer{}})
	s, err := store.New(nil, store.Layout{State: "s3://state", Datasets: map[string]string{"in": "s3://b-in", "out": "s3://b-out"}})
	require.NoError(t, err)

	data := strings.Repeat("0123456789abcdef", (101<<20)/16)
	putSource(t, s, data)
	resp, err := h.Invoke(ctx, fnspec.Request{RunID: "big"})
	require.NoError(t, err)
	want := fnspec.Version{Digest: sha([]byte(data + "!")), Size: int64(len(data) + 1)}
	assert.Equal(t, fnspec.OutputInfo{Size: want.Size, SHA256: want.Digest}, resp.Outputs["out"])
	stable, ok := srv.GetObject(t, "b-out", "out")
	require.True(t, ok)
	assert.Equal(t, want.Digest, sha(stable), "the stable name holds the output")
	has, err := s.Has(ctx, "out", want)
	require.NoError(t, err)
	assert.True(t, has, "the output is a version")
	assert.Empty(t, srv.MultipartUploads(t, "b-out"), "no upload left behind")

	resp, err = h.Invoke(ctx, fnspec.Request{RunID: "big-again"})
	require.NoError(t, err)
	assert.Equal(t, "cached", resp.Status)
}

// TestRetireReplacedVersions: an output in the spec's Retire has the
// version its commit replaced moved to its retired name; a memo entry
// naming a retired version revives it, so going back to earlier inputs is
// still cached.
func TestRetireReplacedVersions(t *testing.T) {
	ctx := context.Background()
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) {
		s.Inputs = []string{"in"}
		s.Params = map[string]string{"suffix": "!"}
		s.Retire = []string{"out"}
	})
	dir := t.TempDir()
	state := filestore.URL(filepath.Join(dir, "state"))
	data := filepath.Join(dir, "data")
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "in", "out"), State: state, Log: &syncbuf.Buffer{}})
	s, err := store.New(nil, store.Layout{State: state, Datasets: map[string]string{"in": filestore.URL(data), "out": filestore.URL(data)}})
	require.NoError(t, err)
	hello := fnspec.Version{Digest: sha([]byte("hello!")), Size: 6}
	bye := fnspec.Version{Digest: sha([]byte("bye!")), Size: 4}
	where := func(v fnspec.Version) string {
		t.Helper()
		has, err := s.Has(ctx, "out", v)
		require.NoError(t, err)
		_, rerr := os.Stat(filepath.Join(data, filepath.FromSlash(store.RetiredName(v.Digest))))
		switch {
		case has && rerr != nil:
			return "version"
		case has:
			return "version, and retired"
		case rerr == nil:
			return "retired"
		}
		return "gone"
	}

	putSource(t, s, "hello")
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r1"})
	require.NoError(t, err)
	assert.Equal(t, "version", where(hello))

	putSource(t, s, "bye")
	_, err = h.Invoke(ctx, fnspec.Request{RunID: "r2"})
	require.NoError(t, err)
	assert.Equal(t, "version", where(bye))
	assert.Equal(t, "retired", where(hello), "the replaced version moved")

	putSource(t, s, "hello")
	resp, err := h.Invoke(ctx, fnspec.Request{RunID: "r3"})
	require.NoError(t, err)
	assert.Equal(t, "cached", resp.Status, "the memo entry's retired version came back")
	assert.Equal(t, "version, and retired", where(hello), "revived; its retired copy expires on its own")
	assert.Equal(t, "retired", where(bye))
	stable, err := os.ReadFile(filepath.Join(data, "out"))
	require.NoError(t, err)
	assert.Equal(t, "hello!", string(stable))
}
