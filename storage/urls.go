package storage

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
)

// URLs is the Datasets that names each dataset's object by URL and reaches
// it through DefaultURLMux. A Pool worker rebuilds an invocation's Datasets
// this way from the URLs in a Job.
//
//	ds := storage.URLs{
//		"raw_orders":   "file:///data/raw_orders",
//		"clean_orders": "s3://bucket/runs/42/clean_orders",
//	}
type URLs map[string]string

// Open implements Datasets.Open with URLMux.Open.
func (s URLs) Open(ctx context.Context, dataset string) (io.ReadCloser, error) {
	u, err := s.url(dataset)
	if err != nil {
		return nil, err
	}
	return defaultURLMux.Open(ctx, u)
}

// Stage implements Datasets.Stage with URLMux.Stage.
func (s URLs) Stage(ctx context.Context, dataset string) (Staged, error) {
	u, err := s.url(dataset)
	if err != nil {
		return nil, err
	}
	return defaultURLMux.Stage(ctx, u)
}

// Check resolves every URL (see URLMux.Check), so a bad one is reported
// before a task runs.
func (s URLs) Check() error {
	for _, name := range slices.Sorted(maps.Keys(s)) {
		if err := defaultURLMux.Check(s[name]); err != nil {
			return fmt.Errorf("dataset %q: %w", name, err)
		}
	}
	return nil
}

func (s URLs) url(dataset string) (string, error) {
	u, ok := s[dataset]
	if !ok {
		return "", fmt.Errorf("dataset %q has no URL", dataset)
	}
	return u, nil
}
