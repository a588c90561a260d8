package storage

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// PartedDatasets is the Datasets of an invocation that also reads or writes
// partitioned datasets, part by part. The host checks keys before it asks
// (see glacier.CheckPartKey), so an implementation may use them in object
// names as they are.
type PartedDatasets interface {
	Datasets
	// PartKeys returns the keys of a partitioned input's current version,
	// sorted. If the input has no version, the error matches ErrNotFound.
	PartKeys(ctx context.Context, dataset string) ([]string, error)
	// OpenPart returns a stream of one part of a partitioned input. If the
	// input has no version, or no part with that key, the error matches
	// ErrNotFound.
	OpenPart(ctx context.Context, dataset, key string) (io.ReadCloser, error)
	// StagePart starts the part with that key of a partitioned output's
	// new version, as Stage starts a whole output.
	StagePart(ctx context.Context, dataset, key string) (Staged, error)
}

// PartedURLs is the PartedDatasets that names objects by URL, as URLs does
// for whole datasets: Parts gives the URL of each part of a partitioned
// input, by key, and Prefixes the URL under which a partitioned output's
// parts are staged (PartURL(prefix, key)).
type PartedURLs struct {
	URLs
	Parts    map[string]map[string]string
	Prefixes map[string]string
}

// PartKeys implements PartedDatasets.
func (s PartedURLs) PartKeys(_ context.Context, dataset string) ([]string, error) {
	parts, ok := s.Parts[dataset]
	if !ok {
		return nil, fmt.Errorf("partitioned dataset %q: %w", dataset, ErrNotFound)
	}
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// OpenPart implements PartedDatasets with URLMux.Open.
func (s PartedURLs) OpenPart(ctx context.Context, dataset, key string) (io.ReadCloser, error) {
	u, ok := s.Parts[dataset][key]
	if !ok {
		return nil, fmt.Errorf("partitioned dataset %q has no part %q: %w", dataset, key, ErrNotFound)
	}
	return defaultURLMux.Open(ctx, u)
}

// StagePart implements PartedDatasets with URLMux.Stage.
func (s PartedURLs) StagePart(ctx context.Context, dataset, key string) (Staged, error) {
	prefix, ok := s.Prefixes[dataset]
	if !ok {
		return nil, fmt.Errorf("partitioned dataset %q has no URL for its parts", dataset)
	}
	return defaultURLMux.Stage(ctx, PartURL(prefix, key))
}

// PartURL returns the URL of the part with key under prefix: the prefix's
// path, then the key's segments each path-escaped (so that no key can add
// a query or fragment to the URL), then the prefix's query, if any.
func PartURL(prefix, key string) string {
	base, query, hasQuery := strings.Cut(prefix, "?")
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.TrimSuffix(base, "/") + "/" + strings.Join(segs, "/")
	if hasQuery {
		u += "?" + query
	}
	return u
}
