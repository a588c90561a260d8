package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
)

// What the drivers of bucket stores (S3, Cloud Storage) share: the form of
// their URLs, and a driver configured from the environment on first use.

// SplitBucketURL splits u, of the form scheme://bucket/name, into the
// bucket (the host) and the name (the path without its leading slash,
// percent-decoded). User information, a port, a query and a fragment are
// refused, so a typo never silently names another object. what is what the
// path names ("key", "object name"), for the error when it is empty.
//
// The error says what is wrong with u; the caller adds the form it expects.
func SplitBucketURL(u *url.URL, what string) (bucket, name string, err error) {
	name = strings.TrimPrefix(u.Path, "/")
	switch {
	case u.User != nil:
		err = errors.New("it has user information")
	case u.Host == "":
		err = errors.New("the bucket is missing")
	case u.Port() != "":
		err = errors.New("the bucket has a port")
	case name == "":
		err = fmt.Errorf("the %s is missing", what)
	case u.RawQuery != "" || u.ForceQuery:
		err = errors.New("it has a query")
	case u.Fragment != "":
		err = errors.New("it has a fragment")
	}
	if err != nil {
		return "", "", err
	}
	return u.Host, name, nil
}

// ParseBucketURL parses rawURL and splits it with SplitBucketURL, after
// checking that its scheme is scheme.
func ParseBucketURL(rawURL, scheme, what string) (bucket, name string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != scheme {
		return "", "", fmt.Errorf("scheme is %q", u.Scheme)
	}
	return SplitBucketURL(u, what)
}

// LazyDriver is the Driver a driver package registers on DefaultURLMux for
// its scheme. It delegates to the driver given to Set or, while there is
// none, to one made by New on first use (and made again on the next use if
// New fails), so merely importing the package reads no configuration. It is
// safe for concurrent use.
type LazyDriver[D interface {
	comparable
	Driver
}] struct {
	// New makes the driver used while none is set, typically from the
	// environment.
	New func(context.Context) (D, error)

	mu sync.Mutex
	d  D
}

// Set makes d the driver; the zero D (a nil pointer) means "make one with
// New on next use".
func (l *LazyDriver[D]) Set(d D) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.d = d
}

func (l *LazyDriver[D]) get(ctx context.Context) (D, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var none D
	if l.d == none {
		d, err := l.New(ctx)
		if err != nil {
			return none, err
		}
		l.d = d
	}
	return l.d, nil
}

// Open implements Driver.Open.
func (l *LazyDriver[D]) Open(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Open(ctx, u)
}

// Stage implements Driver.Stage.
func (l *LazyDriver[D]) Stage(ctx context.Context, u *url.URL) (Staged, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Stage(ctx, u)
}
