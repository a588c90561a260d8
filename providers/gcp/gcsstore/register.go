package gcsstore

import (
	"context"

	"github.com/glacier-pipeline/glacier/providers/internal/objstore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func init() { wasmrt.RegisterScheme(Scheme, registered) }

// registered is the driver behind the "gs" scheme of wasmrt.URLStorage.
var registered = &objstore.Default[*Driver]{
	New: func(ctx context.Context) (*Driver, error) { return NewFromEnv(ctx, nil) },
}

// SetDefault makes d serve the "gs" scheme registered with wasmrt. Until it
// is called, or after SetDefault(nil), the scheme is served by a driver
// configured from the environment with NewFromEnv on first use (and again
// on the next use if that fails).
//
// A process normally keeps one configuration for its life, as a Cloud
// Function does; tests that start their own server call SetDefault, and
// must not run in parallel with others that do.
func SetDefault(d *Driver) { registered.Set(d) }
