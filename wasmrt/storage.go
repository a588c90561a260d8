package wasmrt

import (
	"context"
	"errors"
	"io"
)

// Storage is where one invocation's datasets live. The host functions read
// declared inputs from it and stage declared outputs into it; nothing else
// reaches the guest.
//
// Implementations: the local store (providers/local), S3 (providers/aws/s3store)
// and Cloud Storage (providers/gcp/gcsstore), usually through URLStorage.
type Storage interface {
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

// ErrNotFound is matched (with errors.Is) by errors from Storage.Open and
// URLDriver.Open when the dataset has no version.
var ErrNotFound = errors.New("dataset not found")

// URLDriver opens datasets addressed by URL, one scheme per driver ("file",
// "s3", "gs"). Drivers are registered with RegisterScheme, so a worker process
// can rebuild an invocation's Storage from the URLs in a job.
type URLDriver interface {
	// Open returns a stream of the object at u. If there is none, the error
	// must match ErrNotFound.
	Open(ctx context.Context, u string) (io.ReadCloser, error)
	// Stage starts writing the object at u; see Storage.Stage.
	Stage(ctx context.Context, u string) (Staged, error)
}
