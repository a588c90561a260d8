// Package store is Glacier's store of dataset versions, memo entries,
// refs and run records, over any storage backend with conditional writes
// (storage.Conditional): a local directory, S3 or Cloud Storage. One
// layout and one commit protocol serve every target, so a result made on
// one is found on every other; docs/store.md describes both.
//
// Objects (dataset versions) are content-addressed, under each dataset's
// own root; the rest is under the state root:
//
//	<dataset root>/objects/<ab>/<sha256>             a version, named by its digest
//	<dataset root>/<dataset>                         the stable name: a copy of the current version
//	<state>/memo/<task>/<key>.json                   a successful invocation, by cache key
//	<state>/pipelines/<pipeline>/tasks/<task>.json   the task's ref, naming all its outputs
//	<state>/pipelines/<pipeline>/sources/<dataset>.json  a source's current version
//	<state>/runs/<run-id>/tasks/<task>.json          what a task did in a run
//	<state>/parts/<task>/<run-id>/<key>.json         what a map task's part that ran did
//	<dataset root>/staging/<run-id>/<task>/<dataset> an output being written
//
// A task commits by writing its ref, once everything the ref names is in
// place, with a precondition on the generation it read: readers resolve
// datasets through refs, so they see all of a task's outputs old or all
// new, whatever the backend and however many executions race.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
)

// Version names a dataset version by content.
type Version = fnspec.Version

// Layout says where a store keeps its names.
type Layout struct {
	// State is the URL under which memo entries, refs and run records
	// live: a folder (file:///home/me/project/.glacier), or a bucket and
	// prefix (s3://bucket/glacier).
	State string
	// Datasets maps a dataset to the URL under which its objects, staged
	// outputs and stable name live, so that a deployment keeps each
	// dataset in a bucket of its own; a dataset it does not name uses
	// State.
	Datasets map[string]string
}

// Store reads and commits through a storage.URLMux whose drivers are
// storage.Conditional. It is safe for concurrent use, by any number of
// processes and machines at once.
type Store struct {
	mux    *storage.URLMux
	layout Layout
	// modules are the deployed modules' digests Open read; nil otherwise.
	modules map[string]string
}

// New returns the store laid out by l, reached through mux (nil means
// storage.DefaultURLMux()).
func New(mux *storage.URLMux, l Layout) (*Store, error) {
	if mux == nil {
		mux = storage.DefaultURLMux()
	}
	if err := mux.Check(l.State); err != nil {
		return nil, fmt.Errorf("store state: %w", err)
	}
	for d, u := range l.Datasets {
		if err := mux.Check(u); err != nil {
			return nil, fmt.Errorf("store root of dataset %q: %w", d, err)
		}
	}
	return &Store{mux: mux, layout: l}, nil
}

// Layout returns where the store keeps its names.
func (s *Store) Layout() Layout { return s.layout }

// join returns root's URL with the relative name added.
func join(root, name string) string {
	return storage.PartURL(root, name)
}

func (s *Store) root(dataset string) string {
	if r, ok := s.layout.Datasets[dataset]; ok {
		return r
	}
	return s.layout.State
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ObjectURL returns the URL of version v of dataset, with the digest the
// mux checks as it is read (storage.WithDigest).
func (s *Store) ObjectURL(dataset string, v Version) string {
	return storage.WithDigest(s.objectURL(dataset, v), v.Digest, v.Size)
}

func (s *Store) objectURL(dataset string, v Version) string {
	return join(s.root(dataset), ObjectName(v.Digest))
}

// StagingURL returns where run runID's task stages output dataset, to be
// adopted with Adopt once written.
func (s *Store) StagingURL(runID, task, dataset string) string {
	return join(s.root(dataset), StagingName(runID, task, dataset))
}

// Adopt makes the output staged at staged, whose bytes are v, a version of
// dataset: it is copied to the version's name unless that exists (then
// its size is checked), and the staged copy is removed. The bytes never
// pass through the caller.
func (s *Store) Adopt(ctx context.Context, dataset, staged string, v Version) error {
	if !hexDigest.MatchString(v.Digest) {
		return fmt.Errorf("adopt %s: %q is not a hex SHA-256", staged, v.Digest)
	}
	dst := s.objectURL(dataset, v)
	// Most outputs are new; one the store has costs a look, not a copy.
	// The copy is create-only besides, for a writer racing this one (and
	// a backend that ignores the condition writes the same bytes).
	err := s.checkSize(ctx, dst, v)
	if errors.Is(err, storage.ErrNotFound) {
		err = s.mux.CopyIfAbsent(ctx, dst, staged)
		if errors.Is(err, storage.ErrPrecondition) {
			err = s.checkSize(ctx, dst, v)
		}
	}
	if err != nil {
		return err
	}
	return s.mux.Delete(ctx, staged)
}

// checkSize checks that the object at u has v's size; the error matches
// storage.ErrNotFound if there is none.
func (s *Store) checkSize(ctx context.Context, u string, v Version) error {
	a, err := s.mux.Stat(ctx, u)
	switch {
	case err != nil:
		return err
	case a.Size != v.Size:
		return fmt.Errorf("%s holds %d bytes, not the %d of its name's version: %w", u, a.Size, v.Size, storage.ErrCorrupt)
	}
	return nil
}

// Has reports whether version v of dataset is in the store, whole.
func (s *Store) Has(ctx context.Context, dataset string, v Version) (bool, error) {
	a, err := s.mux.Stat(ctx, s.objectURL(dataset, v))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return a.Size == v.Size, nil
}

// Retire moves version v of dataset, which no ref names any more, from
// its name to RetiredName, where a lifecycle rule expires it after the
// dataset's retention counted from now: the copy is a new object. A
// version already gone is left so. Until it expires, Revive brings it back
// for a memo entry that names it.
func (s *Store) Retire(ctx context.Context, dataset string, v Version) error {
	if !hexDigest.MatchString(v.Digest) {
		return fmt.Errorf("retire: %q is not a hex SHA-256", v.Digest)
	}
	src := s.objectURL(dataset, v)
	err := s.mux.Copy(ctx, s.RetiredURL(dataset, v), src)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.mux.Delete(ctx, src)
}

// RetiredURL is where Retire moves version v of dataset.
func (s *Store) RetiredURL(dataset string, v Version) string {
	return join(s.root(dataset), RetiredName(v.Digest))
}

// Revive makes retired version v of dataset a version again, if it is
// still retired, and reports whether the store has v now. It never
// replaces a version that exists.
func (s *Store) Revive(ctx context.Context, dataset string, v Version) (bool, error) {
	if !hexDigest.MatchString(v.Digest) {
		return false, fmt.Errorf("revive: %q is not a hex SHA-256", v.Digest)
	}
	dst := s.objectURL(dataset, v)
	err := s.mux.CopyIfAbsent(ctx, dst, s.RetiredURL(dataset, v))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil && !errors.Is(err, storage.ErrPrecondition):
		return false, err
	}
	return s.Has(ctx, dataset, v)
}

// MemoEntry records one successful invocation of a task: what went in,
// what came out. It is the cache entry that lets a rerun skip the
// invocation, on any target, and the lineage of the versions it made.
type MemoEntry struct {
	Key     string             `json:"key"`
	Task    string             `json:"task"`
	Module  string             `json:"module_sha256"`
	Params  map[string]string  `json:"params,omitempty"`
	Limits  string             `json:"limits"`
	Inputs  map[string]Version `json:"inputs,omitempty"`
	Outputs map[string]Version `json:"outputs"`
	RunID   string             `json:"run_id"`
	Time    time.Time          `json:"time"`
	// Part is the key of the part a map task's invocation ran over.
	Part string `json:"part,omitempty"`
	// Lists names the outputs whose versions are part lists.
	Lists []string `json:"lists,omitempty"`
}

// checkName checks that name is safe as one segment of an object name.
func checkName(what, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || len(name) > 255 {
		return fmt.Errorf("%s %q cannot name a store object: it must be 1 to 255 bytes, not . or .. alone, without '/', '\\' or NUL", what, name)
	}
	return nil
}

// checkMemoName checks that task and key can name a memo entry.
func checkMemoName(task, key string) error {
	if err := checkName("task", task); err != nil {
		return err
	}
	if !hexDigest.MatchString(key) {
		return fmt.Errorf("memo key %q is not a hex SHA-256", key)
	}
	return nil
}

func (s *Store) memoURL(task, key string) string {
	return join(s.layout.State, MemoName(task, key))
}

// Memo returns the memo entry of task with cache key, and whether there is
// one.
func (s *Store) Memo(ctx context.Context, task, key string) (MemoEntry, bool, error) {
	if err := checkMemoName(task, key); err != nil {
		return MemoEntry{}, false, err
	}
	var e MemoEntry
	ok, err := s.readJSON(ctx, s.memoURL(task, key), &e)
	if err == nil && ok && (e.Key != key || e.Task != task) {
		err = fmt.Errorf("%s holds the entry of task %q, key %s: %w", s.memoURL(task, key), e.Task, e.Key, storage.ErrCorrupt)
	}
	return e, ok, err
}

// PutMemo writes e, unless its task already has an entry under its key:
// then an identical invocation got there first, and its entry is kept.
func (s *Store) PutMemo(ctx context.Context, e MemoEntry) error {
	if err := checkMemoName(e.Task, e.Key); err != nil {
		return err
	}
	err := s.writeJSON(ctx, s.memoURL(e.Task, e.Key), "", e)
	if errors.Is(err, storage.ErrPrecondition) {
		return nil
	}
	return err
}

// ReplaceMemo writes e as PutMemo does, except that an entry under its key
// naming other outputs is replaced: the task made other bytes from the
// same inputs (a rerun forced, or one whose recorded outputs were gone),
// and the next memo hit should give what the ref now names. An entry
// naming the same outputs is kept.
func (s *Store) ReplaceMemo(ctx context.Context, e MemoEntry) error {
	if err := checkMemoName(e.Task, e.Key); err != nil {
		return err
	}
	u := s.memoURL(e.Task, e.Key)
	err := s.writeJSON(ctx, u, "", e)
	if !errors.Is(err, storage.ErrPrecondition) {
		return err
	}
	var old MemoEntry
	_, gen, rerr := s.readJSONAt(ctx, u, &old)
	if rerr == nil && maps.Equal(old.Outputs, e.Outputs) && slices.Equal(old.Lists, e.Lists) {
		return nil
	}
	// Written over its generation, or over an entry that is not JSON by
	// whatever is there: another writer that got there first has written
	// an entry as good as this one, so losing to it is no error.
	if errors.Is(rerr, storage.ErrCorrupt) {
		return s.writeRecord(ctx, u, e)
	}
	if rerr != nil {
		return rerr
	}
	if err := s.writeJSON(ctx, u, gen, e); !errors.Is(err, storage.ErrPrecondition) {
		return err
	}
	return nil
}

// Ref is a task's ref: its last committed invocation, naming every output.
type Ref struct {
	Task string `json:"task"`
	// Key is the memo entry's cache key.
	Key     string             `json:"key"`
	RunID   string             `json:"run_id"`
	Outputs map[string]Version `json:"outputs"`
	Time    time.Time          `json:"time"`
}

func (s *Store) refURL(pipeline, task string) string {
	return join(s.layout.State, RefName(pipeline, task))
}

// Ref returns the ref of pipeline's task and its generation, for
// Commit. ok is false if the task never committed.
func (s *Store) Ref(ctx context.Context, pipeline, task string) (r Ref, generation string, ok bool, err error) {
	if err := checkRefNames(pipeline, task); err != nil {
		return Ref{}, "", false, err
	}
	ok, generation, err = s.readJSONAt(ctx, s.refURL(pipeline, task), &r)
	return r, generation, ok, err
}

func checkRefNames(pipeline, task string) error {
	return errors.Join(checkName("pipeline", pipeline), checkName("task", task))
}

// ErrSuperseded is returned by Commit when a newer run committed the task
// first: its ref stays, as it names newer work.
var ErrSuperseded = errors.New("a newer run committed the task first")

// maxCommitTries bounds how often Commit rereads a ref another writer
// changed under it.
const maxCommitTries = 8

// Commit makes r the ref of pipeline's task, if the ref's generation is
// still generation ("" if it had none); everything r names must be in the
// store already. If another execution committed the task meanwhile, the
// newer run wins: Commit returns ErrSuperseded if that is the other one,
// and otherwise writes r over it.
func (s *Store) Commit(ctx context.Context, pipeline string, r Ref, generation string) error {
	if err := checkRefNames(pipeline, r.Task); err != nil {
		return err
	}
	for range maxCommitTries {
		err := s.writeJSON(ctx, s.refURL(pipeline, r.Task), generation, r)
		if !errors.Is(err, storage.ErrPrecondition) {
			return err
		}
		cur, gen, ok, rerr := s.Ref(ctx, pipeline, r.Task)
		switch {
		case rerr != nil:
			return rerr
		case ok && cur.RunID > r.RunID:
			return ErrSuperseded
		case ok && cur.RunID == r.RunID && cur.Key == r.Key:
			return nil // our own write, retried
		}
		generation = gen
	}
	return fmt.Errorf("commit task %q of pipeline %q: the ref changed under every one of %d tries", r.Task, pipeline, maxCommitTries)
}

// Publish updates dataset's stable name to version v, by a copy in the
// backend. Readers outside Glacier read it; it follows the refs, after
// their commit.
func (s *Store) Publish(ctx context.Context, dataset string, v Version) error {
	if err := checkName("dataset", dataset); err != nil {
		return err
	}
	return s.mux.Copy(ctx, s.StableURL(dataset), s.objectURL(dataset, v))
}

// StableURL is the URL of dataset's stable name.
func (s *Store) StableURL(dataset string) string {
	return join(s.root(dataset), dataset)
}

// readJSON reads the object at u into v. ok is false if there is none.
func (s *Store) readJSON(ctx context.Context, u string, v any) (ok bool, err error) {
	rc, err := s.mux.Open(ctx, u)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxRecord+1))
	if err != nil {
		return false, err
	}
	if len(data) > maxRecord {
		return false, fmt.Errorf("%s is over %d bytes: %w", u, maxRecord, storage.ErrCorrupt)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w: %w", u, err, storage.ErrCorrupt)
	}
	return true, nil
}

// readJSONAt is readJSON that also returns the generation of the object
// read, for a conditional write over it. The generation is read first, so
// a write over it fails if the object changed after it.
func (s *Store) readJSONAt(ctx context.Context, u string, v any) (ok bool, generation string, err error) {
	a, err := s.mux.Stat(ctx, u)
	if errors.Is(err, storage.ErrNotFound) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	ok, err = s.readJSON(ctx, u, v)
	if err == nil && !ok {
		// Removed since: a write over generation "" creates it.
		return false, "", nil
	}
	return ok, a.Generation, err
}

// maxRecord bounds a record the store reads.
const maxRecord = 64 << 20

// writeJSON writes v as the object at u if its generation is still
// generation.
func (s *Store) writeJSON(ctx context.Context, u, generation string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	st, err := s.mux.StageIf(ctx, u, generation)
	if err != nil {
		return err
	}
	if _, err := st.Write(append(data, '\n')); err != nil {
		_ = st.Discard(ctx)
		return err
	}
	return st.Commit(ctx)
}

// SourceRef is a source dataset's current version, as the deployment (or
// glacier run) imported it.
type SourceRef struct {
	Dataset string  `json:"dataset"`
	Version Version `json:"version"`
	// Time is when it was imported; a compiled deployment, whose
	// artifacts are reproducible, leaves it zero.
	Time time.Time `json:"time,omitzero"`
}

func (s *Store) sourceURL(pipeline, dataset string) string {
	return join(s.layout.State, SourceName(pipeline, dataset))
}

// PutSource records v, which must be in the store, as source dataset's
// current version.
func (s *Store) PutSource(ctx context.Context, pipeline string, r SourceRef) error {
	if err := errors.Join(checkName("pipeline", pipeline), checkName("dataset", r.Dataset)); err != nil {
		return err
	}
	return s.writeRecord(ctx, s.sourceURL(pipeline, r.Dataset), r)
}

// Current returns dataset's current version in pipeline: the output of
// its producer's ref or, when producer is "", the source's record. ok is
// false if it has none yet.
func (s *Store) Current(ctx context.Context, pipeline, dataset, producer string) (v Version, ok bool, err error) {
	if producer == "" {
		if err := errors.Join(checkName("pipeline", pipeline), checkName("dataset", dataset)); err != nil {
			return Version{}, false, err
		}
		var r SourceRef
		ok, err := s.readJSON(ctx, s.sourceURL(pipeline, dataset), &r)
		return r.Version, ok, err
	}
	r, _, ok, err := s.Ref(ctx, pipeline, producer)
	if err != nil || !ok {
		return Version{}, false, err
	}
	v, ok = r.Outputs[dataset]
	if !ok {
		return Version{}, false, fmt.Errorf("the ref of task %q names no output %q: %w", producer, dataset, storage.ErrCorrupt)
	}
	return v, true, nil
}

// RunTask is what a task did in a run, as each target records it: the
// function runtimes write one per invocation, so a run's record needs no
// coordinator.
type RunTask struct {
	Task   string `json:"task"`
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	// Cached is set when the outputs came from the memo and no guest ran.
	Cached bool `json:"cached,omitempty"`
	// Start is when the invocation started; zero for a task that never
	// did (skipped, or canceled before it was taken up).
	Start      time.Time          `json:"start,omitzero"`
	DurationMS int64              `json:"duration_ms"`
	Key        string             `json:"key,omitempty"`
	Outputs    map[string]Version `json:"outputs,omitempty"`
	Error      string             `json:"error,omitempty"`
	Parts      *fnspec.PartCounts `json:"parts,omitempty"`
	// Part is the key of the part of a map task the record is of (see
	// RunPartName); empty for a task's own record.
	Part string `json:"part,omitempty"`
	// Log is the end of what the guest wrote to stdout and stderr, with
	// the sandbox's own notes; LogDropped counts the bytes before it that
	// the record does not keep.
	Log        string `json:"log,omitempty"`
	LogDropped int64  `json:"log_dropped,omitempty"`
	// LogsURL links to the platform's whole log of the invocation.
	LogsURL string `json:"logs_url,omitempty"`
}

func (s *Store) runTaskURL(runID, task string) string {
	return join(s.layout.State, RunTaskName(runID, task))
}

// PutRunTask records r, replacing what an earlier attempt recorded: a
// task's record, or with r.Part one part's.
func (s *Store) PutRunTask(ctx context.Context, r RunTask) error {
	if err := errors.Join(fnspec.CheckRunID(r.RunID), checkName("task", r.Task)); err != nil {
		return err
	}
	u := s.runTaskURL(r.RunID, r.Task)
	if r.Part != "" {
		if err := abi.CheckKey(r.Part); err != nil {
			return fmt.Errorf("part %q: %w", r.Part, err)
		}
		u = join(s.layout.State, RunPartName(r.RunID, r.Task, r.Part))
	}
	return s.writeRecord(ctx, u, r)
}

// RunPartOf returns what part key of task recorded in run runID, if it
// recorded anything: parts found in the memo record nothing.
func (s *Store) RunPartOf(ctx context.Context, runID, task, key string) (RunTask, bool, error) {
	var r RunTask
	if err := errors.Join(fnspec.CheckRunID(runID), checkName("task", task), abi.CheckKey(key)); err != nil {
		return r, false, err
	}
	ok, err := s.readJSON(ctx, join(s.layout.State, RunPartName(runID, task, key)), &r)
	return r, ok, err
}

// writeRecord writes v as the object at u, replacing any.
func (s *Store) writeRecord(ctx context.Context, u string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return s.writeBytes(ctx, u, append(data, '\n'))
}

// writeBytes writes data as the object at u, replacing any.
func (s *Store) writeBytes(ctx context.Context, u string, data []byte) error {
	st, err := s.mux.Stage(ctx, u)
	if err != nil {
		return err
	}
	if _, err := st.Write(data); err != nil {
		_ = st.Discard(ctx)
		return err
	}
	return st.Commit(ctx)
}

// RunTaskOf returns what task recorded in run runID, if it recorded
// anything.
func (s *Store) RunTaskOf(ctx context.Context, runID, task string) (RunTask, bool, error) {
	var r RunTask
	if err := errors.Join(fnspec.CheckRunID(runID), checkName("task", task)); err != nil {
		return r, false, err
	}
	ok, err := s.readJSON(ctx, s.runTaskURL(runID, task), &r)
	return r, ok, err
}

// RunTasks returns what the tasks of run runID recorded, by task name.
func (s *Store) RunTasks(ctx context.Context, runID string) ([]RunTask, error) {
	if err := fnspec.CheckRunID(runID); err != nil {
		return nil, err
	}
	objs, err := s.mux.List(ctx, join(s.layout.State, path.Join("runs", runID, "tasks")))
	if err != nil {
		return nil, err
	}
	var out []RunTask
	for _, o := range objs {
		task, ok := strings.CutSuffix(o.Name, ".json")
		if !ok || strings.Contains(task, "/") {
			continue
		}
		var r RunTask
		if _, err := s.readJSON(ctx, s.runTaskURL(runID, task), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
