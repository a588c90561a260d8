package fnrt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// checkRequest checks req against the task: a map task is invoked for
// parts, a plan or a commit, any other task whole.
func (h *Handler) checkRequest(req fnspec.Request) error {
	if err := req.Validate(); err != nil {
		return err
	}
	switch {
	case h.spec.Map == "" && req.MapMode():
		return fmt.Errorf("task %q maps over nothing, so it takes no parts, batch, plan or commit; invoke it with a run_id alone", h.spec.Task)
	case h.spec.Map != "" && !req.MapMode():
		return fmt.Errorf("task %q maps over %q, so it runs per part: invoke it with parts or batch, then commit (see the compiled state machine or workflow)", h.spec.Task, h.spec.Map)
	}
	return nil
}

// batches is how many batches of the spec's MapBatch parts n parts make.
func (h *Handler) batches(n int) int {
	return (n + h.spec.MapBatch - 1) / h.spec.MapBatch
}

// plan answers how many batches the mapped input's parts make.
func (h *Handler) plan(ctx context.Context, out *fnspec.Response) error {
	_, parts, err := h.mapInput(ctx)
	if err != nil {
		return err
	}
	total := len(parts)
	n := h.batches(total)
	out.Batches = &n
	out.Parts = &fnspec.PartCounts{Total: total}
	return nil
}

// pick returns the indexes, among n parts sorted by key, of the parts req
// names: a batch of the spec's MapBatch, or keys.
func (h *Handler) pick(req fnspec.Request, n int, key func(int) string) ([]int, error) {
	var idx []int
	if req.Batch != nil {
		i, batches := *req.Batch, h.batches(n)
		if i >= batches {
			return nil, &Error{Kind: fnspec.KindBadRequest, Err: fmt.Errorf("batch %d is out of range: input %q has %d parts, %d batches of %d", i, h.spec.Map, n, batches, h.spec.MapBatch)}
		}
		for j := i * h.spec.MapBatch; j < min((i+1)*h.spec.MapBatch, n); j++ {
			idx = append(idx, j)
		}
		return idx, nil
	}
	for _, k := range req.Parts {
		i, ok := sort.Find(n, func(i int) int { return strings.Compare(k, key(i)) })
		if !ok {
			return nil, &Error{Kind: fnspec.KindBadRequest, Err: fmt.Errorf("input %q has no part %q in its current version", h.spec.Map, k)}
		}
		idx = append(idx, i)
	}
	return idx, nil
}

// partsFailed returns the failure of an invocation over parts whose first
// failure was first, or nil if none failed.
func partsFailed(counts *fnspec.PartCounts, first error) error {
	if first == nil {
		return nil
	}
	var e *Error
	kind := kindOf(first)
	if errors.As(first, &e) {
		kind = e.Kind
	}
	return &Error{Kind: kind, Err: fmt.Errorf("%s; the parts that succeeded are kept for the commit", counts.Summary(0))}
}

// Partitioned datasets and map tasks with a store. A partitioned version
// is a part list in the store (store.PutParts); each part of a map task
// is memoised on its own, under the key glacier run computes for it, so
// an execution runs only the parts whose key the memo lacks, and the
// commit assembles the outputs' part lists from the parts' memo entries.

// addVersions gives job the versions of inputs, each read through its
// digest: whole ones by URL, partitioned ones part by part. The input
// named skip, a map task's mapped input, is left to the caller.
func (h *Handler) addVersions(ctx context.Context, job *wasmrt.Job, inputs map[string]fnspec.Version, skip string) error {
	for n, v := range inputs {
		switch {
		case n == skip:
		case !h.partitioned(n):
			job.Inputs[n] = h.store.ObjectURL(n, v)
		default:
			parts, err := h.store.Parts(ctx, n, v)
			if err != nil {
				return &Error{Kind: storageKind(err), Err: fmt.Errorf("input %q: %w", n, err)}
			}
			urls := make(map[string]string, len(parts))
			for _, p := range parts {
				urls[p.Key] = h.store.ObjectURL(n, p.Version)
			}
			if job.InputParts == nil {
				job.InputParts = map[string]map[string]string{}
			}
			job.InputParts[n] = urls
		}
	}
	return nil
}

// adoptParts makes the parts of partitioned output dataset that the guest
// wrote under run runID versions, and their list the output's version.
func (h *Handler) adoptParts(ctx context.Context, runID, dataset string, written map[string]wasmrt.Output) (fnspec.Version, error) {
	parts := make([]fnspec.Part, 0, len(written))
	for _, k := range slices.Sorted(maps.Keys(written)) {
		o := written[k]
		v := fnspec.Version{Digest: o.SHA256, Size: o.Size}
		if err := h.store.Adopt(ctx, dataset, h.store.PartStagingURL(runID, h.spec.Task, dataset, k), v); err != nil {
			return fnspec.Version{}, fmt.Errorf("part %q: %w", k, err)
		}
		parts = append(parts, fnspec.Part{Key: k, Version: v})
	}
	return h.store.PutParts(ctx, runID, h.spec.Task, dataset, parts)
}

// memoEntry returns the memo entry of an invocation under key in run
// runID over inputs; part is the part's key for one part of a map task.
func (h *Handler) memoEntry(key, runID string, inputs map[string]fnspec.Version, part string) store.MemoEntry {
	spec := h.spec
	return store.MemoEntry{Key: key, Task: spec.Task, Module: spec.ModuleSHA256, Params: spec.Params,
		Limits: fnspec.FormatLimits(spec.MemoryMiB, spec.TimeoutSecs), Inputs: inputs,
		Outputs: map[string]fnspec.Version{}, RunID: runID, Time: time.Now().UTC(), Part: part}
}

// mapInput returns the current versions of a map task's inputs and the
// parts of its mapped input.
func (h *Handler) mapInput(ctx context.Context) (map[string]fnspec.Version, []fnspec.Part, error) {
	inputs, err := h.inputs(ctx)
	if err != nil {
		return nil, nil, err
	}
	parts, err := h.store.Parts(ctx, h.spec.Map, inputs[h.spec.Map])
	if err != nil {
		return nil, nil, &Error{Kind: storageKind(err), Err: fmt.Errorf("input %q: %w", h.spec.Map, err)}
	}
	return inputs, parts, nil
}

// runParts runs the parts req names, one after another, each found
// in the memo or run and memoised. It runs every part even when one fails,
// so the commit finds as many as possible, and then fails if any did.
func (h *Handler) runParts(ctx context.Context, req fnspec.Request, out *fnspec.Response) error {
	inputs, parts, err := h.mapInput(ctx)
	if err != nil {
		return err
	}
	todo, err := h.pick(req, len(parts), func(i int) string { return parts[i].Key })
	if err != nil {
		return err
	}
	counts := &fnspec.PartCounts{Total: len(todo)}
	out.Parts = counts
	// The memo may have the whole invocation (an unchanged input, or a
	// result glacier run --push uploaded): then no part needs a look.
	if _, ok, err := h.memo(ctx, h.cacheKey(inputs, ""), false); err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	} else if ok {
		counts.Cached = len(todo)
		return nil
	}
	// The broadcast inputs are the same for every part: resolved once.
	base := h.job(out.RunID)
	if err := h.addVersions(ctx, &base, inputs, h.spec.Map); err != nil {
		return err
	}
	var first error
	for _, i := range todo {
		p := parts[i]
		err := ctx.Err()
		cached := false
		rec := store.RunTask{Task: h.spec.Task, RunID: out.RunID, Part: p.Key, Start: time.Now().UTC()}
		if err == nil {
			cached, err = h.runPart(ctx, base, inputs, p, &rec)
		}
		if rec.Key != "" && !cached {
			h.putRecord(ctx, rec, "succeeded", err)
		}
		switch {
		case err != nil:
			h.logf("part %q failed: %v", p.Key, err)
			counts.AddFailure(p.Key, err)
			first = cmp.Or(first, err)
		case cached:
			counts.Cached++
		default:
			counts.Ran++
		}
	}
	return partsFailed(counts, first)
}

// runPart runs part p of the map task over the broadcast inputs whole (in
// base, with their versions), unless the memo has it, and reports whether
// it did. A part that runs fills in rec: its key, and the end of its log.
func (h *Handler) runPart(ctx context.Context, base wasmrt.Job, whole map[string]fnspec.Version, p fnspec.Part, rec *store.RunTask) (cached bool, err error) {
	spec := h.spec
	inputs := maps.Clone(whole)
	inputs[spec.Map] = p.Version
	key := h.cacheKey(inputs, p.Key)
	if _, ok, err := h.memo(ctx, key, true); err != nil || ok {
		if err != nil {
			return false, &Error{Kind: storageKind(err), Err: err}
		}
		return true, nil
	}
	job := base
	job.Part = p.Key
	job.Inputs, job.Outputs = maps.Clone(base.Inputs), map[string]string{}
	job.Inputs[spec.Map] = h.store.ObjectURL(spec.Map, p.Version)
	for _, n := range spec.Outputs {
		job.Outputs[n] = h.store.PartStagingURL(job.RunID, spec.Task, n, p.Key)
	}
	h.logf("part %q", p.Key)
	rec.Key = key
	res, err := h.runRecorded(ctx, job, rec)
	if err != nil {
		return false, err
	}
	e := h.memoEntry(key, job.RunID, inputs, p.Key)
	for _, n := range spec.Outputs {
		o := res.Outputs[n]
		v := fnspec.Version{Digest: o.SHA256, Size: o.Size}
		if err := h.store.Adopt(ctx, n, job.Outputs[n], v); err != nil {
			return false, &Error{Kind: storageKind(err), Err: fmt.Errorf("output %q: %w", n, err)}
		}
		e.Outputs[n] = v
	}
	if err := h.store.PutMemo(ctx, e); err != nil {
		return false, &Error{Kind: storageKind(err), Err: err}
	}
	return false, nil
}

// memoLookups bounds the memo entries the commit reads at once.
const memoLookups = 32

// commitParts commits a map task's outputs: their part lists, from the
// memo entries of the mapped input's parts, unless the memo has the whole
// invocation. A part without one failed or never ran; if more failed than
// the task tolerates, nothing is committed.
func (h *Handler) commitParts(ctx context.Context, out *fnspec.Response, rec *store.RunTask) error {
	spec := h.spec
	inputs, parts, err := h.mapInput(ctx)
	if err != nil {
		return err
	}
	key := h.cacheKey(inputs, "")
	before, gen, _, err := h.store.Ref(ctx, spec.Pipeline, spec.Task)
	if err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	}
	counts := &fnspec.PartCounts{Total: len(parts)}
	out.Parts, rec.Parts, rec.Key = counts, counts, key
	entry, cached, err := h.memo(ctx, key, false)
	if err != nil {
		return &Error{Kind: storageKind(err), Err: err}
	}
	if cached {
		counts.Cached = len(parts)
	} else {
		if entry, err = h.assemble(ctx, out.RunID, key, inputs, parts, counts); err != nil {
			return err
		}
		cached = counts.Ran == 0 && counts.Failed == 0
	}
	if err := h.commitRef(ctx, out.RunID, entry.Key, entry.Outputs, before, gen); err != nil {
		return err
	}
	if cached {
		out.Status, rec.Cached = "cached", true
	}
	for n, v := range entry.Outputs {
		out.Outputs[n] = fnspec.OutputInfo{Size: v.Size, SHA256: v.Digest}
	}
	rec.Outputs = entry.Outputs
	if counts.Failed > 0 {
		h.logf("committed without the parts that failed: %s", counts.Summary(spec.ToleratedFailures))
	}
	return nil
}

// assemble makes each output's part list from the parts' memo entries,
// counting in counts the parts run in run runID, the parts found from
// earlier runs and the parts missing, and returns the memo entry of the
// whole invocation, written unless parts are missing.
func (h *Handler) assemble(ctx context.Context, runID, key string, inputs map[string]fnspec.Version, parts []fnspec.Part, counts *fnspec.PartCounts) (store.MemoEntry, error) {
	spec := h.spec
	found, err := h.partMemos(ctx, inputs, parts)
	if err != nil {
		return store.MemoEntry{}, err
	}
	lists := make(map[string][]fnspec.Part, len(spec.Outputs))
	missing := fmt.Errorf("it has no memo entry: its invocation in run %q failed or never ran (see the function's log)", runID)
	for i, p := range parts {
		e := found[i]
		switch {
		case e == nil:
			counts.AddFailure(p.Key, missing)
			continue
		case e.RunID == runID:
			counts.Ran++
		default:
			counts.Cached++
		}
		for _, n := range spec.Outputs {
			lists[n] = append(lists[n], fnspec.Part{Key: p.Key, Version: e.Outputs[n]})
		}
	}
	if !fnspec.Tolerated(counts.Failed, counts.Total, spec.ToleratedFailures) {
		return store.MemoEntry{}, &Error{Kind: fnspec.KindTaskFailed, Err: fmt.Errorf("%s; nothing was committed", counts.Summary(spec.ToleratedFailures))}
	}
	entry := h.memoEntry(key, runID, inputs, "")
	entry.Lists = spec.Outputs
	for _, n := range spec.Outputs {
		v, err := h.store.PutParts(ctx, runID, spec.Task, n, lists[n])
		if err != nil {
			return entry, &Error{Kind: storageKind(err), Err: fmt.Errorf("output %q: %w", n, err)}
		}
		entry.Outputs[n] = v
	}
	if counts.Failed > 0 {
		// Committed without the failed parts: under a key of its own, so
		// the next run misses it and tries those parts again.
		entry.Key = h.cacheKey(inputs, "\x00partial:"+runID)
	}
	if err := h.store.PutMemo(ctx, entry); err != nil {
		return entry, &Error{Kind: storageKind(err), Err: err}
	}
	return entry, nil
}

// partMemos returns the memo entry of each of parts, nil where the memo
// lacks one (or a version it names), reading several at once.
func (h *Handler) partMemos(ctx context.Context, inputs map[string]fnspec.Version, parts []fnspec.Part) ([]*store.MemoEntry, error) {
	found := make([]*store.MemoEntry, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, memoLookups)
	var wg sync.WaitGroup
	for i, p := range parts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			in := maps.Clone(inputs)
			in[h.spec.Map] = p.Version
			e, ok, err := h.memo(ctx, h.cacheKey(in, p.Key), true)
			if ok {
				found[i] = &e
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, &Error{Kind: storageKind(err), Err: fmt.Errorf("part %q: %w", parts[i].Key, err)}
		}
	}
	return found, nil
}
