package gcsstore

import (
	"context"
	"io"
	"sync"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

func init() { wasmrt.RegisterScheme(Scheme, registered) }

// registered is the driver behind the "gs" scheme of wasmrt.URLStorage.
var registered = &defaultDriver{}

// SetDefault makes d serve the "gs" scheme registered with wasmrt. Until it
// is called, or after SetDefault(nil), the scheme is served by a driver
// configured from the environment with NewFromEnv on first use (and again
// on the next use if that fails).
//
// A process normally keeps one configuration for its life, as a Cloud
// Function does; tests that start their own server call SetDefault, and
// must not run in parallel with others that do.
func SetDefault(d *Driver) {
	registered.mu.Lock()
	defer registered.mu.Unlock()
	registered.d = d
}

// defaultDriver is a URLDriver that delegates to an explicitly set Driver
// or to one made from the environment.
type defaultDriver struct {
	mu sync.Mutex
	d  *Driver
}

func (r *defaultDriver) get(ctx context.Context) (*Driver, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.d == nil {
		d, err := NewFromEnv(ctx, nil)
		if err != nil {
			return nil, err
		}
		r.d = d
	}
	return r.d, nil
}

func (r *defaultDriver) Open(ctx context.Context, u string) (io.ReadCloser, error) {
	d, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Open(ctx, u)
}

func (r *defaultDriver) Stage(ctx context.Context, u string) (wasmrt.Staged, error) {
	d, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Stage(ctx, u)
}
