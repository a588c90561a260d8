package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// PartCounts says what became of the parts of a map task in a run; every
// target counts them so.
type PartCounts = fnspec.PartCounts

// PartFailure is a part that failed and why.
type PartFailure = fnspec.PartFailure

// partLogPath is where a part's log goes, relative to the store: keys are
// relative paths, so each part's log sits at its key under the task's.
func partLogPath(runID, task, key string) string {
	return filepath.Join(logDir(runID), task+".parts", filepath.FromSlash(key)+".log")
}

// runMap runs a map task: once per part of its mapped input, each part
// memoised on its own, the parts scheduled across the workers. The
// outputs' new versions, lists of the parts made, are committed only when
// every part succeeded, or the failures are within the task's tolerance;
// parts that succeeded stay in the memo either way, so a rerun runs only
// what is missing.
func (r *run) runMap(ctx context.Context, t glacier.Task, mod build.Module, rec *TaskRecord, key string) *TaskRecord {
	parts, err := r.store.Parts(rec.Inputs[t.Map])
	if err != nil {
		rec.Status, rec.Error = glacier.StatusFailed, fmt.Sprintf("input %q: %v", t.Map, err)
		return r.record(rec)
	}
	limits := glacier.LimitsOf(t.Compute)
	counts := &PartCounts{Total: len(parts)}
	rec.Parts = counts
	outputs := map[string][]Part{} // each output's parts, as they succeed
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	// progress reports the counts; called with mu held, so reports come
	// in the order the counts changed.
	progress := func() {
		c := *counts
		c.FailedKeys = nil
		r.emit(Event{Task: t.Name, State: glacier.StatusRunning, Elapsed: time.Since(began), Parts: &c})
	}
	rec.Log = filepath.Join(logDir(r.rec.RunID), t.Name+".parts")
	progress()
	// bound holds a token per part of this task running, so at most
	// MaxConcurrency run at once, whatever the workers free.
	var bound chan struct{}
	if t.MaxConcurrency > 0 {
		bound = make(chan struct{}, t.MaxConcurrency)
	}
	for _, p := range parts {
		if bound != nil {
			select {
			case bound <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil || !r.acquire(ctx) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs, cached, res, err := r.runPart(ctx, t, mod, rec.Inputs, p, limits)
			<-r.slots
			if bound != nil {
				<-bound
			}
			mu.Lock()
			rec.BytesIn += res.BytesIn
			rec.BytesOut += res.BytesOut
			switch {
			case err != nil:
				counts.AddFailure(p.Key, err)
			case cached:
				counts.Cached++
			default:
				counts.Ran++
			}
			for name, v := range outs {
				outputs[name] = append(outputs[name], Part{Key: p.Key, Version: v})
			}
			progress()
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The parts' results are durable before anything that names them is
	// written (commitTask syncs too; this also covers a map that commits
	// nothing, so what its parts did is kept).
	if err := r.store.sync(false); err != nil {
		rec.Status, rec.Error = glacier.StatusFailed, err.Error()
		return r.record(rec)
	}
	rec.Duration, rec.Attempts = time.Since(began), 1
	if counts.Ran+counts.Failed == 0 {
		rec.Log = "" // no part ran, so none has a log in this run
	}
	slices.SortFunc(counts.FailedKeys, func(a, b PartFailure) int { return strings.Compare(a.Key, b.Key) })

	done := counts.Ran + counts.Cached + counts.Failed
	switch {
	case done < counts.Total:
		rec.Status, rec.Error = glacier.StatusCanceled,
			fmt.Sprintf("run interrupted after %d of %d parts; nothing was committed, and the parts that finished are kept for the next run", done, counts.Total)
		return r.record(rec)
	case !fnspec.Tolerated(counts.Failed, counts.Total, t.ToleratedFailures):
		rec.Status, rec.Error = glacier.StatusFailed, counts.Summary(t.ToleratedFailures)
		return r.record(rec)
	}
	entry := MemoEntry{Key: key, Task: t.Name, Module: mod.SHA256, Params: t.Params, Limits: limits.String(),
		Inputs: rec.Inputs, Outputs: map[string]Version{}, RunID: r.rec.RunID, Time: time.Now().UTC(), Lists: t.Outputs}
	for _, name := range t.Outputs {
		v, err := r.store.writeParts(outputs[name])
		if err != nil {
			rec.Status, rec.Error = glacier.StatusFailed, fmt.Sprintf("commit output %q: %v", name, err)
			return r.record(rec)
		}
		entry.Outputs[name] = v
	}
	if counts.Failed > 0 {
		// Committed without the failed parts: under a key of its own, so
		// the next run misses it and tries those parts again.
		entry.Key = r.memoKey(t, mod.SHA256, rec.Inputs, "\x00partial:"+r.rec.RunID)
	}
	if err := r.store.commitTask(r.p.Name(), r.rec.RunID, entry, nil); err != nil {
		rec.Status, rec.Error = glacier.StatusFailed, err.Error()
		return r.record(rec)
	}
	rec.Status, rec.Outputs = glacier.StatusSucceeded, entry.Outputs
	if counts.Ran == 0 && counts.Failed == 0 {
		rec.Status = glacier.StatusCached
	}
	if counts.Failed > 0 {
		rec.Error = counts.Summary(t.ToleratedFailures)
	}
	r.publish(entry.Outputs)
	return r.record(rec)
}

// runPart runs one part of map task t, or finds its outputs in the memo,
// and returns the version of each output's part. Its outputs are in the
// objects and its memo entry written before it returns, so a run killed
// later keeps them.
func (r *run) runPart(ctx context.Context, t glacier.Task, mod build.Module, whole map[string]Version, p Part, limits glacier.Limits) (
	outs map[string]Version, cached bool, moved wasmrt.Result, err error) {
	inputs := make(map[string]Version, len(whole))
	for name, v := range whole {
		inputs[name] = v
	}
	inputs[t.Map] = p.Version
	key := r.memoKey(t, mod.SHA256, inputs, p.Key)
	if !r.e.opts.Force {
		if e, ok := r.store.Memo(t.Name, key); ok && r.hasOutputs(e) {
			return e.Outputs, true, moved, nil
		}
		if r.e.opts.Remote != nil {
			e, staged, ok, err := r.fetchRemote(ctx, t, key, p.Key)
			if err == nil && ok {
				err = r.store.commitPart(e, staged)
			}
			if err != nil {
				return nil, false, moved, fmt.Errorf("reuse the remote store's result: %w", err)
			}
			if ok {
				return e.Outputs, true, moved, nil
			}
		}
	}
	logFile := filepath.Join(r.store.Root(), partLogPath(r.rec.RunID, t.Name, p.Key))
	backoff := r.e.opts.Backoff
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			appendLine(logFile, fmt.Sprintf("glacier: attempt %d of %d", attempt, t.Retries+1))
		}
		res, staged, err := r.attempt(ctx, t, mod, inputs, p.Key, limits, logFile, attempt)
		moved.BytesIn += res.BytesIn
		moved.BytesOut += res.BytesOut
		if err == nil {
			e := MemoEntry{Key: key, Task: t.Name, Module: mod.SHA256, Params: t.Params, Limits: limits.String(),
				Inputs: inputs, Outputs: map[string]Version{}, RunID: r.rec.RunID, Time: time.Now().UTC(), Part: p.Key}
			for name, o := range res.Outputs {
				e.Outputs[name] = Version{Digest: o.SHA256, Size: o.Size}
			}
			if err = r.store.commitPart(e, staged); err == nil {
				return e.Outputs, false, moved, nil
			}
		}
		if ctx.Err() != nil || errors.Is(err, wasmrt.ErrCanceled) || attempt > t.Retries || permanent(err) {
			if errors.Is(err, storage.ErrCorrupt) {
				err = fmt.Errorf("%w; the store is corrupt: %s", err, Repair)
			}
			return nil, false, moved, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, false, moved, err
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// acquire takes a worker's slot, unless ctx ends first.
func (r *run) acquire(ctx context.Context) bool {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ctx.Err() != nil {
		<-r.slots
		return false
	}
	return true
}
