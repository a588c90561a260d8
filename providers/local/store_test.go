package local_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// tamper rewrites the object of a dataset's current version with edit.
func (pr *project) tamper(dataset string, edit func([]byte) []byte) string {
	pr.t.Helper()
	store, err := local.OpenStore(pr.dir)
	require.NoError(pr.t, err)
	v, err := store.Current(pr.p, dataset)
	require.NoError(pr.t, err)
	path := store.ObjectPath(v.Digest)
	data, err := os.ReadFile(path)
	require.NoError(pr.t, err)
	require.NoError(pr.t, os.Chmod(path, 0o600))
	require.NoError(pr.t, os.WriteFile(path, edit(data), 0o600))
	return path
}

func TestTamperedObjects(t *testing.T) {
	sameLength := func(b []byte) []byte { b[0] ^= 1; return b }
	truncated := func(b []byte) []byte { return b[:len(b)/2] }
	for _, tt := range []struct {
		name string
		edit func([]byte) []byte
		// healed: the run notices the object's size is wrong and remakes
		// it; other bytes of the right size fail the task that reads them.
		healed bool
	}{{"same length", sameLength, false}, {"truncated", truncated, true}} {
		t.Run(tt.name, func(t *testing.T) {
			pr := chainProject(t)
			_, _, err := pr.run(local.Options{})
			require.NoError(t, err)
			obj := pr.tamper("mid", tt.edit)

			// Reading it fails, naming the object and the repair.
			store, err := local.OpenStore(pr.dir)
			require.NoError(t, err)
			_, err = store.Read(pr.p, "mid")
			require.ErrorIs(t, err, local.ErrCorrupt)
			assert.Contains(t, err.Error(), obj)
			assert.Contains(t, err.Error(), "glacier fsck --repair")

			// A task reading it fails, and is not retried.
			pr.writeSource("src", "hello") // rerun a, which makes the same mid, and b
			_, st, err := pr.run(local.Options{Force: true})
			require.NoError(t, err, "a forced run replaces the corrupt object with what a makes")
			assert.Equal(t, map[string]string{"a": "succeeded", "b": "succeeded"}, st)
			assert.Equal(t, "hello+a", pr.current("mid"))

			pr.tamper("mid", tt.edit)
			pr.p = rebuild(t, pr.p, "b", func(tk *glacier.Task) { tk.Params = map[string]string{"suffix": "+B"} })
			rep, st, err := pr.run(local.Options{})
			if tt.healed {
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"a": "succeeded", "b": "succeeded"}, st)
				assert.Equal(t, "hello+a+B", pr.current("out"))
				return
			}
			require.Error(t, err)
			assert.Equal(t, map[string]string{"a": "cached", "b": "failed"}, st)
			for _, tr := range rep.Tasks {
				if tr.Task == "b" {
					assert.Equal(t, 1, tr.Attempts)
					assert.ErrorContains(t, tr.Err, "dataset corrupt")
					assert.ErrorContains(t, tr.Err, "glacier fsck --repair")
				}
			}

			// fsck finds it, and --repair leaves a store the next run completes.
			rpt, err := store.Fsck(false)
			require.NoError(t, err)
			require.Equal(t, 1, rpt.Unrepaired())
			assert.Contains(t, rpt.Problems[0].Path, filepath.Base(obj))
			rpt, err = store.Fsck(true)
			require.NoError(t, err)
			assert.Zero(t, rpt.Unrepaired())
			_, st, err = pr.run(local.Options{})
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"a": "succeeded", "b": "succeeded"}, st)
			assert.Equal(t, "hello+a+B", pr.current("out"))
			rpt, err = store.Fsck(false)
			require.NoError(t, err)
			assert.Empty(t, rpt.Problems)
		})
	}
}

func TestStoreIsPrivate(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "secret")
	require.NoError(t, os.Chmod(filepath.Join(pr.dir, "data", "src"), 0o600))
	pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
	_, _, err := pr.run(local.Options{})
	require.NoError(t, err)
	root := filepath.Join(pr.dir, local.StateDir)
	require.NoError(t, filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
		case fi.IsDir():
			assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "directory %s", path)
		default:
			assert.Zero(t, fi.Mode().Perm()&0o077, "%s is readable by others (%v)", path, fi.Mode().Perm())
		}
		return nil
	}))
}

func TestForceRereadsSources(t *testing.T) {
	pr := newProject(t)
	pr.source("src", "aaaa")
	pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
	_, _, err := pr.run(local.Options{})
	require.NoError(t, err)
	// An edit in place that keeps the size and the modification time.
	path := filepath.Join(pr.dir, "data", "src")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("bbbb"), 0o644))
	require.NoError(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
	_, _, err = pr.run(local.Options{Force: true})
	require.NoError(t, err)
	assert.Equal(t, "bbbb", pr.current("out"))
}

// TestSourceEditedInPlace rewrites a source with the same size and puts
// its modification time back (as touch -r does): the next run reads it.
func TestSourceEditedInPlace(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the change time is read on Linux")
	}
	pr := newProject(t)
	pr.source("src", "aaaa")
	pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
	_, _, err := pr.run(local.Options{})
	require.NoError(t, err)
	path := filepath.Join(pr.dir, "data", "src")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("bbbb"), 0o644))
	require.NoError(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
	_, st, err := pr.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st["a"])
	assert.Equal(t, "bbbb", pr.current("out"))
}

// TestSpecialSources checks that sources that are not regular files are
// refused before any task starts, and promptly: none is read.
func TestSpecialSources(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(path string) error
		says string
	}{
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a named pipe (FIFO), not a regular file"},
		{"link to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "leads outside the project directory"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "is a directory, not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr := newProject(t)
			require.NoError(t, os.MkdirAll(filepath.Join(pr.dir, "data"), 0o755))
			require.NoError(t, tt.make(filepath.Join(pr.dir, "data", "src")))
			require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "src", Storage: glacier.ObjectStorage{}, Source: "data/src"}))
			pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
			start := time.Now()
			_, _, err := pr.run(local.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "no task was started")
			assert.Contains(t, err.Error(), tt.says)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
	t.Run("/dev/zero outside the project, allowed", func(t *testing.T) {
		pr := newProject(t)
		require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "src", Storage: glacier.ObjectStorage{}, Source: "/dev/zero", SourceOutsideProject: true}))
		pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
		_, _, err := pr.run(local.Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is a character device, not a regular file")
	})
}

func TestSourcesStayInTheProject(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("not for the cloud"), 0o600))
	for _, tt := range []struct {
		name   string
		source func(dir string) string
		shared bool
		says   string
	}{
		{"parent", func(dir string) string { rel, _ := filepath.Rel(dir, outside); return rel }, false, "leads outside the project directory"},
		{"absolute", func(string) string { return outside }, false, "is an absolute path"},
		{"link", func(dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
			require.NoError(t, os.Symlink(outside, filepath.Join(dir, "data", "link")))
			return "data/link"
		}, false, "leads outside the project directory"},
		{"absolute, shared", func(string) string { return outside }, true, ""},
		{"link, shared", func(dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
			require.NoError(t, os.Symlink(outside, filepath.Join(dir, "data", "link")))
			return "data/link"
		}, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr := newProject(t)
			require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "src", Storage: glacier.ObjectStorage{}, Source: tt.source(pr.dir), SourceOutsideProject: tt.shared}))
			pr.task("a", []string{"src"}, []string{"out"}, nil, 0)
			_, _, err := pr.run(local.Options{})
			if tt.says == "" {
				require.NoError(t, err)
				assert.Equal(t, "not for the cloud", pr.current("out"))
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
			assert.Contains(t, err.Error(), "source_outside_project: true")
		})
	}
}

// TestImportStopsWhenInterrupted imports a large source under a context
// that ends: the copy stops rather than running to the end.
func TestImportStopsWhenInterrupted(t *testing.T) {
	pr := newProject(t)
	path := filepath.Join(pr.dir, "big")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<30))
	require.NoError(t, f.Close())
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = store.ImportSource(ctx, "p", "big", path, "r", false, local.Checked{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestPipelinesShareNoVersions runs two pipelines from one directory, so
// one store, with the same dataset and task names over different source
// files: neither may see the other's versions, logs or lineage.
func TestPipelinesShareNoVersions(t *testing.T) {
	a := newProject(t)
	a.p = glacier.New("a")
	a.source("src", "from a")
	a.task("t", []string{"src"}, []string{"out"}, map[string]string{"suffix": "!"}, 0)
	b := &project{t: t, dir: a.dir, p: glacier.New("b"), module: a.module}
	require.NoError(t, b.p.AddDataset(glacier.Dataset{Name: "src", Storage: glacier.ObjectStorage{}, Source: "data/b-src"}))
	b.writeSource("b-src", "from b")
	b.task("t", []string{"src"}, []string{"out"}, map[string]string{"suffix": "?"}, 0)

	_, _, err := a.run(local.Options{})
	require.NoError(t, err)
	_, _, err = b.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "from a!", a.current("out"), "a's output after b ran")
	assert.Equal(t, "from b?", b.current("out"))
	assert.Equal(t, "from a", a.current("src"))

	store, err := local.OpenStore(a.dir)
	require.NoError(t, err)
	lin, err := store.Lineage(a.p, "out")
	require.NoError(t, err)
	require.Len(t, lin.Inputs, 1)
	assert.Equal(t, "data/src", lin.Inputs[0].Source)
	assert.Empty(t, lin.Inputs[0].Note, "a's source version is a's, not b's")
	assert.Equal(t, map[string]string{"suffix": "!"}, lin.Params)

	recA, _, err := store.LatestRunOf("a", "t")
	require.NoError(t, err)
	recB, _, err := store.LatestRunOf("b", "t")
	require.NoError(t, err)
	assert.Equal(t, "a", recA.Pipeline)
	assert.Equal(t, "b", recB.Pipeline)

	// a is unchanged since its run: everything is cached, though b ran
	// the same task names in between.
	_, st, err := a.run(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"t": "cached"}, st)

	// Refs of the earlier layout, kept by bare names, are read by
	// nothing; fsck says so and --repair removes them.
	old := filepath.Join(store.Root(), "refs", "tasks")
	require.NoError(t, os.MkdirAll(old, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(old, "t.json"), []byte("{}"), 0o600))
	rpt, err := store.Fsck(false)
	require.NoError(t, err)
	require.Len(t, rpt.Problems, 1)
	assert.Equal(t, "refs", rpt.Problems[0].Path)
	rpt, err = store.Fsck(true)
	require.NoError(t, err)
	assert.Zero(t, rpt.Unrepaired())
	assert.NoDirExists(t, filepath.Join(store.Root(), "refs"))
	assert.Equal(t, "from a!", a.current("out"))
}

// TestRunRefusesWhatIsNotARunID checks that a run id from outside cannot
// name a file beside the store's run records.
func TestRunRefusesWhatIsNotARunID(t *testing.T) {
	dir := t.TempDir()
	store, err := local.OpenStore(dir)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, local.StateDir, "run.json"), []byte(`{"run_id":"planted"}`), 0o644))
	for _, id := range []string{"..", "../runs", "a/b", ""} {
		_, err := store.Run(id)
		assert.ErrorContains(t, err, "is not a run id", "%q", id)
	}
	_, err = store.Run("20240501T120000.000Z-a1b2c3")
	assert.ErrorIs(t, err, fs.ErrNotExist, "a well-formed id of no run")
}
