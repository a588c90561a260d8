package store

import (
	"context"
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
	ok, _, err := s.readJSON(ctx, join(state, LayoutName(pipeline)), &rec)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read the layout of pipeline %q: %w", pipeline, err)
	case !ok:
		return nil, fmt.Errorf("%s holds no pipeline %q: no %s there; check the URL (pulumi stack output state) and that the compiled program was deployed", state, pipeline, LayoutName(pipeline))
	case rec.Pipeline != pipeline:
		return nil, fmt.Errorf("%s names pipeline %q: %w", LayoutName(pipeline), rec.Pipeline, storage.ErrCorrupt)
	}
	return New(mux, Layout{State: state, Datasets: rec.Datasets})
}

// PutLayout writes the record of where this store's datasets live, as a
// deployment does, so that Open finds them from the state's URL.
func (s *Store) PutLayout(ctx context.Context, pipeline string) error {
	if err := checkName("pipeline", pipeline); err != nil {
		return err
	}
	return s.writeRecord(ctx, join(s.layout.State, LayoutName(pipeline)), LayoutRecord{Pipeline: pipeline, Datasets: s.layout.Datasets})
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

// Read opens version v of dataset, checking its digest as it is read.
func (s *Store) Read(ctx context.Context, dataset string, v Version) (io.ReadCloser, error) {
	if !hexDigest.MatchString(v.Digest) {
		return nil, fmt.Errorf("version %q of dataset %q is not a hex SHA-256", v.Digest, dataset)
	}
	return s.mux.Open(ctx, s.ObjectURL(dataset, v))
}
