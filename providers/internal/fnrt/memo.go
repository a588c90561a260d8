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
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// openStore opens the store whose state is at state, each dataset's
// versions in the folder of its URL, which is its stable name.
func openStore(spec fnspec.TaskSpec, datasets map[string]string, state string) (*store.Store, error) {
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
	return h.recorded(ctx, out, start, h.memoised)
}

// recorded runs do, which fills in the run's record of the task, and
// writes the record last, whatever happened.
func (h *Handler) recorded(ctx context.Context, out *fnspec.Response, start time.Time, do func(context.Context, *fnspec.Response, *store.RunTask) error) error {
	rec := store.RunTask{Task: h.spec.Task, RunID: out.RunID, Start: start.UTC()}
	err := do(ctx, out, &rec)
	h.putRecord(ctx, rec, out.Status, err)
	return err
}

// putRecord writes rec, of an invocation (or one part of it) that ended
// now with status, or failed if err is set: its duration and the link to
// its log follow from rec.Start. A record that cannot be written costs
// only what it says, so the failure is logged, not returned.
func (h *Handler) putRecord(ctx context.Context, rec store.RunTask, status string, err error) {
	end := time.Now()
	rec.Status, rec.DurationMS = status, end.Sub(rec.Start).Milliseconds()
	if err != nil {
		rec.Status, rec.Error = "failed", err.Error()
	}
	if h.logsURL != nil {
		rec.LogsURL = h.logsURL(rec.Start, end)
	}
	if werr := h.store.PutRunTask(context.WithoutCancel(ctx), rec); werr != nil {
		what := "the task"
		if rec.Part != "" {
			what = fmt.Sprintf("part %q", rec.Part)
		}
		h.logf("the run's record of %s could not be written: %v", what, werr)
	}
}

// inputs returns the current version of each of the task's inputs: the
// versions their producers' refs name, or the sources' records.
func (h *Handler) inputs(ctx context.Context) (map[string]fnspec.Version, error) {
	spec := h.spec
	inputs := make(map[string]fnspec.Version, len(spec.Inputs))
	for _, n := range spec.Inputs {
		v, ok, err := h.store.Current(ctx, spec.Pipeline, n, spec.Producers[n])
		if err != nil {
			return nil, &Error{Kind: storageKind(err), Err: fmt.Errorf("input %q: %w", n, err)}
		}
		if !ok {
			where := fmt.Sprintf("its producer, task %q, has not succeeded yet: check that it ran earlier in this execution", spec.Producers[n])
			if spec.Producers[n] == "" {
				where = "it is a source the deployment has not uploaded: deploy the compiled program again (pulumi up)"
			}
			return nil, &Error{Kind: fnspec.KindError, Err: fmt.Errorf("input %q has no version in the store yet; %s; nothing was run", n, where)}
		}
		inputs[n] = v
	}
	return inputs, nil
}

// cacheKey is the key glacier run computes for the same invocation, so a
// result made on one target is found on every other: for one part of a
// map task, part is its key and inputs hold the part's version in place
// of the mapped input's.
func (h *Handler) cacheKey(inputs map[string]fnspec.Version, part string) string {
	spec := h.spec
	return fnspec.CacheKey{Task: spec.Task, Module: spec.ModuleSHA256, Inputs: inputs, Params: spec.Params,
		MemoryMiB: spec.MemoryMiB, TimeoutSecs: spec.TimeoutSecs, Outputs: spec.Outputs, Part: part,
		Schemas: fnspec.SchemaDigests(spec.Schemas, spec.Outputs)}.Sum()
}

// memoised is runMemoised but for the run's record, which it fills in.
func (h *Handler) memoised(ctx context.Context, out *fnspec.Response, rec *store.RunTask) error {
	spec := h.spec
	inputs, err := h.inputs(ctx)
	if err != nil {
		return err
	}
	key := h.cacheKey(inputs, "")
	before, gen, _, err := h.store.Ref(ctx, spec.Pipeline, spec.Task)
	if err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	}
	entry, cached, err := h.memo(ctx, key, false)
	if err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	}
	rec.Key, rec.Cached = key, cached
	if !cached {
		if entry, err = h.runGuest(ctx, out.RunID, key, inputs, rec); err != nil {
			return err
		}
	}
	if err := h.commitRef(ctx, out.RunID, key, entry.Outputs, before, gen); err != nil {
		return err
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

// commitRef commits outputs, made under key, as the task's ref if its
// generation is still gen, then updates the outputs' stable names and
// retires the versions the commit replaced (before named them). A newer
// run's commit wins, and leaves the stable names to it.
func (h *Handler) commitRef(ctx context.Context, runID, key string, outputs map[string]fnspec.Version, before store.Ref, gen string) error {
	spec := h.spec
	err := h.store.Commit(ctx, spec.Pipeline, store.Ref{Task: spec.Task, Key: key, RunID: runID, Outputs: outputs, Time: time.Now().UTC()}, gen)
	switch {
	case errors.Is(err, store.ErrSuperseded):
		h.logf("a newer run committed task %q first; its outputs stay current, and this run's are in the memo", spec.Task)
		return nil
	case err != nil:
		return &Error{Kind: storageKind(err), Err: fmt.Errorf("commit: %w", err)}
	}
	for _, n := range spec.Outputs {
		if err := h.publish(ctx, n, outputs[n]); err != nil {
			return &Error{Kind: storageKind(err), Err: fmt.Errorf("update the stable name of output %q: %w", n, err)}
		}
	}
	h.retire(ctx, before, outputs)
	return nil
}

// partitioned reports whether dataset is partitioned.
func (h *Handler) partitioned(dataset string) bool {
	return slices.Contains(h.spec.Partitioned, dataset)
}

// publish updates output dataset's stable name to version v.
func (h *Handler) publish(ctx context.Context, dataset string, v fnspec.Version) error {
	if !h.partitioned(dataset) {
		return h.store.Publish(ctx, dataset, v)
	}
	parts, err := h.store.Parts(ctx, dataset, v)
	if err != nil {
		return err
	}
	return h.store.PublishParts(ctx, dataset, parts)
}

// memo returns the memo entry of key if the store has it and every output
// it names; part says the entry is one part's, whose outputs are parts.
func (h *Handler) memo(ctx context.Context, key string, part bool) (store.MemoEntry, bool, error) {
	e, ok, err := h.store.Memo(ctx, h.spec.Task, key)
	if err != nil || !ok {
		return e, false, err
	}
	for _, n := range h.spec.Outputs {
		v, named := e.Outputs[n]
		if !named {
			return e, false, nil
		}
		has, err := h.has(ctx, n, v, !part && h.partitioned(n))
		if err != nil || !has {
			return e, false, err
		}
	}
	return e, true, nil
}

// has reports whether the store has version v of output dataset, reviving
// it if a later run replaced it and it is retired until it expires. For a
// part list (list), its parts are revived before it, as a list is retired
// before its parts: so a list the store has names parts it has.
func (h *Handler) has(ctx context.Context, dataset string, v fnspec.Version, list bool) (bool, error) {
	has, err := h.store.Has(ctx, dataset, v)
	if err != nil || has || !slices.Contains(h.spec.Retire, dataset) {
		return has, err
	}
	if !list {
		return h.store.Revive(ctx, dataset, v)
	}
	// The parts first, so that the list comes back only with all of them.
	parts, retired, err := h.store.RetiredParts(ctx, dataset, v)
	if errors.Is(err, storage.ErrCorrupt) {
		return false, nil // not the list it claims to be: run again
	}
	if err != nil || !retired {
		return false, err
	}
	for _, p := range parts {
		if ok, err := h.has(ctx, dataset, p.Version, false); err != nil || !ok {
			return false, err
		}
	}
	return h.store.Revive(ctx, dataset, v)
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
		retire := []fnspec.Version{old}
		if h.partitioned(n) {
			parts, err := h.replacedParts(ctx, n, old, after[n])
			if err != nil {
				h.logf("the replaced version of output %q stays a version: %v", n, err)
				continue
			}
			// The list first, so that it never names parts that are
			// gone (see has).
			retire = append(retire, parts...)
		}
		for _, v := range retire {
			if err := h.store.Retire(ctx, n, v); err != nil {
				h.logf("a replaced version of output %q stays a version: %v", n, err)
				break
			}
		}
	}
}

// replacedParts returns the versions of the parts of list old that list
// now does not name: the objects a commit of now over old leaves unnamed.
func (h *Handler) replacedParts(ctx context.Context, dataset string, old, now fnspec.Version) ([]fnspec.Version, error) {
	before, err := h.store.Parts(ctx, dataset, old)
	if err != nil {
		return nil, err
	}
	after, err := h.store.Parts(ctx, dataset, now)
	if err != nil {
		return nil, err
	}
	kept := make(map[fnspec.Version]bool, len(after))
	for _, p := range after {
		kept[p.Version] = true
	}
	var gone []fnspec.Version
	for _, p := range before {
		if !kept[p.Version] {
			kept[p.Version] = true // once, though two keys share it
			gone = append(gone, p.Version)
		}
	}
	return gone, nil
}

// runGuest runs the guest over inputs, each read through its digest, and
// makes its outputs versions in the store, recorded under key. The end of
// the guest's log goes to rec.
func (h *Handler) runGuest(ctx context.Context, runID, key string, inputs map[string]fnspec.Version, rec *store.RunTask) (store.MemoEntry, error) {
	spec := h.spec
	job := h.job(runID)
	if err := h.addVersions(ctx, &job, inputs, ""); err != nil {
		return store.MemoEntry{}, err
	}
	for _, n := range spec.Outputs {
		if h.partitioned(n) {
			if job.OutputPrefixes == nil {
				job.OutputPrefixes = map[string]string{}
			}
			job.OutputPrefixes[n] = h.store.PartStagingPrefixURL(runID, spec.Task, n)
			continue
		}
		job.Outputs[n] = h.store.StagingURL(runID, spec.Task, n)
	}
	res, err := h.runRecorded(ctx, job, rec)
	if err != nil {
		return store.MemoEntry{}, err
	}
	e := h.memoEntry(key, runID, inputs, "")
	for _, n := range spec.Outputs {
		if h.partitioned(n) {
			e.Lists = append(e.Lists, n)
		}
	}
	for _, n := range spec.Outputs { // in declaration order, so a failure is reproducible
		var v fnspec.Version
		if h.partitioned(n) {
			v, err = h.adoptParts(ctx, runID, n, res.Parts[n])
		} else {
			o := res.Outputs[n]
			v = fnspec.Version{Digest: o.SHA256, Size: o.Size}
			err = h.store.Adopt(ctx, n, job.Outputs[n], v)
		}
		if err != nil {
			return e, &Error{Kind: storageKind(err), Err: fmt.Errorf("output %q: %w", n, err)}
		}
		e.Outputs[n] = v
	}
	if err := h.store.PutMemo(ctx, e); err != nil {
		return e, &Error{Kind: storageKind(err), Err: err}
	}
	return e, nil
}

// runRecorded runs job as run does, its log through a pipe of its own, so
// that the end of it, which goes to rec, is this invocation's even when
// others run at once.
func (h *Handler) runRecorded(ctx context.Context, job wasmrt.Job, rec *store.RunTask) (wasmrt.Result, error) {
	pipe, err := newLogPipe(h.scratch, h.log, "["+h.spec.Task+"] ")
	if err != nil {
		return wasmrt.Result{}, err
	}
	pipe.keep = &logTail{max: RecordLogTail}
	job.LogPath = pipe.path
	res, err := h.run(ctx, job, pipe)
	if cerr := pipe.close(); cerr != nil {
		h.logf("closing the task's log: %v", cerr)
	}
	rec.Log, rec.LogDropped = pipe.keep.text()
	return res, err
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
