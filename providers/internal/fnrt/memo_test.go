package fnrt_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
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
