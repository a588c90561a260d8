package local

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/regfile"
	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/schema"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
)

// StateDir is the directory, beside the manifest, that holds everything the
// local executor keeps. Deleting it is always safe: the next run rebuilds
// and reruns everything.
const StateDir = ".glacier"

// Modes of the store's directories and objects.
const (
	dirMode    = 0o700
	objectMode = 0o400
)

// Store is the embedded local store in a project's .glacier directory. It
// is the store every target keeps (package store, docs/store.md) over the
// file driver, with the same names and commit protocol, plus what only a
// machine running the pipeline itself keeps:
//
//	objects/ab/<sha256>                    dataset versions, content-addressed, read-only
//	memo/<task>/<key>.json                 every successful invocation, by cache key
//	pipelines/<name>/tasks/<task>.json     the task's ref: its last commit, naming all its outputs
//	pipelines/<name>/sources/<dataset>.json  the version last read from a source file
//	pipelines/<name>/layout.json           where the datasets live and which modules ran
//	runs/<run-id>/tasks/<task>.json        what each task did in a run, as every target records it
//	runs/<run-id>/run.json                 the whole run, locally: runs/<run-id>/logs/<task>.log
//	staging/<run-id>/                      outputs being written; swept on the next run
//
// Refs are kept per pipeline, so manifests sharing a directory (and so a
// store) never see one another's versions; objects and memo entries are
// keyed by content and shared, so identical work is done once. So
// store.Open(ctx, nil, filestore.URL(".glacier"), pipeline) reads what
// glacier run made as it reads a deployment's store, and a deployment's
// results (or another checkout's) are found under the same cache keys.
//
// Every file is written to a temporary name and renamed or linked into
// place, so a process killed at any moment leaves each file whole or
// absent. A task's outputs become current only when its ref is written,
// after its objects and memo entry are synced. Some files are written
// with deferred durability, since a sync each would cost more than the
// work they record: a map task's parts' objects and memo entries
// (commitPart), refs, and the per-task run records. Sync makes them all
// durable; it runs before anything that names a part is committed, and
// when a run ends. A machine that fails first loses only such files, so
// the next run does again at most what they recorded.
//
// The store is private to its owner: its directory is mode 0700 and
// objects are read-only (0400). Nothing that hands out an object's bytes
// trusts its name: tasks read their inputs through a digest check
// (storage.WithDigest), Open checks an object before returning it, an
// existing object is checked before a freshly computed one is dropped in
// its favour, and Fsck checks them all.
type Store struct {
	root string
	// state holds the records over the file driver; lazy is the same
	// without syncs, for the records written with deferred durability.
	state, lazy *store.Store
	// deferred names the files written without a sync since the last
	// Sync: what a commit may name (parts' objects and memo entries), and
	// records nothing names (refs, run records), which can wait for the
	// run's end.
	deferred struct {
		sync.Mutex
		named, records []string
	}
	// syncing serialises Syncs, so one that returns has covered every file
	// written before it was called.
	syncing sync.Mutex
}

// OpenStore opens (creating if needed) the store under dir/.glacier.
func OpenStore(dir string) (*Store, error) {
	root, err := filepath.Abs(filepath.Join(dir, StateDir))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	for _, sub := range []string{"objects", "pipelines", "memo", "runs", "staging", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, sub), dirMode); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	// A store made before it was private becomes private.
	if err := os.Chmod(root, dirMode); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{root: root}
	if s.state, err = store.New(nil, store.Layout{State: filestore.URL(root)}); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if s.lazy, err = store.New(nil, store.Layout{State: filestore.URLNoSync(root)}); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// State returns the store's records as package store reads them: memo
// entries, refs, sources and run records, as in a deployment.
func (s *Store) State() *store.Store { return s.state }

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// Version is one version of a dataset.
type Version = fnspec.Version

// MemoEntry records one successful run of a task: what went in, what came
// out. It is both the cache entry that lets a rerun skip the task and the
// lineage record of the versions it produced; the function runtimes
// record theirs in the same form.
type MemoEntry = store.MemoEntry

// SourceRef records the version last read from a source file, with what
// identifies the file's state (size, modification time, and where the
// system has them its inode and change time, which no tool can set back),
// so an unchanged file is not rehashed.
type SourceRef struct {
	Dataset string    `json:"dataset"`
	Path    string    `json:"path"`
	Version Version   `json:"version"`
	ModTime time.Time `json:"mod_time"`
	Inode   uint64    `json:"inode,omitempty"`
	Ctime   int64     `json:"ctime_ns,omitempty"`
	RunID   string    `json:"run_id"`
	// Parts records, for a partitioned source, each file read; Version is
	// then the list of parts.
	Parts []SourcePartRef `json:"parts,omitempty"`
	// Schema is the SHA-256 of the contract (schema.Schema.Encode) the
	// files were checked against when read, empty for none: a file is
	// read again when its dataset's contract changes.
	Schema string `json:"schema,omitempty"`
}

// Checked is a dataset's contract as an import checks it: the compiled
// contract and the digest SourceRef.Schema records. The zero value checks
// nothing.
type Checked struct {
	Contract *schema.Contract
	Digest   string
}

// CheckedBy returns what checks a source against d's schema.
func CheckedBy(d glacier.Dataset) (Checked, error) {
	if d.Schema == nil {
		return Checked{}, nil
	}
	c, err := schema.Compile(d.Schema)
	if err != nil {
		return Checked{}, fmt.Errorf("dataset %q: %w", d.Name, err)
	}
	enc, err := d.Schema.Encode()
	if err != nil {
		return Checked{}, fmt.Errorf("dataset %q: %w", d.Name, err)
	}
	sum := sha256.Sum256(enc)
	return Checked{Contract: c, Digest: hex.EncodeToString(sum[:])}, nil
}

// validator returns a validator of one file of dataset, or nil.
func (c Checked) validator(dataset, part string) *schema.Validator {
	if c.Contract == nil {
		return nil
	}
	return c.Contract.NewPartValidator(dataset, part)
}

// ObjectPath returns where the version with the given digest is kept.
func (s *Store) ObjectPath(digest string) string {
	return filepath.Join(s.root, "objects", digest[:2], digest)
}

// HasObject reports whether the version with digest is in the store.
func (s *Store) HasObject(v Version) bool {
	fi, err := os.Stat(s.ObjectPath(v.Digest))
	return err == nil && fi.Size() == v.Size
}

// durability says how a file the store writes becomes durable.
type durability int

const (
	// unsynced: the file is synced before it is renamed into place.
	unsynced durability = iota
	// synced: the file is durable already.
	synced
	// deferred: the file is renamed into place unsynced and counted; the
	// next Sync makes it durable, together with every other one.
	deferred
)

// adopt moves a finished file into the objects as the version v, syncing
// it first as d says. If an intact object of that digest exists already,
// the file is removed instead; a corrupt one is replaced.
func (s *Store) adopt(path string, v Version, d durability) error {
	dst := s.ObjectPath(v.Digest)
	if s.HasObject(v) && s.verify(v) == nil {
		return os.Remove(path)
	}
	if d == unsynced {
		if err := syncFile(path); err != nil {
			return err
		}
	}
	if err := os.Chmod(path, objectMode); err != nil {
		return err
	}
	err := os.Rename(path, dst)
	if errors.Is(err, fs.ErrNotExist) { // the first object under its prefix
		if err = os.MkdirAll(filepath.Dir(dst), dirMode); err == nil {
			err = os.Rename(path, dst)
		}
	}
	if err == nil && d == deferred {
		s.noteDeferred(dst)
	}
	return err
}

// noteDeferred records a file written without a sync, which a commit may
// name, for the next sync.
func (s *Store) noteDeferred(path string) {
	s.deferred.Lock()
	defer s.deferred.Unlock()
	s.deferred.named = append(s.deferred.named, path)
}

// noteRecord records a file written without a sync that nothing names,
// for the next Sync.
func (s *Store) noteRecord(rel string) {
	s.deferred.Lock()
	defer s.deferred.Unlock()
	s.deferred.records = append(s.deferred.records, filepath.Join(s.root, filepath.FromSlash(rel)))
}

// syncEachMax is how many files Sync syncs one by one at most; beyond it,
// one syncfs is cheaper. Below it, syncing each is cheaper, and costs
// what this store wrote only: syncfs also flushes what every other program
// wrote to the file system, which on a busy one can take seconds.
const syncEachMax = 256

// Sync makes durable every file the store wrote with deferred durability
// before Sync was called: a few files one by one, more with one syncfs(2)
// where there is one, and nothing when there are none.
func (s *Store) Sync() error { return s.sync(true) }

// sync is Sync of the files a commit may name and, if all, of the records
// too.
func (s *Store) sync(all bool) error {
	s.syncing.Lock()
	defer s.syncing.Unlock()
	s.deferred.Lock()
	named, records := s.deferred.named, []string(nil)
	s.deferred.named = nil
	if all {
		records, s.deferred.records = s.deferred.records, nil
	}
	s.deferred.Unlock()
	paths := slices.Concat(named, records)
	if len(paths) == 0 {
		return nil
	}
	done, err := false, error(nil)
	if len(paths) > syncEachMax {
		done, err = syncFS(s.root)
	}
	if !done {
		err = syncEach(paths)
	}
	if err != nil {
		// Keep them, so the next sync tries again.
		s.deferred.Lock()
		s.deferred.named = append(s.deferred.named, named...)
		s.deferred.records = append(s.deferred.records, records...)
		s.deferred.Unlock()
		return fmt.Errorf("sync %s: %w", s.root, err)
	}
	return nil
}

// syncEach syncs each file, a few at once, since a sync mostly waits. A
// file gone since it was noted (replaced by rename under another path)
// has nothing left to sync.
func syncEach(paths []string) error {
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, p := range paths {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := syncFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// verify checks that the object of v holds exactly v's bytes. Its error
// matches ErrCorrupt when it does not.
func (s *Store) verify(v Version) error {
	f, err := os.Open(s.ObjectPath(v.Digest))
	if err != nil {
		return err
	}
	defer f.Close()
	h := newHasher()
	if _, err := io.Copy(h, io.LimitReader(f, v.Size+1)); err != nil {
		return err
	}
	if got := h.version(); got != v {
		return &CorruptError{Path: s.ObjectPath(v.Digest), Want: v, Got: got}
	}
	return nil
}

// ErrCorrupt is matched by errors for an object whose bytes are not the
// ones its name and its records promise.
var ErrCorrupt = errors.New("corrupt object")

// CorruptError describes an object whose bytes differ from its version.
type CorruptError struct {
	Path      string
	Want, Got Version
}

// Error names the object, what it should hold and what it holds, and how
// to repair the store.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("object %s is corrupt: it should hold %d bytes with SHA-256 %s, but holds %d bytes with SHA-256 %s; %s",
		e.Path, e.Want.Size, e.Want.Digest, e.Got.Size, e.Got.Digest, Repair)
}

// Is makes a CorruptError match ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Repair says how to repair a store with corrupt objects.
const Repair = "run glacier fsck --repair to remove corrupt objects, then glacier run to make them again"

// ImportSource makes the file at path the current version of dataset,
// copying it into the objects if its bytes are new. path must be what
// glacier.SourcePath returned. An unchanged file (same size and
// modification time, inode and change time as last recorded) is not read
// again, unless force.
// The copy stops when ctx ends.
func (s *Store) ImportSource(ctx context.Context, pipeline, dataset, path, runID string, force bool, check Checked) (Version, error) {
	f, fi, err := regfile.Open(path)
	if err != nil {
		return Version{}, fmt.Errorf("dataset %q: source %s: %w", dataset, path, unwrapPathError(err))
	}
	defer f.Close()
	ino, ctime := fileIdentity(fi)
	var prev SourceRef
	if err := s.readJSON(sourceRefPath(pipeline, dataset), &prev); err == nil && !force &&
		prev.Path == path && prev.Version.Size == fi.Size() && prev.ModTime.Equal(fi.ModTime()) &&
		prev.Inode == ino && prev.Ctime == ctime && prev.Schema == check.Digest && s.HasObject(prev.Version) {
		return prev.Version, nil
	}
	v, err := s.copyIn(ctx, f, check.validator(dataset, ""))
	if err != nil {
		return Version{}, sourceError(dataset, path, err)
	}
	ref := SourceRef{Dataset: dataset, Path: path, Version: v, ModTime: fi.ModTime(), Inode: ino, Ctime: ctime, RunID: runID, Schema: check.Digest}
	if err := os.MkdirAll(filepath.Join(s.root, filepath.Dir(sourceRefPath(pipeline, dataset))), dirMode); err != nil {
		return Version{}, err
	}
	return v, s.writeJSON(sourceRefPath(pipeline, dataset), ref)
}

// sourceError says which source an import failed on: a contract broken,
// or another error.
func sourceError(dataset, path string, err error) error {
	var vi *schema.Violation
	if errors.As(err, &vi) {
		return fmt.Errorf("source %s breaks its contract: %w", path, vi)
	}
	return fmt.Errorf("dataset %q: import source %s: %w", dataset, path, err)
}

// copyIn copies r into the objects, durably, and returns its version. The
// copy stops when ctx ends. With a validator, the bytes are checked as
// they are copied, and nothing is stored if they break its contract.
func (s *Store) copyIn(ctx context.Context, r io.Reader, check *schema.Validator) (Version, error) {
	tmp, err := s.tempFile()
	if err != nil {
		return Version{}, err
	}
	defer os.Remove(tmp.Name())
	h := newHasher()
	w := io.MultiWriter(tmp, h)
	if check != nil {
		w = io.MultiWriter(check, tmp, h)
	}
	_, err = io.Copy(w, ctxReader{ctx, r})
	if err == nil && check != nil {
		err = check.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Version{}, err
	}
	v := h.version()
	return v, s.adopt(tmp.Name(), v, synced)
}

// ctxReader stops reading once its context ends, so copying a large file
// does not outlast an interrupt.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Memo returns task's memo entry with the given key, if any. One that
// cannot be read is a miss: the task runs again and replaces it.
func (s *Store) Memo(task, key string) (MemoEntry, bool) {
	e, ok, err := s.state.Memo(context.Background(), task, key)
	return e, ok && err == nil
}

// migrate moves what a store of the earlier layout keeps to where the
// store keeps it now, so it keeps its results: each ref that is a symbolic
// link to a memo entry becomes a ref record, then each memo entry kept
// directly under memo/ moves under its task. Each step leaves the store
// readable, so a migration killed halfway is finished by the next. Call it
// with the store's lock held.
func (s *Store) migrate() error {
	ctx := context.Background()
	pipelines, err := os.ReadDir(filepath.Join(s.root, "pipelines"))
	if err != nil {
		return err
	}
	for _, p := range pipelines {
		dir := filepath.Join(s.root, "pipelines", p.Name(), "tasks")
		refs, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, r := range refs {
			task, ok := strings.CutSuffix(r.Name(), ".json")
			if !ok || r.Type()&fs.ModeSymlink == 0 {
				continue
			}
			ref, gen, found, err := s.state.Ref(ctx, p.Name(), task)
			switch {
			case err != nil:
				continue // unreadable: fsck reports it
			case !found:
				// A link to an entry gone is no ref; removed, so a commit
				// can take its place.
				if err := os.Remove(filepath.Join(dir, r.Name())); err != nil {
					return err
				}
				continue
			}
			if err := s.state.Commit(ctx, p.Name(), ref, gen); err != nil {
				return fmt.Errorf("migrate the ref of task %q: %w", task, err)
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(s.root, "memo"))
	if err != nil {
		return err
	}
	for _, de := range entries {
		rel := filepath.Join("memo", de.Name())
		var e MemoEntry
		if de.IsDir() || !strings.HasSuffix(de.Name(), ".json") || s.readJSON(rel, &e) != nil || de.Name() != e.Key+".json" {
			continue // not an entry: fsck reports it
		}
		if err := s.state.PutMemo(ctx, e); err != nil {
			return fmt.Errorf("migrate memo entry %s: %w", de.Name(), err)
		}
		if err := os.Remove(filepath.Join(s.root, rel)); err != nil {
			return err
		}
	}
	return nil
}

// TaskRef returns the memo entry of the last successful run of a
// pipeline's task, if any: the one its ref names. A ref whose entry is
// gone (a store written before entries were kept per task) gives what
// the ref itself records, its outputs and run.
func (s *Store) TaskRef(pipeline, task string) (MemoEntry, bool) {
	ref, _, ok, err := s.state.Ref(context.Background(), pipeline, task)
	if err != nil || !ok {
		return MemoEntry{}, false
	}
	if e, ok := s.Memo(task, ref.Key); ok && maps.Equal(e.Outputs, ref.Outputs) {
		return e, true
	}
	return MemoEntry{Key: ref.Key, Task: ref.Task, Outputs: ref.Outputs, RunID: ref.RunID, Time: ref.Time}, true
}

// SourceRef returns the version last imported for a pipeline's source
// dataset.
func (s *Store) SourceRef(pipeline, dataset string) (SourceRef, bool) {
	var r SourceRef
	err := s.readJSON(sourceRefPath(pipeline, dataset), &r)
	return r, err == nil
}

// sourceRefPath is a source's record, relative to the store.
func sourceRefPath(pipeline, dataset string) string {
	return filepath.FromSlash(store.SourceName(pipeline, dataset))
}

// commitTask makes a finished task's outputs current: staged files are
// synced and move into the objects, then the memo entry is written, then
// the task's ref, naming run runID's commit. staged maps each output to
// its finished file, not yet synced (empty for outputs already in the
// store, as when a memo entry is reused).
func (s *Store) commitTask(pipeline, runID string, e MemoEntry, staged map[string]string) error {
	// What this entry names may have been stored with deferred durability
	// (a map task's part made the same bytes): it is made durable first.
	if err := s.sync(false); err != nil {
		return err
	}
	ctx := context.Background()
	for name, path := range staged {
		if err := s.adopt(path, e.Outputs[name], unsynced); err != nil {
			return fmt.Errorf("commit output %q: %w", name, err)
		}
	}
	// An entry naming the same outputs is kept (a memo hit's is the
	// entry); one naming others, or unreadable, is replaced, so the entry
	// and the ref agree: the store's lock makes this run the only writer.
	// It is read first: a forced rerun finds its entry, and a read costs
	// less than a write that loses.
	if old, ok := s.Memo(e.Task, e.Key); !ok || !maps.Equal(old.Outputs, e.Outputs) {
		if err := s.putMemo(e); err != nil {
			return err
		}
	}
	// The entry and the ref are written unsynced: what they name is
	// durable already, so a machine that fails before the next sync loses
	// at most them, and the next run runs the task again. A ref left
	// unreadable so is replaced.
	cur, gen, ok, err := s.lazy.Ref(ctx, pipeline, e.Task)
	switch {
	case err != nil && !errors.Is(err, storage.ErrCorrupt):
		return err
	case ok && cur.Key == e.Key && maps.Equal(cur.Outputs, e.Outputs):
		return nil // most cached tasks: the ref names them already
	}
	err = s.lazy.Commit(ctx, pipeline, store.Ref{Task: e.Task, Key: e.Key, RunID: runID, Outputs: e.Outputs, Time: time.Now().UTC()}, gen)
	if errors.Is(err, store.ErrSuperseded) {
		return fmt.Errorf("commit task %q: %w, writing to %s beside this one; the ref names its outputs", e.Task, err, s.root)
	}
	if err == nil {
		s.noteRecord(store.RefName(pipeline, e.Task))
	}
	return err
}

// commitPart is commitTask's first two steps for one part of a map task,
// with deferred durability: its outputs are renamed into the objects and
// its memo entry is written, neither synced, so the part's result survives
// the process being killed from then on, and costs no sync of its own;
// the map task's Sync, before it commits its outputs, makes them durable.
//
// If the machine fails before that Sync, the entry may outlive the object
// it names: the object is then missing or short, which the memo hit's
// check (hasOutputs) sees, and the part runs again. The entry itself is
// whole or unreadable (it is linked or renamed into place), and an
// unreadable entry is a miss.
func (s *Store) commitPart(e MemoEntry, staged map[string]string) error {
	for name, path := range staged {
		if err := s.adopt(path, e.Outputs[name], deferred); err != nil {
			return fmt.Errorf("commit output %q: %w", name, err)
		}
	}
	return s.putMemo(e)
}

// putMemo writes e over any entry of its key naming other outputs, with
// deferred durability: the store's lock makes this run the only writer,
// so the entry is the one the run's ref names.
func (s *Store) putMemo(e MemoEntry) error {
	if err := s.lazy.ReplaceMemo(context.Background(), e); err != nil {
		return err
	}
	s.noteDeferred(filepath.Join(s.root, filepath.FromSlash(store.MemoName(e.Task, e.Key))))
	return nil
}

// syncFile makes the contents of the file at path durable.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// stagingDir returns (creating) the directory a run's outputs are staged in.
func (s *Store) stagingDir(runID string) (string, error) {
	dir := filepath.Join(s.root, "staging", runID)
	return dir, os.MkdirAll(dir, dirMode)
}

// sweep removes what killed runs left behind: staging directories of other
// runs and stray temporary files.
func (s *Store) sweep(keepRun string) error {
	for _, sub := range []string{"staging", "tmp"} {
		entries, err := os.ReadDir(filepath.Join(s.root, sub))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if sub == "staging" && e.Name() == keepRun {
				continue
			}
			if err := os.RemoveAll(filepath.Join(s.root, sub, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lock takes the store's lock, so two runs never write one store at once.
// The operating system releases it if the process dies.
func (s *Store) Lock() (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.root, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another glacier run is using %s; wait for it to finish", s.root)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// tempFile creates a file in the store's tmp directory, on the same file
// system as everything it will be renamed to.
func (s *Store) tempFile() (*os.File, error) {
	return os.CreateTemp(filepath.Join(s.root, "tmp"), "w-*")
}

// writeJSON writes v to rel atomically and durably: temporary file, sync,
// rename.
func (s *Store) writeJSON(rel string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFile(rel, append(data, '\n'))
}

func (s *Store) writeFile(rel string, data []byte) error {
	return s.writeTemp(rel, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// writeFileFunc writes to rel, atomically and durably, what write writes,
// buffered.
func (s *Store) writeFileFunc(rel string, write func(io.Writer) error) error {
	return s.writeTemp(rel, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 64<<10)
		if err := write(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

// writeTemp writes a temporary file with write, syncs it and renames it
// to rel.
func (s *Store) writeTemp(rel string, write func(*os.File) error) error {
	dst := filepath.Join(s.root, rel)
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		return err
	}
	f, err := s.tempFile()
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}

func (s *Store) readJSON(rel string, v any) error {
	data, err := os.ReadFile(filepath.Join(s.root, rel))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Runs returns the ids of the recorded runs, newest first.
func (s *Store) Runs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "runs"))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	return ids, nil
}

// RunRecord is what the store keeps about a run.
type RunRecord struct {
	RunID    string       `json:"run_id"`
	Pipeline string       `json:"pipeline"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished,omitzero"`
	Status   RunStatus    `json:"status"`
	Tasks    []TaskRecord `json:"tasks"`
}

// RunStatus is where a run stands.
type RunStatus string

// Run statuses.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	// RunCanceled marks a run interrupted before all its tasks ended.
	RunCanceled RunStatus = "canceled"
)

// TaskInterrupted is the status of a task whose run was killed before it
// recorded how the task ended: its log is all there is.
const TaskInterrupted glacier.TaskStatus = "interrupted"

// TaskRecord is one task's part of a run record.
type TaskRecord struct {
	Task   string             `json:"task"`
	Status glacier.TaskStatus `json:"status"`
	// Started is when the task was taken up: looked up in the memo,
	// queued or run; zero for one skipped.
	Started  time.Time `json:"started,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
	// Duration is the task's running time, over all attempts, not counting
	// time queued for a worker.
	Duration time.Duration      `json:"duration_ns"`
	BytesIn  int64              `json:"bytes_in"`
	BytesOut int64              `json:"bytes_out"`
	Module   string             `json:"module_sha256,omitempty"`
	Inputs   map[string]Version `json:"inputs,omitempty"`
	Outputs  map[string]Version `json:"outputs,omitempty"`
	Error    string             `json:"error,omitempty"`
	// Log is the task's log file, relative to the store; empty if it did
	// not run in this run. A map task's is the directory of its parts'
	// logs, each at its key with ".log" added.
	Log string `json:"log,omitempty"`
	// Parts counts what became of a map task's parts.
	Parts *PartCounts `json:"parts,omitempty"`
	// Remote is set when the outputs came from a deployed store's memo
	// (Options.Remote), copied in, and no guest ran.
	Remote bool `json:"remote,omitempty"`
}

// Run returns a run's record. It refuses an id that is not a run id
// (fnspec.CheckRunID), which could name a file outside the store.
func (s *Store) Run(id string) (RunRecord, error) {
	var r RunRecord
	if err := fnspec.CheckRunID(id); err != nil {
		return r, err
	}
	err := s.readJSON(filepath.Join("runs", id, "run.json"), &r)
	return r, err
}

// writeRun writes the run's record. A finished run's tasks are also
// recorded one by one as every target records them (store.RunTask), so
// glacier runs --remote reads a local store as it reads a deployment's.
func (s *Store) writeRun(r RunRecord) error {
	if r.Status != RunRunning {
		for _, tr := range r.Tasks {
			if err := s.putRunTask(r.RunID, tr); err != nil {
				return err
			}
		}
		if err := s.Sync(); err != nil {
			return err
		}
	}
	return s.writeJSON(filepath.Join("runs", r.RunID, "run.json"), r)
}

// putRunTask records, with deferred durability, what task record tr says
// of run runID, in the store's form.
func (s *Store) putRunTask(runID string, tr TaskRecord) error {
	rt := store.RunTask{Task: tr.Task, RunID: runID, Status: string(tr.Status), Cached: tr.Status == glacier.StatusCached,
		Start: tr.Started, DurationMS: tr.Duration.Milliseconds(), Outputs: tr.Outputs, Error: tr.Error, Parts: tr.Parts}
	if tr.Log != "" {
		rt.LogsURL = filestore.URL(filepath.Join(s.root, tr.Log))
	}
	if err := s.lazy.PutRunTask(context.Background(), rt); err != nil {
		return err
	}
	s.noteRecord(store.RunTaskName(runID, tr.Task))
	return nil
}

// putLayout records, if it changed, where the pipeline's datasets live
// (all here) and which modules its tasks ran, as a deployment records
// its own: what store.Open reads first.
func (s *Store) putLayout(pipeline string, modules map[string]string) error {
	var cur store.LayoutRecord
	if err := s.readJSON(filepath.FromSlash(store.LayoutName(pipeline)), &cur); err == nil && cur.Pipeline == pipeline && len(cur.Datasets) == 0 && maps.Equal(cur.Modules, modules) {
		return nil
	}
	return s.state.PutLayout(context.Background(), pipeline, modules)
}

// logPath returns a task's log file for a run, relative to the store.
func logPath(runID, task string) string {
	return filepath.Join(logDir(runID), task+".log")
}

// logDir returns the directory of a run's task logs, relative to the store.
func logDir(runID string) string {
	return filepath.Join("runs", runID, "logs")
}

// hasher computes a Version while bytes stream through it.
type hasher struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func newHasher() *hasher { return &hasher{h: sha256.New()} }

func (h *hasher) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	return h.h.Write(p)
}

func (h *hasher) version() Version {
	return Version{Digest: hex.EncodeToString(h.h.Sum(nil)), Size: h.n}
}

// Current returns the current version of a dataset: the last version read
// from its source, or written by its producer's last successful run.
func (s *Store) Current(p *glacier.Pipeline, dataset string) (Version, error) {
	d, ok := p.Dataset(dataset)
	if !ok {
		var names []string
		for _, d := range p.Datasets() {
			names = append(names, d.Name)
		}
		return Version{}, fmt.Errorf("no dataset %q in pipeline %q%s; glacier datasets lists them", dataset, p.Name(), suggest.DidYouMean(dataset, names))
	}
	if d.Source != "" {
		if ref, ok := s.SourceRef(p.Name(), dataset); ok {
			return ref.Version, nil
		}
	} else if prod, ok := p.Producer(dataset); ok {
		if ref, ok := s.TaskRef(p.Name(), prod.Name); ok {
			if v, ok := ref.Outputs[dataset]; ok {
				return v, nil
			}
		}
	}
	return Version{}, fmt.Errorf("dataset %q has no version yet; run the pipeline (glacier run) to produce it", dataset)
}

// Open returns a reader of the current version of a dataset, after
// checking that the object holds exactly that version's bytes: a corrupt
// object is an error matching ErrCorrupt, never a reader.
func (s *Store) Open(p *glacier.Pipeline, dataset string) (io.ReadCloser, Version, error) {
	v, err := s.Current(p, dataset)
	if err != nil {
		return nil, v, err
	}
	if d, _ := p.Dataset(dataset); d.Partitioned {
		return nil, v, fmt.Errorf("dataset %q is partitioned: read its parts one by one (glacier cat %s lists them, and --part KEY prints one)", dataset, dataset)
	}
	return s.openVersion(dataset, v)
}

// openVersion opens the object of v, a version of dataset, once it is
// checked.
func (s *Store) openVersion(dataset string, v Version) (io.ReadCloser, Version, error) {
	if err := s.verify(v); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, v, fmt.Errorf("dataset %q: version %s is missing from %s; run glacier run --force to rebuild it", dataset, v.Digest[:12], s.root)
		}
		return nil, v, fmt.Errorf("dataset %q: %w", dataset, err)
	}
	// The object was read once to check it; reading it again comes from the
	// page cache. A change between the two reads would need the owner to
	// make the read-only object writable first.
	f, err := os.Open(s.ObjectPath(v.Digest))
	if err != nil {
		return nil, v, fmt.Errorf("dataset %q: %w", dataset, err)
	}
	return f, v, nil
}

// Read returns the current version of a dataset, whole.
func (s *Store) Read(p *glacier.Pipeline, dataset string) ([]byte, error) {
	r, _, err := s.Open(p, dataset)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
