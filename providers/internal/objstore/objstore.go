// Package objstore holds what the object-store drivers (s3store,
// gcsstore) do alike, apart from their cloud SDKs: the form of their URLs,
// and the driver each registers for its scheme with wasmrt.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

// SplitURL splits u, a URL of the form scheme://bucket/name, into the bucket
// (the host) and the name (the path without its leading slash,
// percent-decoded). User information, a port, a query and a fragment are
// refused, so a typo never silently names another object. what is what
// the path names ("key", "object name"), for the error when it is empty.
//
// The error says what is wrong with u; the caller adds u and the form it
// expects.
func SplitURL(u, scheme, what string) (bucket, name string, err error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", "", err
	}
	name = strings.TrimPrefix(p.Path, "/")
	switch {
	case p.Scheme != scheme:
		err = fmt.Errorf("scheme is %q", p.Scheme)
	case p.User != nil:
		err = errors.New("it has user information")
	case p.Host == "":
		err = errors.New("the bucket is missing")
	case p.Port() != "":
		err = errors.New("the bucket has a port")
	case name == "":
		err = fmt.Errorf("the %s is missing", what)
	case p.RawQuery != "" || p.ForceQuery:
		err = errors.New("it has a query")
	case p.Fragment != "":
		err = errors.New("it has a fragment")
	}
	if err != nil {
		return "", "", err
	}
	return p.Host, name, nil
}

// Default is the wasmrt.URLDriver a driver package registers for its
// scheme. It delegates to the driver given to Set or, while there is none,
// to one made by New on first use (and made again on the next use if New
// fails). It is safe for concurrent use.
type Default[D interface {
	comparable
	wasmrt.URLDriver
}] struct {
	// New makes the driver used while none is set, typically from the
	// environment.
	New func(context.Context) (D, error)

	mu sync.Mutex
	d  D
}

var _ wasmrt.URLDriver = (*Default[wasmrt.URLDriver])(nil)

// Set makes d the driver; the zero D (a nil pointer) means "make one with
// New on next use".
func (r *Default[D]) Set(d D) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.d = d
}

func (r *Default[D]) get(ctx context.Context) (D, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var none D
	if r.d == none {
		d, err := r.New(ctx)
		if err != nil {
			return none, err
		}
		r.d = d
	}
	return r.d, nil
}

// Open implements wasmrt.URLDriver.Open.
func (r *Default[D]) Open(ctx context.Context, u string) (io.ReadCloser, error) {
	d, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Open(ctx, u)
}

// Stage implements wasmrt.URLDriver.Stage.
func (r *Default[D]) Stage(ctx context.Context, u string) (wasmrt.Staged, error) {
	d, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Stage(ctx, u)
}
