package wasmrt

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// URLStorage is a Storage that maps each dataset name to the URL of its
// object and hands every call to the URLDriver registered for the URL's
// scheme. A Pool worker rebuilds an invocation's Storage this way from a Job.
//
//	st := wasmrt.URLStorage{
//		"raw_orders":   "file:///data/raw_orders",
//		"clean_orders": "s3://bucket/runs/42/clean_orders",
//	}
type URLStorage map[string]string

var (
	schemesMu sync.RWMutex
	schemes   = map[string]URLDriver{}
)

// RegisterScheme makes d serve URLs with the given scheme ("s3", "gs").
// Driver packages call it from init. It panics if scheme is empty, d is nil,
// or the scheme is already registered, as those are programming errors.
// The "file" scheme is built in.
func RegisterScheme(scheme string, d URLDriver) {
	if scheme == "" || d == nil {
		panic("wasmrt: RegisterScheme needs a scheme and a driver")
	}
	schemesMu.Lock()
	defer schemesMu.Unlock()
	if _, dup := schemes[scheme]; dup {
		panic(fmt.Sprintf("wasmrt: RegisterScheme called twice for scheme %q", scheme))
	}
	schemes[scheme] = d
}

func init() { RegisterScheme("file", fileDriver{}) }

// Open implements Storage.Open. A URL made by WithDigest is opened without
// its fragment and read through a check of its digest.
func (s URLStorage) Open(ctx context.Context, dataset string) (io.ReadCloser, error) {
	u, d, err := s.resolve(dataset)
	if err != nil {
		return nil, err
	}
	u, want, err := splitDigest(u)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", dataset, err)
	}
	r, err := d.Open(ctx, u)
	if err != nil || want == nil {
		return r, err
	}
	return want.reader(u, r), nil
}

// Stage implements Storage.Stage.
func (s URLStorage) Stage(ctx context.Context, dataset string) (Staged, error) {
	u, d, err := s.resolve(dataset)
	if err != nil {
		return nil, err
	}
	if strings.Contains(u, "#") {
		return nil, fmt.Errorf("dataset %q: an output's URL %q carries a digest; only inputs are checked against one", dataset, u)
	}
	return d.Stage(ctx, u)
}

// check resolves every URL, so a bad one is reported before a task runs.
func (s URLStorage) check() error {
	for _, name := range sortedKeys(s) {
		if _, _, err := s.resolve(name); err != nil {
			return err
		}
	}
	return nil
}

func (s URLStorage) resolve(dataset string) (string, URLDriver, error) {
	raw, ok := s[dataset]
	if !ok {
		return "", nil, fmt.Errorf("dataset %q has no URL", dataset)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("dataset %q: bad URL: %w", dataset, err)
	}
	schemesMu.RLock()
	d, ok := schemes[u.Scheme]
	var known []string
	if !ok {
		for k := range schemes {
			known = append(known, k)
		}
	}
	schemesMu.RUnlock()
	if !ok {
		sort.Strings(known)
		return "", nil, fmt.Errorf("dataset %q: no storage driver for URL scheme %q in %q (registered: %s); import the package that registers it",
			dataset, u.Scheme, raw, strings.Join(known, ", "))
	}
	return raw, d, nil
}
