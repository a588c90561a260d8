package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
)

// remoteOf makes a store (files standing in for a deployment) holding
// what pr's last run computed: each task's memo entry and its outputs'
// versions, as a cloud that ran the same invocations holds them.
func remoteOf(t *testing.T, pr *project, tasks ...string) (*store.Store, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.New(nil, store.Layout{State: filestore.URL(filepath.Join(dir, "state")),
		Datasets: map[string]string{"mid": filestore.URL(filepath.Join(dir, "mid")), "out": filestore.URL(filepath.Join(dir, "out"))}})
	require.NoError(t, err)
	ls, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	for _, task := range tasks {
		e, ok := ls.TaskRef(pr.p.Name(), task)
		require.True(t, ok)
		for name, v := range e.Outputs {
			data, err := os.ReadFile(ls.ObjectPath(v.Digest))
			require.NoError(t, err)
			u := s.StagingURL("cloud", task, name)
			w, err := storage.DefaultURLMux().Stage(ctx, u)
			require.NoError(t, err)
			_, err = w.Write(data)
			require.NoError(t, err)
			require.NoError(t, w.Commit(ctx))
			require.NoError(t, s.Adopt(ctx, name, u, v))
		}
		e.RunID = "cloud"
		require.NoError(t, s.PutMemo(ctx, e))
	}
	return s, dir
}

// TestRunRemote: a run given a remote store reuses the invocations its
// memo has, copying their outputs in, and runs no guest; a remote output
// whose bytes do not match their digest fails its task, and nothing of it
// is committed.
func TestRunRemote(t *testing.T) {
	cloud := chainProject(t)
	_, st, err := cloud.run(local.Options{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "succeeded", "b": "succeeded"}, st)
	remote, remoteDir := remoteOf(t, cloud, "a", "b")

	laptop := chainProject(t)
	mods, err := build.Modules(context.Background(), laptop.p, build.Options{Dir: laptop.dir})
	require.NoError(t, err)
	exec := local.New(local.Options{Dir: laptop.dir, Modules: mods, Remote: remote})
	_, err = laptop.p.Run(context.Background(), exec)
	require.NoError(t, err)
	for _, tr := range exec.LastRun().Tasks {
		assert.Equal(t, "cached", string(tr.Status), tr.Task)
		assert.True(t, tr.Remote, "%s came from the remote store", tr.Task)
		assert.Zero(t, tr.Attempts, "%s ran no guest", tr.Task)
	}
	assert.Equal(t, "hello+a+b", laptop.current("out"))
	_, st, err = laptop.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "cached", "b": "cached"}, st, "the copied results are the laptop's own now")

	// b's remote output is damaged: same size, other bytes.
	ls, err := local.OpenStore(cloud.dir)
	require.NoError(t, err)
	e, _ := ls.TaskRef(cloud.p.Name(), "b")
	v := e.Outputs["out"]
	obj := filepath.Join(remoteDir, "out", filepath.FromSlash(store.ObjectName(v.Digest)))
	require.NoError(t, os.WriteFile(obj, []byte("HELLO+A+B"), 0o644))
	damaged := chainProject(t)
	mods, err = build.Modules(context.Background(), damaged.p, build.Options{Dir: damaged.dir})
	require.NoError(t, err)
	exec = local.New(local.Options{Dir: damaged.dir, Modules: mods, Remote: remote})
	_, err = damaged.p.Run(context.Background(), exec)
	require.Error(t, err)
	byTask := map[string]local.TaskRecord{}
	for _, tr := range exec.LastRun().Tasks {
		byTask[tr.Task] = tr
	}
	assert.True(t, byTask["a"].Remote)
	assert.Equal(t, "failed", string(byTask["b"].Status))
	assert.Contains(t, byTask["b"].Error, "reuse the remote store's result")
	dls, err := local.OpenStore(damaged.dir)
	require.NoError(t, err)
	_, committed := dls.TaskRef(damaged.p.Name(), "b")
	assert.False(t, committed, "nothing of b is committed")
	assert.False(t, dls.HasObject(v), "the damaged bytes are not in the store")
}

// TestRunRemoteParts: a map task whose whole invocation the remote memo
// has is committed from it, its parts copied in, and runs no part; after
// a file changed, each unchanged part is found in the remote memo and the
// changed one alone runs.
func TestRunRemoteParts(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"a.log": "A", "b.log": "B", "2026/c.log": "C"}
	cloud := mapProject(t, files, nil, 0)
	_, _, err := cloud.mapRun(local.Options{})
	require.NoError(t, err)

	// The remote store holds what the cloud computed: every version, and
	// parse's memo entries, the whole invocation's and each part's.
	dir := t.TempDir()
	remote, err := store.New(nil, store.Layout{State: filestore.URL(filepath.Join(dir, "state")),
		Datasets: map[string]string{"parsed": filestore.URL(filepath.Join(dir, "parsed"))}})
	require.NoError(t, err)
	ls, err := local.OpenStore(cloud.dir)
	require.NoError(t, err)
	memos, err := filepath.Glob(filepath.Join(cloud.dir, ".glacier", "memo", "parse", "*.json"))
	require.NoError(t, err)
	n := 0
	for _, f := range memos {
		var e local.MemoEntry
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &e))
		if e.Task != "parse" {
			continue
		}
		for name, v := range e.Outputs {
			var versions []local.Version
			if e.Part == "" {
				parts, err := ls.Parts(v)
				require.NoError(t, err)
				for _, p := range parts {
					versions = append(versions, p.Version)
				}
			}
			for _, v := range append(versions, v) {
				f, err := os.Open(ls.ObjectPath(v.Digest))
				require.NoError(t, err)
				require.NoError(t, remote.PutObject(ctx, "cloud", "parse", name, v, f))
				f.Close()
			}
		}
		e.RunID = "cloud"
		require.NoError(t, remote.PutMemo(ctx, e))
		n++
	}
	require.Equal(t, 4, n, "the whole invocation and its three parts")

	laptop := mapProject(t, files, nil, 0)
	c, st, err := laptop.mapRun(local.Options{Remote: remote})
	require.NoError(t, err)
	assert.Equal(t, "cached", st)
	assert.Zero(t, c.Ran, "no part ran")
	assert.Equal(t, map[string]string{"a.log": "A+lookup", "b.log": "B+lookup", "2026/c.log": "C+lookup"}, laptop.parts("parsed"))

	changed := mapProject(t, files, nil, 0)
	changed.writeSource("logs/b.log", "BB")
	c, st, err = changed.mapRun(local.Options{Remote: remote})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, local.PartCounts{Total: 3, Ran: 1, Cached: 2}, c, "a.log and c.log come from the remote memo")
	assert.Equal(t, map[string]string{"a.log": "A+lookup", "b.log": "BB+lookup", "2026/c.log": "C+lookup"}, changed.parts("parsed"))
}
