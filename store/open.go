package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
)

// LayoutRecord is where a deployed pipeline's datasets live: each one's
// root (its bucket), as LayoutName holds it.
type LayoutRecord struct {
	Pipeline string            `json:"pipeline"`
	Datasets map[string]string `json:"datasets"`
	// Modules are the deployed tasks' modules' digests, by task: a run
	// that pushes its results here must have run the same ones.
	Modules map[string]string `json:"modules,omitempty"`
}

// Open returns the store of pipeline whose state is at the URL state, its
// datasets where the deployment's layout record says, reached through mux
// (nil means storage.DefaultURLMux()).
func Open(ctx context.Context, mux *storage.URLMux, state, pipeline string) (*Store, error) {
	if err := checkName("pipeline", pipeline); err != nil {
		return nil, err
	}
	s, err := New(mux, Layout{State: state})
	if err != nil {
		return nil, err
	}
	var rec LayoutRecord
	ok, err := s.readJSON(ctx, join(state, LayoutName(pipeline)), &rec)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read the layout of pipeline %q: %w", pipeline, err)
	case !ok:
		return nil, fmt.Errorf("%s holds no pipeline %q: no %s there; check the URL (pulumi stack output state) and that the compiled program was deployed, or, for a checkout's .glacier, that glacier run has run there", state, pipeline, LayoutName(pipeline))
	case rec.Pipeline != pipeline:
		return nil, fmt.Errorf("%s names pipeline %q: %w", LayoutName(pipeline), rec.Pipeline, storage.ErrCorrupt)
	}
	s, err = New(mux, Layout{State: state, Datasets: rec.Datasets})
	if err != nil {
		return nil, err
	}
	s.modules = rec.Modules
	return s, nil
}

// Modules returns the deployed tasks' modules' digests, by task, as the
// layout record Open read names them; nil for a store made with New.
func (s *Store) Modules() map[string]string { return s.modules }

// PutLayout writes the record of where this store's datasets live, as a
// deployment does, so that Open finds them from the state's URL.
func (s *Store) PutLayout(ctx context.Context, pipeline string, modules map[string]string) error {
	if err := checkName("pipeline", pipeline); err != nil {
		return err
	}
	return s.writeRecord(ctx, join(s.layout.State, LayoutName(pipeline)),
		LayoutRecord{Pipeline: pipeline, Datasets: s.layout.Datasets, Modules: modules})
}

// PutObject makes the bytes r yields, which must be v, a version of
// dataset: staged under runID's task, checked as they are written, and
// adopted. A version the store has already is not written again.
func (s *Store) PutObject(ctx context.Context, runID, task, dataset string, v Version, r io.Reader) error {
	if has, err := s.Has(ctx, dataset, v); err != nil || has {
		return err
	}
	u := s.StagingURL(runID, task, dataset)
	w, err := s.mux.Stage(ctx, u)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), r)
	if err == nil && (n != v.Size || hex.EncodeToString(h.Sum(nil)) != v.Digest) {
		err = fmt.Errorf("%d bytes with sha256 %x, not version %s of dataset %q (%d bytes): %w", n, h.Sum(nil), v.Digest, dataset, v.Size, storage.ErrCorrupt)
	}
	if err != nil {
		_ = w.Discard(ctx)
		return err
	}
	if err := w.Commit(ctx); err != nil {
		return err
	}
	return s.Adopt(ctx, dataset, u, v)
}

// Runs returns the IDs of the runs the store has records of, newest
// first (run IDs sort by start time).
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	objs, err := s.mux.List(ctx, join(s.layout.State, "runs"))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, o := range objs {
		id, _, ok := strings.Cut(o.Name, "/")
		if ok && fnspec.CheckRunID(id) == nil && (len(ids) == 0 || ids[len(ids)-1] != id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Reverse(ids)
	return ids, nil
}

// Memos returns every memo entry of task.
func (s *Store) Memos(ctx context.Context, task string) ([]MemoEntry, error) {
	if err := checkName("task", task); err != nil {
		return nil, err
	}
	objs, err := s.mux.List(ctx, join(s.layout.State, strings.TrimSuffix(MemoPrefix(task), "/")))
	if err != nil {
		return nil, err
	}
	var out []MemoEntry
	for _, o := range objs {
		key, ok := strings.CutSuffix(o.Name, ".json")
		if !ok || !hexDigest.MatchString(key) {
			continue
		}
		e, found, err := s.Memo(ctx, task, key)
		if errors.Is(err, storage.ErrCorrupt) {
			continue // a miss to a lookup too; one entry must not hide the rest
		}
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, e)
		}
	}
	return out, nil
}

// Read opens version v of dataset, checking its digest as it is read.
func (s *Store) Read(ctx context.Context, dataset string, v Version) (io.ReadCloser, error) {
	if !hexDigest.MatchString(v.Digest) {
		return nil, fmt.Errorf("version %q of dataset %q is not a hex SHA-256", v.Digest, dataset)
	}
	return s.mux.Open(ctx, s.ObjectURL(dataset, v))
}
