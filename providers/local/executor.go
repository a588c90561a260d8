package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// Options configure an Executor.
type Options struct {
	// Dir is the project directory: sources are read relative to it and the
	// store lives in Dir/.glacier.
	Dir string
	// Modules are the tasks' built modules (see package build); nil means
	// each run builds them, after it has taken the store's lock.
	Modules []build.Module
	// Build builds the modules when Modules is nil; nil means build.Modules
	// with Dir and Parallel. A caller sets it to report on the build as it
	// goes; it runs under the store's lock, so a run the lock refuses
	// rebuilds nothing.
	Build func(ctx context.Context, p *glacier.Pipeline) ([]build.Module, error)
	// Parallel is how many tasks run at once; zero means the number of CPUs.
	Parallel int
	// Force reruns every task, ignoring cached results.
	Force bool
	// Compile is the compile budget of tasks whose compute sets none; zero
	// fields mean wasmrt's defaults.
	Compile wasmrt.CompileBudget
	// Backoff is the delay before a failed task's first retry; it doubles
	// for each further retry. Zero means one second.
	Backoff time.Duration
	// Events, if set, is told of every task's progress. Calls are serialised.
	Events func(Event)
	// WorkerCommand overrides how worker processes start (see
	// wasmrt.PoolOptions.Command); nil re-executes this program.
	WorkerCommand func() *exec.Cmd
	// Remote, if set, is a deployed store (glacier run --remote) whose
	// results the run reuses: a task the local memo misses, whose
	// invocation the remote memo has (the cache key is the same on every
	// target), is committed from the remote outputs, copied in and
	// checked by digest, and runs no guest; a map task's parts are looked
	// up there one by one, as they are in the local memo.
	Remote Remote
}

// Remote is a store whose results a run may reuse; *store.Store is one.
type Remote interface {
	Memo(ctx context.Context, task, key string) (MemoEntry, bool, error)
	Read(ctx context.Context, dataset string, v Version) (io.ReadCloser, error)
}

// Event is a change in a task's state during a run.
type Event struct {
	Task string
	// State is glacier.StatusQueued, StatusRunning, StatusRetrying or a
	// final status.
	State   glacier.TaskStatus
	Attempt int
	// Elapsed is the task's running time so far, not counting time queued.
	Elapsed time.Duration
	Err     error
	// Parts counts, for a running map task, what became of its parts so
	// far.
	Parts *PartCounts
	// Record is the task's record once it has finished.
	Record *TaskRecord
}

// Executor runs pipelines locally. It implements glacier.Executor.
type Executor struct {
	opts Options
	last RunRecord
}

// New returns an Executor.
func New(opts Options) *Executor {
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.NumCPU()
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	return &Executor{opts: opts}
}

// LastRun returns the record of the executor's latest run.
func (e *Executor) LastRun() RunRecord { return e.last }

// Execute implements glacier.Executor.Execute.
func (e *Executor) Execute(ctx context.Context, p *glacier.Pipeline) (*glacier.Report, error) {
	store, err := OpenStore(e.opts.Dir)
	if err != nil {
		return nil, err
	}
	unlock, err := store.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := store.migrate(); err != nil {
		return nil, fmt.Errorf("move %s to the current layout: %w", store.Root(), err)
	}

	r := &run{
		e: e, p: p, store: store, slots: make(chan struct{}, e.opts.Parallel),
		modules: map[string]build.Module{},
		current: map[string]Version{},
		records: map[string]*TaskRecord{},

		partitioned: map[string]bool{},
	}
	for _, d := range p.Datasets() {
		r.partitioned[d.Name] = d.Partitioned
	}
	if r.schemas, err = schemasOf(p); err != nil {
		return nil, err
	}
	mods := e.opts.Modules
	if mods == nil {
		buildAll := e.opts.Build
		if buildAll == nil {
			buildAll = func(ctx context.Context, p *glacier.Pipeline) ([]build.Module, error) {
				return build.Modules(ctx, p, build.Options{Dir: e.opts.Dir, Parallel: e.opts.Parallel})
			}
		}
		if mods, err = buildAll(ctx, p); err != nil {
			return nil, err
		}
	}
	for _, m := range mods {
		r.modules[m.Task] = m
	}
	for _, t := range p.Tasks() {
		if _, ok := r.modules[t.Name]; !ok {
			return nil, fmt.Errorf("task %q has no built module; build the pipeline first (glacier build)", t.Name)
		}
	}
	digests := make(map[string]string, len(r.modules))
	for name, m := range r.modules {
		digests[name] = m.SHA256
	}
	if err := store.putLayout(p.Name(), digests); err != nil {
		return nil, err
	}
	r.rec = RunRecord{RunID: fnspec.NewRunID(time.Now()), Pipeline: p.Name(), Started: time.Now().UTC(), Status: RunRunning}
	if err := store.sweep(r.rec.RunID); err != nil {
		return nil, err
	}
	if err := store.writeRun(r.rec); err != nil {
		return nil, err
	}
	// The run's staging and log directories are made once, not per task.
	if r.stage, err = store.stagingDir(r.rec.RunID); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(store.Root(), logDir(r.rec.RunID)), dirMode); err != nil {
		return nil, err
	}
	if err := r.importSources(ctx); err != nil {
		r.rec.Status = RunFailed
		r.rec.Finished = time.Now().UTC()
		_ = store.writeRun(r.rec)
		return nil, err
	}
	pool, err := wasmrt.NewPool(ctx, wasmrt.PoolOptions{
		Workers:  e.opts.Parallel,
		CacheDir: filepath.Join(store.Root(), "cache", "wazero"),
		Command:  e.opts.WorkerCommand,
	})
	if err != nil {
		return nil, err
	}
	r.pool = pool
	r.schedule(ctx)
	pool.Close()
	return r.finish(ctx)
}

// run is one execution of a pipeline.
type run struct {
	e       *Executor
	p       *glacier.Pipeline
	store   *Store
	pool    *wasmrt.Pool
	modules map[string]build.Module
	stage   string // the run's staging directory
	// slots holds one token per task that may run at once, so a task is
	// queued, not running, while it waits for a worker.
	slots chan struct{}

	// partitioned holds the names of the partitioned datasets.
	partitioned map[string]bool
	// schemas holds the encoded contract of each dataset that has one.
	schemas map[string]json.RawMessage
	jobs    atomic.Int64 // numbers each job's staging files

	mu      sync.Mutex
	current map[string]Version // dataset -> version in this run
	records map[string]*TaskRecord
	rec     RunRecord
	events  sync.Mutex
}

func (r *run) emit(ev Event) {
	if r.e.opts.Events == nil {
		return
	}
	r.events.Lock()
	defer r.events.Unlock()
	r.e.opts.Events(ev)
}

// importSources reads every source file into the store before any task
// starts, so a missing source, or one that breaks its dataset's contract,
// fails the run at once, naming every file.
func (r *run) importSources(ctx context.Context) error {
	var errs []error
	for _, d := range r.p.Datasets() {
		if d.Source == "" {
			continue
		}
		check, err := CheckedBy(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d.Partitioned {
			files, err := glacier.SourceParts(r.e.opts.Dir, d)
			if err != nil {
				errs = append(errs, fmt.Errorf("dataset %q: %w", d.Name, err))
				continue
			}
			v, err := r.store.ImportParts(ctx, r.p.Name(), d.Name, files, r.rec.RunID, r.e.opts.Force, check)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r.current[d.Name] = v
			continue
		}
		path, err := glacier.SourcePath(r.e.opts.Dir, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("dataset %q: %w", d.Name, err))
			continue
		}
		v, err := r.store.ImportSource(ctx, r.p.Name(), d.Name, path, r.rec.RunID, r.e.opts.Force, check)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.current[d.Name] = v
	}
	if len(errs) > 0 {
		return fmt.Errorf("no task was started: %w", errors.Join(errs...))
	}
	return nil
}

// schedule runs every task as soon as its upstream tasks have succeeded.
func (r *run) schedule(ctx context.Context) {
	tasks := r.p.Tasks()
	producer := map[string]string{}
	for _, t := range tasks {
		for _, out := range t.Outputs {
			producer[out] = t.Name
		}
	}
	waiting := map[string]int{}
	downstream := map[string][]string{}
	for _, t := range tasks {
		seen := map[string]bool{}
		for _, in := range t.Inputs {
			if u, ok := producer[in]; ok && !seen[u] {
				seen[u] = true
				waiting[t.Name]++
				downstream[u] = append(downstream[u], t.Name)
			}
		}
	}
	done := make(chan *TaskRecord)
	start := func(t glacier.Task) {
		go func() { done <- r.runTask(ctx, t) }()
	}
	byName := map[string]glacier.Task{}
	for _, t := range tasks {
		byName[t.Name] = t
		if waiting[t.Name] == 0 {
			start(t)
		}
	}
	failedUp := map[string]string{} // task -> an upstream task that did not succeed
	for finished := 0; finished < len(tasks); {
		rec := <-done
		finished++
		ok := rec.Status == glacier.StatusSucceeded || rec.Status == glacier.StatusCached
		for _, d := range downstream[rec.Task] {
			if !ok && failedUp[d] == "" {
				failedUp[d] = rec.Task
			}
			if waiting[d]--; waiting[d] > 0 {
				continue
			}
			if failedUp[d] == "" {
				start(byName[d])
				continue
			}
			// Skip it, and through it everything downstream.
			go func(name, cause string) {
				status := glacier.StatusSkipped
				if ctx.Err() != nil {
					status = glacier.StatusCanceled
				}
				done <- r.record(&TaskRecord{Task: name, Status: status,
					Error: fmt.Sprintf("upstream task %q did not succeed", cause)})
			}(d, failedUp[d])
		}
	}
}

// recordAndRelease records a task's outcome, then gives back its worker's
// slot.
func (r *run) recordAndRelease(rec *TaskRecord, release func()) *TaskRecord {
	defer release()
	return r.record(rec)
}

// record stores a finished task's record and reports it.
func (r *run) record(rec *TaskRecord) *TaskRecord {
	r.mu.Lock()
	r.records[rec.Task] = rec
	r.mu.Unlock()
	var err error
	if rec.Error != "" {
		err = errors.New(rec.Error)
	}
	r.emit(Event{Task: rec.Task, State: rec.Status, Attempt: rec.Attempts, Elapsed: rec.Duration, Err: err, Record: rec})
	return rec
}

// memoKey identifies a task run by everything that determines its outputs:
// for one part of a map task, part is its key (the guest sees it) and
// inputs hold the part's version in place of the mapped input's.
func (r *run) memoKey(t glacier.Task, module string, inputs map[string]Version, part string) string {
	return memoKey(t, module, inputs, part, r.schemas)
}

// memoKey is run.memoKey for a pipeline whose datasets' contracts are
// schemas (schemasOf).
func memoKey(t glacier.Task, module string, inputs map[string]Version, part string, schemas map[string]json.RawMessage) string {
	l := glacier.LimitsOf(t.Compute)
	return fnspec.CacheKey{Task: t.Name, Module: module, Inputs: inputs, Params: t.Params,
		MemoryMiB: l.MemoryMiB, TimeoutSecs: l.TimeoutSecs, Outputs: t.Outputs, Part: part,
		Schemas: fnspec.SchemaDigests(schemas, t.Outputs)}.Sum()
}

// schemasOf returns the encoded contract of each of p's datasets that has
// one.
func schemasOf(p *glacier.Pipeline) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for _, d := range p.Datasets() {
		if d.Schema == nil {
			continue
		}
		raw, err := d.Schema.Encode()
		if err != nil {
			return nil, fmt.Errorf("dataset %q: %w", d.Name, err)
		}
		out[d.Name] = raw
	}
	return out, nil
}

func (r *run) runTask(ctx context.Context, t glacier.Task) *TaskRecord {
	mod := r.modules[t.Name]
	rec := &TaskRecord{Task: t.Name, Started: time.Now().UTC(), Module: mod.SHA256, Inputs: map[string]Version{}}
	r.mu.Lock()
	for _, in := range t.Inputs {
		rec.Inputs[in] = r.current[in]
	}
	r.mu.Unlock()
	key := r.memoKey(t, mod.SHA256, rec.Inputs, "")

	if !r.e.opts.Force {
		if entry, ok := r.store.Memo(t.Name, key); ok && r.hasOutputs(entry) {
			if err := r.store.commitTask(r.p.Name(), r.rec.RunID, entry, nil); err != nil {
				rec.Status, rec.Error = glacier.StatusFailed, err.Error()
				return r.record(rec)
			}
			rec.Status, rec.Outputs = glacier.StatusCached, entry.Outputs
			r.publish(entry.Outputs)
			return r.record(rec)
		}
	}
	if ctx.Err() != nil {
		rec.Status, rec.Error = glacier.StatusCanceled, "run interrupted before the task started"
		return r.record(rec)
	}
	if r.e.opts.Remote != nil && !r.e.opts.Force {
		entry, ok, err := r.fromRemote(ctx, t, key)
		switch {
		case err != nil:
			rec.Status, rec.Error = glacier.StatusFailed, fmt.Sprintf("reuse the remote store's result: %v", err)
			return r.record(rec)
		case ok:
			rec.Status, rec.Outputs, rec.Remote = glacier.StatusCached, entry.Outputs, true
			r.publish(entry.Outputs)
			return r.record(rec)
		}
	}
	if t.Map != "" {
		return r.runMap(ctx, t, mod, rec, key)
	}

	limits := glacier.LimitsOf(t.Compute)
	rec.Log = logPath(r.rec.RunID, t.Name)
	logFile := filepath.Join(r.store.Root(), rec.Log)
	backoff := r.e.opts.Backoff
	var ran time.Duration // running time of the attempts so far
	for attempt := 1; ; attempt++ {
		rec.Attempts = attempt
		state := glacier.StatusRunning
		if attempt > 1 {
			state = glacier.StatusRetrying
			appendLine(logFile, fmt.Sprintf("glacier: attempt %d of %d", attempt, t.Retries+1))
		}
		r.emit(Event{Task: t.Name, State: glacier.StatusQueued, Attempt: attempt, Elapsed: ran})
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			rec.Duration = ran
			rec.Status, rec.Error = glacier.StatusCanceled, "run interrupted while the task waited for a worker"
			return r.record(rec)
		}
		// The worker's slot is given back once the attempt is recorded (the
		// commit included), so the next task is not shown running before
		// this one is done.
		release := sync.OnceFunc(func() { <-r.slots })
		r.emit(Event{Task: t.Name, State: state, Attempt: attempt, Elapsed: ran})
		began := time.Now()
		res, staged, err := r.attempt(ctx, t, mod, rec.Inputs, "", limits, logFile, attempt)
		ran += time.Since(began)
		rec.BytesIn += res.BytesIn
		rec.BytesOut += res.BytesOut
		var outs map[string]Version
		if err == nil {
			outs, err = r.settle(t, res, staged)
		}
		if err == nil {
			entry := MemoEntry{Key: key, Task: t.Name, Module: mod.SHA256, Params: t.Params, Limits: limits.String(),
				Inputs: rec.Inputs, Outputs: outs, RunID: r.rec.RunID, Time: time.Now().UTC(), Lists: r.lists(t.Outputs)}
			// Committing must finish even if the run is being interrupted:
			// it is short, and stopping halfway is what it must never do.
			err = r.store.commitTask(r.p.Name(), r.rec.RunID, entry, staged)
			if err == nil {
				rec.Duration = ran
				rec.Status, rec.Outputs = glacier.StatusSucceeded, entry.Outputs
				r.publish(entry.Outputs)
				return r.recordAndRelease(rec, release)
			}
		}
		rec.Duration = ran
		if ctx.Err() != nil || errors.Is(err, wasmrt.ErrCanceled) {
			rec.Status, rec.Error = glacier.StatusCanceled, err.Error()
			return r.recordAndRelease(rec, release)
		}
		if attempt > t.Retries || permanent(err) {
			rec.Status, rec.Error = glacier.StatusFailed, err.Error()
			if errors.Is(err, storage.ErrCorrupt) {
				rec.Error += "; the store is corrupt: " + Repair
			}
			return r.recordAndRelease(rec, release)
		}
		release()
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			rec.Status, rec.Error = glacier.StatusCanceled, err.Error()
			return r.recordAndRelease(rec, release)
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// attempt runs the task once, or with part set one part of a map task,
// whose mapped input inputs then gives as that part. On success it returns
// where each output was staged: a file, or for a partitioned output the
// directory its parts are under.
func (r *run) attempt(ctx context.Context, t glacier.Task, mod build.Module, inputs map[string]Version, part string,
	limits glacier.Limits, logFile string, attempt int) (wasmrt.Result, map[string]string, error) {
	job := wasmrt.Job{
		ModulePath:   mod.Path,
		ModuleSHA256: mod.SHA256,
		Task:         t.Name,
		RunID:        r.rec.RunID,
		Params:       t.Params,
		Inputs:       map[string]string{},
		Outputs:      map[string]string{},
		MemoryLimit:  uint64(limits.MemoryMiB) << 20,
		Timeout:      time.Duration(limits.TimeoutSecs) * time.Second,
		Compile:      r.e.opts.Compile,
		LogPath:      logFile,
		Part:         part,
	}
	if b := limits.Compile; b.MemoryMiB > 0 {
		job.Compile.Memory = uint64(b.MemoryMiB) << 20
	}
	if b := limits.Compile; b.TimeoutSecs > 0 {
		job.Compile.Timeout = time.Duration(b.TimeoutSecs) * time.Second
	}
	// In a part's invocation the mapped input and the outputs are that
	// part; elsewhere a partitioned dataset is read and written by parts.
	parted := func(name string) bool {
		return r.partitioned[name] && (part == "" || (name != t.Map && !slices.Contains(t.Outputs, name)))
	}
	for _, name := range t.Outputs {
		if raw, ok := r.schemas[name]; ok {
			if job.Schemas == nil {
				job.Schemas = map[string]json.RawMessage{}
			}
			job.Schemas[name] = raw
		}
	}
	for name, v := range inputs {
		if !parted(name) {
			job.Inputs[name] = r.objectURL(v)
			continue
		}
		parts, err := r.store.Parts(v)
		if err != nil {
			return wasmrt.Result{}, nil, fmt.Errorf("task %q: input %q: %w", t.Name, name, err)
		}
		urls := make(map[string]string, len(parts))
		for _, p := range parts {
			urls[p.Key] = r.objectURL(p.Version)
		}
		if job.InputParts == nil {
			job.InputParts = map[string]map[string]string{}
		}
		job.InputParts[name] = urls
	}
	// One flat directory per run, since creating and removing directories
	// per task costs more than the task. Names cannot collide: task and
	// dataset names contain no dots, and each job has its own number. The
	// worker does not sync what it stages: commitTask syncs each new
	// object before it moves it in.
	staged := map[string]string{}
	n := r.jobs.Add(1)
	for _, name := range t.Outputs {
		staged[name] = filepath.Join(r.stage, fmt.Sprintf("%s.%d.%d.%s", t.Name, n, attempt, name))
		if parted(name) {
			if job.OutputPrefixes == nil {
				job.OutputPrefixes = map[string]string{}
			}
			job.OutputPrefixes[name] = filestore.URLNoSync(staged[name])
			delete(job.Outputs, name)
			continue
		}
		job.Outputs[name] = filestore.URLNoSync(staged[name])
	}
	res, err := r.pool.Run(ctx, job)
	if err != nil {
		// Outputs committed before a later one failed; what a killed worker
		// left is removed with the staging directory.
		for _, path := range staged {
			_ = os.RemoveAll(path)
		}
		return res, nil, err
	}
	return res, staged, nil
}

// lists returns the partitioned datasets among names, whose versions are
// lists of parts.
func (r *run) lists(names []string) []string {
	var out []string
	for _, n := range names {
		if r.partitioned[n] {
			out = append(out, n)
		}
	}
	return out
}

// objectURL is where a worker reads the version v: its object, checked
// against its digest as it streams.
func (r *run) objectURL(v Version) string {
	return storage.WithDigest(filestore.URL(r.store.ObjectPath(v.Digest)), v.Digest, v.Size)
}

// settle returns the versions a successful attempt made: each whole
// output's, from its digest, and each partitioned output's list of parts,
// whose objects it stores first, with deferred durability (commitTask's
// Sync makes them durable together, before the entry that names them). The whole outputs' staged files are left for
// commitTask to move; staged then names only them.
func (r *run) settle(t glacier.Task, res wasmrt.Result, staged map[string]string) (map[string]Version, error) {
	outs := map[string]Version{}
	for name, o := range res.Outputs {
		outs[name] = Version{Digest: o.SHA256, Size: o.Size}
	}
	for name, written := range res.Parts {
		parts := make([]Part, 0, len(written))
		for key, o := range written {
			v := Version{Digest: o.SHA256, Size: o.Size}
			if err := r.store.adopt(filepath.Join(staged[name], filepath.FromSlash(key)), v, deferred); err != nil {
				return nil, fmt.Errorf("commit part %q of output %q: %w", key, name, err)
			}
			parts = append(parts, Part{Key: key, Version: v})
		}
		v, err := r.store.writeParts(parts)
		if err != nil {
			return nil, fmt.Errorf("commit output %q: %w", name, err)
		}
		outs[name] = v
		_ = os.RemoveAll(staged[name])
		delete(staged, name)
	}
	return outs, nil
}

// permanent reports whether err is about the module itself, or a refusal
// of the storage (a missing bucket, denied access), which no retry can
// change.
func permanent(err error) bool {
	return errors.Is(err, wasmrt.ErrInvalidModule) || errors.Is(err, wasmrt.ErrABIVersion) || errors.Is(err, wasmrt.ErrCompileBudget) ||
		errors.Is(err, wasmrt.ErrContract) ||
		errors.Is(err, storage.ErrCorrupt) || errors.Is(err, wasmrt.ErrStorageDenied) || errors.Is(err, storage.ErrPermanent)
}

// fromRemote commits, from Options.Remote, the outputs of t's invocation
// with cache key key, if the remote memo has it: each output the local
// store lacks is copied into the run's staging directory, its digest
// checked as it streams, and committed with the entry. ok is false on a
// miss.
func (r *run) fromRemote(ctx context.Context, t glacier.Task, key string) (MemoEntry, bool, error) {
	e, staged, ok, err := r.fetchRemote(ctx, t, key, "")
	if err != nil || !ok {
		return e, false, err
	}
	return e, true, r.store.commitTask(r.p.Name(), r.rec.RunID, e, staged)
}

// fetchRemote copies in, from Options.Remote, the outputs of t's
// invocation with cache key key (one part's, part being its key) that the
// local store lacks, and returns the remote memo entry and where each
// output was staged. A partitioned output's parts are adopted as they
// arrive, so its list, staged last, names parts the store has. ok is
// false on a miss.
func (r *run) fetchRemote(ctx context.Context, t glacier.Task, key, part string) (MemoEntry, map[string]string, bool, error) {
	e, ok, err := r.e.opts.Remote.Memo(ctx, t.Name, key)
	if err != nil || !ok || e.Part != part {
		return e, nil, false, err
	}
	staged := map[string]string{}
	for _, name := range t.Outputs {
		v, named := e.Outputs[name]
		if !named {
			return e, nil, false, nil
		}
		if r.hasOutput(name, v, part != "") {
			continue
		}
		path, err := r.stagePath(t.Name + ".remote." + name)
		if err != nil {
			return e, nil, false, err
		}
		if err := download(ctx, r.e.opts.Remote, name, v, path); err != nil {
			return e, nil, false, fmt.Errorf("output %q: %w", name, err)
		}
		if r.partitioned[name] && part == "" {
			if err := r.fetchParts(ctx, name, path); err != nil {
				return e, nil, false, fmt.Errorf("output %q: %w", name, err)
			}
		}
		staged[name] = path
	}
	return e, staged, true, nil
}

// fetchParts copies in, from Options.Remote, the parts the store lacks of
// the part list of dataset downloaded to list.
func (r *run) fetchParts(ctx context.Context, dataset, list string) error {
	data, err := os.ReadFile(list)
	if err != nil {
		return err
	}
	parts, err := fnspec.ReadPartList(data)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if r.store.HasObject(p.Version) {
			continue
		}
		path, err := r.stagePath("remote.part")
		if err != nil {
			return err
		}
		if err := download(ctx, r.e.opts.Remote, dataset, p.Version, path); err != nil {
			return fmt.Errorf("part %q: %w", p.Key, err)
		}
		if err := r.store.adopt(path, p.Version, deferred); err != nil {
			return fmt.Errorf("part %q: %w", p.Key, err)
		}
	}
	return nil
}

// stagePath returns the path of a new file in the run's staging
// directory, named from prefix: parts running at once get files of their
// own.
func (r *run) stagePath(prefix string) (string, error) {
	f, err := os.CreateTemp(r.stage, prefix+".*")
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// download copies version v of dataset from remote to the file path.
func download(ctx context.Context, remote Remote, dataset string, v Version, path string) error {
	rc, err := remote.Read(ctx, dataset, v)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hasOutputs reports whether every output a memo entry names is still in
// the store, every part of a partitioned one included.
func (r *run) hasOutputs(e MemoEntry) bool {
	for name, v := range e.Outputs {
		if !r.hasOutput(name, v, e.Part != "") {
			return false
		}
	}
	return true
}

// hasOutput reports whether the store has version v of output dataset,
// every part of it when it is a part list (a partitioned output, not one
// part's).
func (r *run) hasOutput(dataset string, v Version, part bool) bool {
	if !r.store.HasObject(v) {
		return false
	}
	if !r.partitioned[dataset] || part {
		return true
	}
	parts, err := r.store.Parts(v)
	if err != nil {
		return false
	}
	for _, p := range parts {
		if !r.store.HasObject(p.Version) {
			return false
		}
	}
	return true
}

// publish makes a finished task's outputs visible to its downstream tasks.
func (r *run) publish(outs map[string]Version) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, v := range outs {
		r.current[name] = v
	}
}

// finish writes the run record and builds the report.
func (r *run) finish(ctx context.Context) (*glacier.Report, error) {
	report := &glacier.Report{RunID: r.rec.RunID}
	var failed []string
	canceled := false
	r.rec.Status = RunSucceeded
	for _, t := range r.p.Tasks() {
		rec := r.records[t.Name]
		r.rec.Tasks = append(r.rec.Tasks, *rec)
		tr := glacier.TaskReport{Task: rec.Task, Status: rec.Status, Attempts: rec.Attempts, Duration: rec.Duration}
		if rec.Error != "" {
			tr.Err = errors.New(rec.Error)
		}
		report.Tasks = append(report.Tasks, tr)
		switch tr.Status {
		case glacier.StatusFailed:
			failed = append(failed, fmt.Sprintf("%s: %s", rec.Task, rec.Error))
		case glacier.StatusCanceled:
			canceled = true
		}
	}
	switch {
	case canceled || ctx.Err() != nil:
		r.rec.Status = RunCanceled
	case len(failed) > 0:
		r.rec.Status = RunFailed
	}
	r.rec.Finished = time.Now().UTC()
	if r.stage != "" {
		os.RemoveAll(r.stage)
	}
	r.e.last = r.rec
	if err := r.store.writeRun(r.rec); err != nil {
		return report, err
	}
	switch {
	case r.rec.Status == RunCanceled:
		return report, fmt.Errorf("run %s interrupted: %w", r.rec.RunID, context.Canceled)
	case len(failed) > 0:
		return report, fmt.Errorf("%d of %d tasks failed:\n  %s", len(failed), len(report.Tasks), strings.Join(failed, "\n  "))
	}
	return report, nil
}

func appendLine(path, line string) {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
