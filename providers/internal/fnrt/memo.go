package fnrt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/store"
)

// openStore opens the store whose state is at state, each dataset's
// versions in the folder of its URL, which is its stable name.
func openStore(spec fnspec.TaskSpec, datasets map[string]string, state string) (*store.Store, error) {
	if len(spec.Partitioned) > 0 {
		// Part lists do not live in the store yet; such a task runs as
		// without one.
		return nil, nil
	}
	l := store.Layout{State: state, Datasets: map[string]string{}}
	for n, raw := range datasets {
		u, err := url.Parse(raw)
		if err != nil || path.Base(u.Path) != n || u.Fragment != "" {
			return nil, fmt.Errorf("with %s set, the URL of each dataset names its stable name, whose last segment is the dataset's name: %q of dataset %q is not such a URL", fnspec.StateEnv, raw, n)
		}
		u.Path = path.Dir(u.Path)
		u.RawPath = ""
		l.Datasets[n] = u.String()
	}
	s, err := store.New(storage.DefaultURLMux(), l)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fnspec.StateEnv, err)
	}
	return s, nil
}

// runMemoised runs the task through the store: its inputs are the
// versions their producers' refs name; if the memo has the invocation's
// cache key the recorded outputs are committed and no guest runs;
// otherwise the guest runs, its outputs become versions and its memo
// entry is written. Either way the task's ref is committed in one
// conditional write, then the stable names follow. Whatever happened, the
// run's record of the task says so last, with the end of the task's log.
func (h *Handler) runMemoised(ctx context.Context, out *fnspec.Response, start time.Time) error {
	rec := store.RunTask{Task: h.spec.Task, RunID: out.RunID, Start: start.UTC()}
	err := h.memoised(ctx, out, &rec)
	end := time.Now()
	rec.Status, rec.DurationMS = out.Status, end.Sub(start).Milliseconds()
	if err != nil {
		rec.Status, rec.Error = "failed", err.Error()
	}
	if h.logsURL != nil {
		rec.LogsURL = h.logsURL(start, end)
	}
	if werr := h.store.PutRunTask(ctx, rec); werr != nil {
		h.logf("the run's record of the task could not be written: %v", werr)
	}
	return err
}

// memoised is runMemoised but for the run's record, which it fills in.
func (h *Handler) memoised(ctx context.Context, out *fnspec.Response, rec *store.RunTask) error {
	spec := h.spec
	inputs := make(map[string]fnspec.Version, len(spec.Inputs))
	for _, n := range spec.Inputs {
		v, ok, err := h.store.Current(ctx, spec.Pipeline, n, spec.Producers[n])
		if err != nil {
			return &Error{Kind: storageKind(err), Err: fmt.Errorf("input %q: %w", n, err)}
		}
		if !ok {
			where := fmt.Sprintf("its producer, task %q, has not succeeded yet: check that it ran earlier in this execution", spec.Producers[n])
			if spec.Producers[n] == "" {
				where = "it is a source the deployment has not uploaded: deploy the compiled program again (pulumi up)"
			}
			return &Error{Kind: fnspec.KindError, Err: fmt.Errorf("input %q has no version in the store yet; %s; nothing was run", n, where)}
		}
		inputs[n] = v
	}
	// The key glacier run computes for the same invocation, so a result
	// made on one target is found on every other.
	key := fnspec.CacheKey{Task: spec.Task, Module: spec.ModuleSHA256, Inputs: inputs, Params: spec.Params,
		MemoryMiB: spec.MemoryMiB, TimeoutSecs: spec.TimeoutSecs, Outputs: spec.Outputs,
		Schemas: fnspec.SchemaDigests(spec.Schemas, spec.Outputs)}.Sum()
	before, gen, _, err := h.store.Ref(ctx, spec.Pipeline, spec.Task)
	if err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	}
	entry, cached, err := h.memo(ctx, key)
	if err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	}
	rec.Key, rec.Cached = key, cached
	if !cached {
		if entry, err = h.runGuest(ctx, out.RunID, key, inputs, rec); err != nil {
			return err
		}
	}
	err = h.store.Commit(ctx, spec.Pipeline, store.Ref{Task: spec.Task, Key: key, RunID: out.RunID, Outputs: entry.Outputs, Time: time.Now().UTC()}, gen)
	switch {
	case errors.Is(err, store.ErrSuperseded):
		h.logf("a newer run committed task %q first; its outputs stay current, and this run's are in the memo", spec.Task)
	case err != nil:
		return &Error{Kind: storageKind(err), Err: fmt.Errorf("commit: %w", err)}
	default:
		for n, v := range entry.Outputs {
			if err := h.store.Publish(ctx, n, v); err != nil {
				return &Error{Kind: storageKind(err), Err: fmt.Errorf("update the stable name of output %q: %w", n, err)}
			}
		}
		h.retire(ctx, before, entry.Outputs)
	}
	if cached {
		out.Status = "cached"
	}
	for n, v := range entry.Outputs {
		out.Outputs[n] = fnspec.OutputInfo{Size: v.Size, SHA256: v.Digest}
	}
	rec.Outputs = entry.Outputs
	return nil
}

// memo returns the memo entry of key if the store has it and every output
// it names.
func (h *Handler) memo(ctx context.Context, key string) (store.MemoEntry, bool, error) {
	e, ok, err := h.store.Memo(ctx, h.spec.Task, key)
	if err != nil || !ok {
		return e, false, err
	}
	for _, n := range h.spec.Outputs {
		v, named := e.Outputs[n]
		if !named {
			return e, false, nil
		}
		has, err := h.store.Has(ctx, n, v)
		if err == nil && !has && slices.Contains(h.spec.Retire, n) {
			// A version a later run replaced is retired until it expires.
			has, err = h.store.Revive(ctx, n, v)
		}
		if err != nil || !has {
			return e, false, err
		}
	}
	return e, true, nil
}

// retire moves the versions of the outputs in the spec's Retire that the
// commit replaced (before named them) to their retired names, where the
// bucket's lifecycle rule expires them. A failure costs only space, so it
// is logged, not returned.
func (h *Handler) retire(ctx context.Context, before store.Ref, after map[string]fnspec.Version) {
	for _, n := range h.spec.Retire {
		old, ok := before.Outputs[n]
		if !ok || old == after[n] {
			continue
		}
		if err := h.store.Retire(ctx, n, old); err != nil {
			h.logf("the replaced version of output %q stays a version: %v", n, err)
		}
	}
}

// runGuest runs the guest over inputs, each read through its digest, and
// makes its outputs versions in the store, recorded under key. The end of
// the guest's log goes to rec.
func (h *Handler) runGuest(ctx context.Context, runID, key string, inputs map[string]fnspec.Version, rec *store.RunTask) (store.MemoEntry, error) {
	spec := h.spec
	job := h.job(runID)
	for n, v := range inputs {
		job.Inputs[n] = h.store.ObjectURL(n, v)
	}
	for _, n := range spec.Outputs {
		job.Outputs[n] = h.store.StagingURL(runID, spec.Task, n)
	}
	// A pipe of its own, so that the tail is this invocation's even when
	// others run at once.
	pipe, err := newLogPipe(h.scratch, h.log, "["+spec.Task+"] ")
	if err != nil {
		return store.MemoEntry{}, err
	}
	pipe.keep = &logTail{max: RecordLogTail}
	job.LogPath = pipe.path
	res, err := h.run(ctx, job, pipe)
	if cerr := pipe.close(); cerr != nil {
		h.logf("closing the task's log: %v", cerr)
	}
	rec.Log, rec.LogDropped = pipe.keep.text()
	if err != nil {
		return store.MemoEntry{}, err
	}
	e := store.MemoEntry{Key: key, Task: spec.Task, Module: spec.ModuleSHA256, Params: spec.Params,
		Limits: fnspec.FormatLimits(spec.MemoryMiB, spec.TimeoutSecs), Inputs: inputs,
		Outputs: map[string]fnspec.Version{}, RunID: runID, Time: time.Now().UTC()}
	for _, n := range spec.Outputs { // in declaration order, so a failure is reproducible
		o := res.Outputs[n]
		v := fnspec.Version{Digest: o.SHA256, Size: o.Size}
		if err := h.store.Adopt(ctx, n, job.Outputs[n], v); err != nil {
			return e, &Error{Kind: storageKind(err), Err: fmt.Errorf("output %q: %w", n, err)}
		}
		e.Outputs[n] = v
	}
	if err := h.store.PutMemo(ctx, e); err != nil {
		return e, &Error{Kind: storageKind(err), Err: err}
	}
	return e, nil
}

// storageKind is the kind of a failure of the store: a refusal for good
// is not worth a retry, nor is a corrupt record.
func storageKind(err error) fnspec.Kind {
	switch {
	case errors.Is(err, storage.ErrPermanent):
		return fnspec.KindStorageDenied
	case errors.Is(err, storage.ErrCorrupt):
		return fnspec.KindError
	}
	return fnspec.KindStorage
}
