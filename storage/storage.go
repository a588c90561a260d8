package storage

import (
	"context"
	"errors"
	"io"
)

// Datasets is where one invocation's datasets live. The sandbox's host
// functions read declared inputs from it and stage declared outputs into
// it; nothing else reaches the guest.
//
// URLs is the implementation every runtime uses; tests may supply their own.
type Datasets interface {
	// Open returns a stream of the current version of an input dataset.
	// If the dataset has no version, the error must match ErrNotFound.
	Open(ctx context.Context, dataset string) (io.ReadCloser, error)

	// Stage starts a new version of an output dataset. The bytes written to
	// the returned Staged become visible to readers only after Commit; until
	// then no reader can observe them, whole or in part.
	Stage(ctx context.Context, dataset string) (Staged, error)
}

// Staged is an output being written. Exactly one of Commit or Discard is
// called, after the last Write.
type Staged interface {
	io.Writer
	// Commit makes the written bytes the dataset's new version.
	Commit(ctx context.Context) error
	// Discard drops the written bytes; nothing of them stays visible.
	Discard(ctx context.Context) error
}

// ErrNotFound is matched (with errors.Is) by an error from Open (of
// Datasets, URLMux or Driver) when the dataset has no version: there is no
// object at its URL.
var ErrNotFound = errors.New("dataset not found")
