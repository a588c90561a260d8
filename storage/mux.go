package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// URLMux hands each URL to the Driver registered for its scheme, and is
// where everything drivers share happens once (see the package
// documentation). The zero URLMux has no schemes; DefaultURLMux is the one
// driver packages register on. It is safe for concurrent use.
type URLMux struct {
	mu      sync.RWMutex
	drivers map[string]Driver
}

var defaultURLMux = new(URLMux)

// DefaultURLMux returns the URLMux that URLs uses. Driver packages register
// their scheme on it when they are imported.
func DefaultURLMux() *URLMux { return defaultURLMux }

// RegisterScheme makes d serve URLs with the given scheme, compared without
// regard to case. It panics if scheme is empty, d is nil, or the scheme is
// already registered, as those are programming errors.
func (m *URLMux) RegisterScheme(scheme string, d Driver) {
	if scheme == "" || d == nil {
		panic("storage: RegisterScheme needs a scheme and a driver")
	}
	scheme = strings.ToLower(scheme)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.drivers[scheme]; dup {
		panic(fmt.Sprintf("storage: RegisterScheme called twice for scheme %q", scheme))
	}
	if m.drivers == nil {
		m.drivers = map[string]Driver{}
	}
	m.drivers[scheme] = d
}

// Schemes returns the registered schemes, sorted.
func (m *URLMux) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Sorted(maps.Keys(m.drivers))
}

// Check resolves rawURL as Open and Stage do, without reaching any
// backend, so a URL that names no driver is reported before it is used.
func (m *URLMux) Check(rawURL string) error {
	if _, _, _, err := m.resolve(rawURL); err != nil {
		return fmt.Errorf("URL %q: %w", rawURL, err)
	}
	return nil
}

// Open returns a stream of the object at rawURL, from the driver of its
// scheme. If rawURL carries a digest (WithDigest), the stream is checked
// against it. If the object does not exist, the error matches ErrNotFound,
// unless rawURL carries a digest: then it matches ErrCorrupt.
func (m *URLMux) Open(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	u, d, want, err := m.resolve(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", rawURL, err)
	}
	name := u.Redacted()
	r, err := d.Open(ctx, u)
	switch {
	case err != nil && want != nil && errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("open %s: %w", name, want.missing(err))
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", name, err)
	case want != nil:
		return want.reader(name, r), nil
	}
	return r, nil
}

// Stage starts writing the object at rawURL through the driver of its
// scheme; see Datasets.Stage. An output's URL may not carry a digest.
func (m *URLMux) Stage(ctx context.Context, rawURL string) (Staged, error) {
	if strings.Contains(rawURL, "#") {
		return nil, fmt.Errorf("stage %s: an output's URL carries a digest; only inputs are checked against one", rawURL)
	}
	u, d, _, err := m.resolve(rawURL)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", rawURL, err)
	}
	name := u.Redacted()
	w, err := d.Stage(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", name, err)
	}
	return &staged{w: w, url: name, ctx: ctx}, nil
}

// resolve parses rawURL and finds its driver.
func (m *URLMux) resolve(rawURL string) (*url.URL, Driver, *digest, error) {
	base, want, err := splitDigest(rawURL)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, nil, nil, fmt.Errorf("bad URL: %w", err)
	}
	m.mu.RLock()
	d, ok := m.drivers[u.Scheme]
	m.mu.RUnlock()
	if !ok {
		return nil, nil, nil, fmt.Errorf("no storage driver for URL scheme %q (registered: %s); import the package that registers it",
			u.Scheme, strings.Join(m.Schemes(), ", "))
	}
	return u, d, want, nil
}

// staged is what URLMux.Stage returns: it keeps a driver's output to the
// life the Driver contract promises.
type staged struct {
	w   Staged
	url string
	ctx context.Context // Stage's; it bounds the output's whole life
	end string          // "committed" or "discarded", once one was called
}

// cleanupTimeout bounds the Discard that drops an output whose Commit was
// refused because a context was done.
const cleanupTimeout = 30 * time.Second

func (s *staged) Write(p []byte) (int, error) {
	if s.end != "" {
		return 0, fmt.Errorf("write %s: the output was already %s", s.url, s.end)
	}
	n, err := s.w.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", s.url, err)
	}
	return n, nil
}

func (s *staged) Commit(ctx context.Context) error {
	if s.end != "" {
		return fmt.Errorf("commit %s: the output was already %s", s.url, s.end)
	}
	s.end = "committed"
	var done error
	if err := context.Cause(s.ctx); err != nil {
		done = fmt.Errorf("the context given to Stage is done: %w", err)
	} else if err := context.Cause(ctx); err != nil {
		done = err
	}
	if done != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = s.w.Discard(dctx) // the output was never visible; this only frees it
		return fmt.Errorf("commit %s: %w", s.url, done)
	}
	if err := s.w.Commit(ctx); err != nil {
		return fmt.Errorf("commit %s: %w", s.url, err)
	}
	return nil
}

func (s *staged) Discard(ctx context.Context) error {
	if s.end != "" {
		return fmt.Errorf("discard %s: the output was already %s", s.url, s.end)
	}
	s.end = "discarded"
	if err := s.w.Discard(ctx); err != nil {
		return fmt.Errorf("discard %s: %w", s.url, err)
	}
	return nil
}
