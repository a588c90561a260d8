package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func TestMain(m *testing.M) {
	wasmrt.ServeWorkerIfRequested()
	os.Exit(m.Run())
}

// project is a pipeline of concat tasks in a temporary project directory.
type project struct {
	t      testing.TB
	dir    string
	p      *glacier.Pipeline
	module string
}

func newProject(t *testing.T) *project {
	return &project{t: t, dir: t.TempDir(), p: glacier.New("test"), module: wasmbuild.Build(t, "../../testdata/wasm/concat")}
}

// chainProject is a project of two tasks in a chain: a makes mid from the
// source src ("hello"), b makes out from mid; out is "hello+a+b".
func chainProject(t *testing.T) *project {
	pr := newProject(t)
	pr.source("src", "hello")
	pr.task("a", []string{"src"}, []string{"mid"}, map[string]string{"suffix": "+a"}, 0)
	pr.task("b", []string{"mid"}, []string{"out"}, map[string]string{"suffix": "+b"}, 0)
	return pr
}

func (pr *project) source(name, content string) {
	pr.t.Helper()
	pr.writeSource(name, content)
	require.NoError(pr.t, pr.p.AddDataset(glacier.Dataset{Name: name, Storage: glacier.ObjectStorage{}, Source: "data/" + name}))
}

func (pr *project) writeSource(name, content string) {
	pr.t.Helper()
	path := filepath.Join(pr.dir, "data", name)
	require.NoError(pr.t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(pr.t, os.WriteFile(path, []byte(content), 0o644))
	// A rewrite within the file system's timestamp granularity must still
	// count as a change.
	future := time.Now().Add(time.Duration(len(content)+1) * time.Second)
	require.NoError(pr.t, os.Chtimes(path, future, future))
}

func (pr *project) task(name string, inputs, outputs []string, params map[string]string, retries int) {
	pr.t.Helper()
	for _, o := range outputs {
		if _, ok := pr.p.Dataset(o); !ok {
			require.NoError(pr.t, pr.p.AddDataset(glacier.Dataset{Name: o, Storage: glacier.ObjectStorage{}}))
		}
	}
	require.NoError(pr.t, pr.p.AddTask(glacier.Task{Name: name, Module: pr.module, Inputs: inputs, Outputs: outputs,
		Params: params, Retries: retries, Compute: glacier.Local{Timeout: 60}}))
}

// run executes the pipeline and returns the report, the error and the
// statuses by task.
func (pr *project) run(opts local.Options) (*glacier.Report, map[string]string, error) {
	pr.t.Helper()
	ctx := context.Background()
	mods, err := build.Modules(ctx, pr.p, build.Options{Dir: pr.dir})
	require.NoError(pr.t, err)
	opts.Dir, opts.Modules = pr.dir, mods
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	rep, err := pr.p.Run(ctx, local.New(opts))
	status := map[string]string{}
	if rep != nil {
		for _, tr := range rep.Tasks {
			status[tr.Task] = string(tr.Status)
		}
	}
	return rep, status, err
}

func (pr *project) current(dataset string) string {
	pr.t.Helper()
	store, err := local.OpenStore(pr.dir)
	require.NoError(pr.t, err)
	data, err := store.Read(pr.p, dataset)
	require.NoError(pr.t, err)
	return string(data)
}

func TestRunIncremental(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "hello")
	pr.source("other", "world")
	pr.task("a", []string{"src"}, []string{"mid"}, map[string]string{"suffix": "+a"}, 0)
	pr.task("b", []string{"mid"}, []string{"left"}, map[string]string{"suffix": "+b"}, 0)
	pr.task("c", []string{"other"}, []string{"right"}, map[string]string{"suffix": "+c"}, 0)
	pr.task("d", []string{"left", "right"}, []string{"final"}, nil, 0)

	_, st, err := pr.run(local.Options{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "succeeded", "b": "succeeded", "c": "succeeded", "d": "succeeded"}, st)
	require.Equal(t, "hello+a+b", pr.current("left"))
	require.Equal(t, "hello+a+bworld+c", pr.current("final"))

	_, st, err = pr.run(local.Options{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "cached", "b": "cached", "c": "cached", "d": "cached"}, st, "unchanged")

	pr.writeSource("other", "WORLD")
	_, st, err = pr.run(local.Options{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "cached", "b": "cached", "c": "succeeded", "d": "succeeded"}, st, "after changing other")
	require.Equal(t, "hello+a+bWORLD+c", pr.current("final"))

	_, st, err = pr.run(local.Options{Force: true})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "succeeded", "b": "succeeded", "c": "succeeded", "d": "succeeded"}, st, "forced")

	// Changing a param reruns its task and everything downstream.
	pr.p = rebuild(t, pr.p, "b", func(tk *glacier.Task) { tk.Params = map[string]string{"suffix": "+B"} })
	_, st, err = pr.run(local.Options{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "cached", "b": "succeeded", "c": "cached", "d": "succeeded"}, st, "after changing b's param")
	require.Equal(t, "hello+a+BWORLD+c", pr.current("final"))

	// Changing it back finds the earlier results again.
	pr.p = rebuild(t, pr.p, "b", func(tk *glacier.Task) { tk.Params = map[string]string{"suffix": "+b"} })
	_, st, err = pr.run(local.Options{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "cached", "b": "cached", "c": "cached", "d": "cached"}, st, "after reverting")
	require.Equal(t, "hello+a+bWORLD+c", pr.current("final"))
}

func TestRunFailureIsolation(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "x")
	pr.task("good", []string{"src"}, []string{"g"}, nil, 0)
	pr.task("bad", []string{"src"}, []string{"b"}, map[string]string{"fail": "no such customer 42"}, 2)
	pr.task("after", []string{"b"}, []string{"a"}, nil, 0)
	pr.task("later", []string{"a", "g"}, []string{"l"}, nil, 0)

	rep, st, err := pr.run(local.Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "1 of 4 tasks failed")
	require.Contains(t, err.Error(), "no such customer 42")
	require.Equal(t, map[string]string{"good": "succeeded", "bad": "failed", "after": "skipped", "later": "skipped"}, st)
	for _, tr := range rep.Tasks {
		if tr.Task == "bad" {
			require.Equal(t, 3, tr.Attempts, "retries: 2 means three attempts")
		}
		if tr.Task == "after" {
			require.ErrorContains(t, tr.Err, `upstream task "bad" did not succeed`)
		}
	}
	require.Equal(t, "x", pr.current("g"))
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	_, err = store.Read(pr.p, "b")
	require.ErrorContains(t, err, `dataset "b" has no version yet`)
	// Nothing partial was left behind anywhere in the store.
	require.NoError(t, filepath.Walk(store.Root(), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(path, "objects") {
			data, _ := os.ReadFile(path)
			if strings.Contains(string(data), "partial") {
				t.Errorf("partial output committed at %s", path)
			}
		}
		return err
	}))
}

func TestRunMissingSource(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "x")
	require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "gone", Storage: glacier.ObjectStorage{}, Source: "data/gone.csv"}))
	pr.task("a", []string{"src", "gone"}, []string{"out"}, nil, 0)
	_, _, err := pr.run(local.Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "no task was started")
	require.Contains(t, err.Error(), "data/gone.csv")
	require.Contains(t, err.Error(), `dataset "gone"`)
}

func TestRunCanceled(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "x")
	pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	mods, err := build.Modules(context.Background(), pr.p, build.Options{Dir: pr.dir})
	require.NoError(t, err)
	_, err = pr.p.Run(ctx, local.New(local.Options{Dir: pr.dir, Modules: mods}))
	require.True(t, errors.Is(err, context.Canceled), "err = %v", err)
}

// TestForcedRerunKeepsTheStoreConsistent reruns, forced, a task whose
// output differs every run (it writes the time): the new version becomes
// current for its own readers and for the downstream task alike, and
// lineage traces what the run record says it used.
func TestForcedRerunKeepsTheStoreConsistent(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "x")
	pr.task("tick", []string{"src"}, []string{"t"}, map[string]string{"clock": "1"}, 0)
	pr.task("tock", []string{"t"}, []string{"u"}, map[string]string{"suffix": "!"}, 0)
	for i, opts := range []local.Options{{}, {Force: true}, {Force: true}} {
		rep, _, err := pr.run(opts)
		require.NoError(t, err)
		tick := pr.current("t")
		require.Equal(t, tick+"!", pr.current("u"), "run %d: u is made from the current t", i)
		store, err := local.OpenStore(pr.dir)
		require.NoError(t, err)
		ref, ok := store.TaskRef(pr.p.Name(), "tick")
		require.True(t, ok)
		for _, tr := range rep.Tasks {
			if tr.Task == "tock" {
				require.Equal(t, "succeeded", string(tr.Status))
			}
		}
		memo, ok := store.Memo("tick", ref.Key)
		require.True(t, ok)
		require.Equal(t, memo.Outputs["t"], ref.Outputs["t"])
		lin, err := store.Lineage(pr.p, "u")
		require.NoError(t, err)
		var walk func(n *local.LineageNode)
		walk = func(n *local.LineageNode) {
			require.Empty(t, n.Note, "run %d: lineage of u at %s", i, n.Dataset)
			for _, in := range n.Inputs {
				walk(in)
			}
		}
		walk(lin)
		require.Len(t, lin.Inputs, 1)
		require.Equal(t, rep.RunID, lin.Inputs[0].RunID, "run %d: t was made in this run", i)
	}
}

// rebuild returns a copy of p with one task changed.
func rebuild(t *testing.T, p *glacier.Pipeline, task string, change func(*glacier.Task)) *glacier.Pipeline {
	t.Helper()
	q := glacier.New(p.Name())
	for _, d := range p.Datasets() {
		require.NoError(t, q.AddDataset(d))
	}
	for _, tk := range p.Tasks() {
		if tk.Name == task {
			change(&tk)
		}
		require.NoError(t, q.AddTask(tk))
	}
	return q
}

// TestTaskRefs checks that a task's ref is the store's (package store):
// a record naming its memo entry and outputs, which store.Open reads as it
// reads a deployment's; that a ref that is a symbolic link to its memo
// entry, as refs of the earlier layout were, still reads; and that the
// next run makes it a record (TestEarlierLayoutKeepsResults has the whole
// earlier layout).
func TestTaskRefs(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "hello")
	pr.task("a", []string{"src"}, []string{"mid"}, map[string]string{"suffix": "+a"}, 0)
	rep, _, err := pr.run(local.Options{})
	require.NoError(t, err)

	ls, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	ref, ok := ls.TaskRef(pr.p.Name(), "a")
	require.True(t, ok)
	memo, ok := ls.Memo("a", ref.Key)
	require.True(t, ok)
	require.Equal(t, memo, ref)
	require.Equal(t, "hello+a", pr.current("mid"))

	ctx := context.Background()
	st, err := store.Open(ctx, nil, filestore.URL(ls.Root()), pr.p.Name())
	require.NoError(t, err)
	r, _, ok, err := st.Ref(ctx, pr.p.Name(), "a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, store.Ref{Task: "a", Key: ref.Key, RunID: rep.RunID, Outputs: ref.Outputs, Time: r.Time}, r)
	fi, err := os.Lstat(filepath.Join(ls.Root(), "pipelines", pr.p.Name(), "tasks", "a.json"))
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular(), "the ref is a file")

	// A ref made as a link to the memo entry, as older stores have.
	refPath := filepath.Join(ls.Root(), "pipelines", pr.p.Name(), "tasks", "a.json")
	require.NoError(t, os.Remove(refPath))
	require.NoError(t, os.Symlink(filepath.Join("..", "..", "..", "memo", "a", ref.Key+".json"), refPath))
	got, ok := ls.TaskRef(pr.p.Name(), "a")
	require.True(t, ok)
	require.Equal(t, ref, got)
	require.Equal(t, "hello+a", pr.current("mid"))

	pr.writeSource("src", "HELLO")
	_, _, err = pr.run(local.Options{})
	require.NoError(t, err)
	got, ok = ls.TaskRef(pr.p.Name(), "a")
	require.True(t, ok)
	require.NotEqual(t, ref.Key, got.Key)
	fi, err = os.Lstat(refPath)
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular(), "the link was replaced by a file")
	require.Equal(t, "HELLO+a", pr.current("mid"))
	memo, ok = ls.Memo("a", ref.Key)
	require.True(t, ok, "the entry the link named is still there")
	data, err := os.ReadFile(ls.ObjectPath(memo.Outputs["mid"].Digest))
	require.NoError(t, err)
	require.Equal(t, "hello+a", string(data))

	// Nothing is left in staging or tmp after a run.
	for _, sub := range []string{"staging", "tmp"} {
		entries, err := os.ReadDir(filepath.Join(ls.Root(), sub))
		require.NoError(t, err)
		require.Empty(t, entries, "%s after a run", sub)
	}
}

// TestEarlierLayoutKeepsResults: a store written before memo entries were
// kept per task (memo/<key>.json, refs linking to them) keeps its results:
// fsck reports the old entries, and the next run, or fsck --repair, moves
// them and turns the links into refs, so every task is cached and nothing
// of the old layout is left.
func TestEarlierLayoutKeepsResults(t *testing.T) {
	for _, how := range []string{"run", "fsck --repair"} {
		t.Run(how, func(t *testing.T) {
			pr := chainProject(t)
			_, _, err := pr.run(local.Options{})
			require.NoError(t, err)

			root := filepath.Join(pr.dir, local.StateDir)
			for _, task := range []string{"a", "b"} {
				entries, err := filepath.Glob(filepath.Join(root, "memo", task, "*.json"))
				require.NoError(t, err)
				require.Len(t, entries, 1)
				old := filepath.Join(root, "memo", filepath.Base(entries[0]))
				require.NoError(t, os.Rename(entries[0], old))
				require.NoError(t, os.Remove(filepath.Dir(entries[0])))
				ref := filepath.Join(root, "pipelines", pr.p.Name(), "tasks", task+".json")
				require.NoError(t, os.Remove(ref))
				require.NoError(t, os.Symlink(filepath.Join("..", "..", "..", "memo", filepath.Base(old)), ref))
			}
			ls, err := local.OpenStore(pr.dir)
			require.NoError(t, err)
			rep, err := ls.Fsck(false)
			require.NoError(t, err)
			require.Len(t, rep.Problems, 2, "the two entries of the earlier layout: %+v", rep.Problems)
			for _, p := range rep.Problems {
				assert.Contains(t, p.What, "earlier layout")
			}
			assert.Equal(t, "hello+a+b", pr.current("out"), "the earlier layout reads")

			if how == "run" {
				_, st, err := pr.run(local.Options{})
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"a": "cached", "b": "cached"}, st)
			}
			rep, err = ls.Fsck(how != "run")
			require.NoError(t, err)
			assert.Empty(t, rep.Problems, "after the %s", how)
			for _, task := range []string{"a", "b"} {
				fi, err := os.Lstat(filepath.Join(root, "pipelines", pr.p.Name(), "tasks", task+".json"))
				require.NoError(t, err)
				assert.True(t, fi.Mode().IsRegular(), "task %s's ref is a record", task)
			}
			_, st, err := pr.run(local.Options{})
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"a": "cached", "b": "cached"}, st)
			assert.Equal(t, "hello+a+b", pr.current("out"))
		})
	}
}

// TestQueuedWhileWorkersAreBusy runs four independent tasks one at a time:
// each is queued until a worker is free, so at most one is ever running,
// and a task's recorded time is its own, not the wait.
func TestQueuedWhileWorkersAreBusy(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "x")
	for _, name := range []string{"a", "b", "c", "d"} {
		pr.task(name, []string{"src"}, []string{name + "_out"}, nil, 0)
	}
	var mu sync.Mutex
	running, most := 0, 0
	seen := map[string][]glacier.TaskStatus{}
	_, _, err := pr.run(local.Options{Parallel: 1, Events: func(ev local.Event) {
		mu.Lock()
		defer mu.Unlock()
		seen[ev.Task] = append(seen[ev.Task], ev.State)
		switch ev.State {
		case "running":
			running++
			most = max(most, running)
		case "succeeded", "failed":
			running--
		}
	}})
	require.NoError(t, err)
	require.Equal(t, 1, most, "tasks ran at once with one worker")
	for task, states := range seen {
		require.Equal(t, []glacier.TaskStatus{glacier.StatusQueued, glacier.StatusRunning, glacier.StatusSucceeded}, states, "task %s", task)
	}
}
