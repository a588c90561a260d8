package fnrt

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// maxListBytes bounds a part list the function reads: 10,000 parts of
// the longest keys fit many times over.
const maxListBytes = 64 << 20

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

// url returns the URL of the object named name beside dataset's object.
func (h *Handler) url(dataset, name string) (string, error) {
	u, err := storage.SiblingURL(h.datasets[dataset], name)
	if err != nil {
		return "", &Error{Kind: fnspec.KindInit, Err: fmt.Errorf("dataset %q: %w", dataset, err)}
	}
	return u, nil
}

// readList reads the current part list of partitioned dataset.
func (h *Handler) readList(ctx context.Context, dataset string) ([]fnspec.PartEntry, error) {
	rc, err := storage.DefaultURLMux().Open(ctx, h.datasets[dataset])
	if errors.Is(err, storage.ErrNotFound) {
		return nil, storageError(fmt.Errorf("partitioned input %q has no version yet (no part list at %s): %w; "+
			"check that the task writing it succeeded, or that the deployment uploaded its source", dataset, h.datasets[dataset], err))
	}
	if err != nil {
		return nil, storageError(fmt.Errorf("partitioned input %q: %w", dataset, err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxListBytes+1))
	if err != nil {
		return nil, storageError(fmt.Errorf("partitioned input %q: %w", dataset, err))
	}
	if len(data) > maxListBytes {
		return nil, fmt.Errorf("partitioned input %q: its part list is over %d MiB", dataset, maxListBytes>>20)
	}
	entries, err := fnspec.DecodeParts(data)
	if err != nil {
		return nil, fmt.Errorf("partitioned input %q at %s: %w", dataset, h.datasets[dataset], err)
	}
	return entries, nil
}

// writeList commits entries as partitioned output dataset's new version.
func (h *Handler) writeList(ctx context.Context, dataset string, entries []fnspec.PartEntry) (fnspec.OutputInfo, error) {
	data, err := fnspec.EncodeParts(entries)
	if err != nil {
		return fnspec.OutputInfo{}, fmt.Errorf("output %q: %w", dataset, err)
	}
	fail := func(err error) (fnspec.OutputInfo, error) {
		return fnspec.OutputInfo{}, storageError(fmt.Errorf("commit the part list of output %q: %w", dataset, err))
	}
	st, err := storage.DefaultURLMux().Stage(ctx, h.datasets[dataset])
	if err != nil {
		return fail(err)
	}
	if _, err := st.Write(data); err != nil {
		_ = st.Discard(ctx)
		return fail(err)
	}
	if err := st.Commit(ctx); err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(data)
	return fnspec.OutputInfo{Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// addDatasets gives job the task's datasets: whole ones by URL,
// partitioned ones part by part. For an invocation over part, the mapped
// input is that part's object and each output the part's object under the
// run, both whole to the guest.
func (h *Handler) addDatasets(ctx context.Context, job *wasmrt.Job, part string) error {
	if err := h.addInputs(ctx, job); err != nil {
		return err
	}
	return h.addOutputs(job, part)
}

// addInputs gives job the task's inputs; a map task's mapped input is
// left to the caller.
func (h *Handler) addInputs(ctx context.Context, job *wasmrt.Job) error {
	for _, n := range h.spec.Inputs {
		if !slices.Contains(h.spec.Partitioned, n) || n == h.spec.Map {
			job.Inputs[n] = h.datasets[n]
			continue
		}
		entries, err := h.readList(ctx, n)
		if err != nil {
			return err
		}
		urls := make(map[string]string, len(entries))
		for _, e := range entries {
			if urls[e.Key], err = h.url(n, e.Object); err != nil {
				return err
			}
		}
		if job.InputParts == nil {
			job.InputParts = map[string]map[string]string{}
		}
		job.InputParts[n] = urls
	}
	return nil
}

// addOutputs gives job the task's outputs: for an invocation over part,
// each output's part object under the run.
func (h *Handler) addOutputs(job *wasmrt.Job, part string) error {
	for _, n := range h.spec.Outputs {
		switch {
		case !slices.Contains(h.spec.Partitioned, n):
			job.Outputs[n] = h.datasets[n]
		case part != "":
			u, err := h.url(n, fnspec.RunPartObject(n, job.RunID, part))
			if err != nil {
				return err
			}
			job.Outputs[n] = u
		default:
			u, err := h.url(n, fnspec.RunPrefix(n, job.RunID))
			if err != nil {
				return err
			}
			if job.OutputPrefixes == nil {
				job.OutputPrefixes = map[string]string{}
			}
			job.OutputPrefixes[n] = u
		}
	}
	return nil
}

// batches is how many batches of the spec's MapBatch parts n parts make.
func (h *Handler) batches(n int) int {
	return (n + h.spec.MapBatch - 1) / h.spec.MapBatch
}

// plan answers how many batches the mapped input's parts make.
func (h *Handler) plan(ctx context.Context, out *fnspec.Response) error {
	var total int
	if h.store != nil {
		_, parts, err := h.mapInput(ctx)
		if err != nil {
			return err
		}
		total = len(parts)
	} else {
		entries, err := h.readList(ctx, h.spec.Map)
		if err != nil {
			return err
		}
		total = len(entries)
	}
	n := h.batches(total)
	out.Batches = &n
	out.Parts = &fnspec.PartCounts{Total: total}
	return nil
}

// runParts runs the parts req names, one after another, staging each
// one's outputs under the run. It runs every part even when one fails,
// so a retry or the commit finds as many as possible, and then fails if
// any did.
func (h *Handler) runParts(ctx context.Context, req fnspec.Request, out *fnspec.Response) error {
	entries, err := h.readList(ctx, h.spec.Map)
	if err != nil {
		return err
	}
	idx, err := h.pick(req, len(entries), func(i int) string { return entries[i].Key })
	if err != nil {
		return err
	}
	todo := make([]fnspec.PartEntry, len(idx))
	for i, j := range idx {
		todo[i] = entries[j]
	}
	counts := &fnspec.PartCounts{Total: len(todo)}
	out.Parts = counts
	// The broadcast inputs are the same for every part: resolved once.
	base := h.job(out.RunID)
	if err := h.addInputs(ctx, &base); err != nil {
		return err
	}
	var first error
	for _, e := range todo {
		if ctx.Err() != nil {
			counts.AddFailure(e.Key, ctx.Err())
			first = cmp.Or(first, ctx.Err())
			continue
		}
		job := base
		job.Part = e.Key
		job.Inputs, job.Outputs = maps.Clone(base.Inputs), map[string]string{}
		if err := h.addOutputs(&job, e.Key); err != nil {
			return err
		}
		if job.Inputs[h.spec.Map], err = h.url(h.spec.Map, e.Object); err != nil {
			return err
		}
		h.logf("part %q", e.Key)
		if _, err := h.run(ctx, job, h.pipe); err != nil {
			h.logf("part %q failed: %v", e.Key, err)
			counts.AddFailure(e.Key, err)
			first = cmp.Or(first, err)
			continue
		}
		counts.Ran++
	}
	return partsFailed(counts, first)
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

// commit commits the parts the run staged as the outputs' new versions: a
// part succeeded when every output has its object under the run. If more
// parts failed than the task tolerates, nothing is committed.
func (h *Handler) commit(ctx context.Context, out *fnspec.Response) error {
	entries, err := h.readList(ctx, h.spec.Map)
	if err != nil {
		return err
	}
	staged := make([]map[string]int64, len(h.spec.Outputs))
	for i, n := range h.spec.Outputs {
		prefix, err := h.url(n, fnspec.RunPrefix(n, out.RunID))
		if err != nil {
			return err
		}
		objs, err := storage.DefaultURLMux().List(ctx, prefix)
		if err != nil {
			return storageError(fmt.Errorf("output %q: %w", n, err))
		}
		staged[i] = make(map[string]int64, len(objs))
		for _, o := range objs {
			staged[i][o.Name] = o.Size
		}
	}
	counts := &fnspec.PartCounts{Total: len(entries)}
	out.Parts = counts
	lists := make([][]fnspec.PartEntry, len(h.spec.Outputs))
	missing := fmt.Errorf("run %q staged no output for it: its invocation failed or never ran (see the function's log)", out.RunID)
	for _, e := range entries {
		done := true
		for i := range h.spec.Outputs {
			_, ok := staged[i][e.Key]
			done = done && ok
		}
		if !done {
			counts.AddFailure(e.Key, missing)
			continue
		}
		counts.Ran++
		for i, n := range h.spec.Outputs {
			lists[i] = append(lists[i], fnspec.PartEntry{Key: e.Key, Object: fnspec.RunPartObject(n, out.RunID, e.Key), Size: staged[i][e.Key]})
		}
	}
	if !fnspec.Tolerated(counts.Failed, counts.Total, h.spec.ToleratedFailures) {
		return &Error{Kind: fnspec.KindTaskFailed, Err: fmt.Errorf("%s; nothing was committed", counts.Summary(h.spec.ToleratedFailures))}
	}
	for i, n := range h.spec.Outputs {
		info, err := h.writeList(ctx, n, lists[i])
		if err != nil {
			return err
		}
		out.Outputs[n] = info
	}
	if counts.Failed > 0 {
		h.logf("committed without the parts that failed: %s", counts.Summary(h.spec.ToleratedFailures))
	}
	return nil
}
