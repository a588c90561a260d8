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

// BucketURLs is the form of a bucket driver's URLs, scheme://bucket/name:
// the bucket is the host, the name the path without its leading slash,
// percent-decoded. User information, a port, a query and a fragment are
// refused, so a typo never silently names another object.
type BucketURLs struct {
	// Scheme is the driver's scheme, checked by Parse.
	Scheme string
	// Name is what the path names ("key", "object name"). Errors say "the
	// <Name> is missing" and "want <Scheme>://bucket/<its first word>".
	Name string
}

// Split splits u, as the driver receives it from a URLMux. The error says
// what is wrong and the form expected.
func (f BucketURLs) Split(u *url.URL) (bucket, name string, err error) {
	bucket, name, err = f.split(u)
	if err != nil {
		return "", "", fmt.Errorf("bad URL: %w; %s", err, f.want())
	}
	return bucket, name, nil
}

// Parse parses rawURL, checks its scheme and splits it. The error names
// rawURL, says what is wrong and the form expected.
func (f BucketURLs) Parse(rawURL string) (bucket, name string, err error) {
	u, err := url.Parse(rawURL)
	if err == nil && u.Scheme != f.Scheme {
		err = fmt.Errorf("scheme is %q", u.Scheme)
	}
	if err == nil {
		bucket, name, err = f.split(u)
	}
	if err != nil {
		return "", "", fmt.Errorf("bad URL %q: %w; %s", rawURL, err, f.want())
	}
	return bucket, name, nil
}

func (f BucketURLs) want() string {
	word, _, _ := strings.Cut(f.Name, " ")
	return "want " + f.Scheme + "://bucket/" + word
}

func (f BucketURLs) split(u *url.URL) (bucket, name string, err error) {
	name = strings.TrimPrefix(u.Path, "/")
	switch {
	case u.User != nil:
		err = errors.New("it has user information")
	case u.Host == "":
		err = errors.New("the bucket is missing")
	case u.Port() != "":
		err = errors.New("the bucket has a port")
	case name == "":
		err = fmt.Errorf("the %s is missing", f.Name)
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
