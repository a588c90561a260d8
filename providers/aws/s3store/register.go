package s3store

import (
	"context"

	"github.com/glacier-pipeline/glacier/storage"
)

// registered serves the "s3" scheme of storage.DefaultURLMux.
var registered = &storage.LazyDriver[*Driver]{
	New: func(ctx context.Context) (*Driver, error) { return NewFromEnv(ctx, nil) },
}

func init() { storage.DefaultURLMux().RegisterScheme(Scheme, registered) }
