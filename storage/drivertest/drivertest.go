// Package drivertest is the conformance suite of storage.Driver: every
// driver runs the same tests, against a real backend (a directory, or a
// server speaking the cloud's API on loopback), so they all keep the
// promises of storage.Datasets: a missing object is ErrNotFound and a
// missing bucket is not, nothing is visible before Commit, Discard leaves
// nothing, a digest is checked whatever the scheme; and, for a
// storage.Conditional, that of writers racing for one object exactly one
// commits and the losers leave nothing.
//
// The suite reaches the driver through a storage.URLMux, as every program
// does, so the portable layer is tested with it. A driver's test needs only
// a Harness:
//
//	func TestConformance(t *testing.T) {
//		drivertest.RunConformanceTests(t, drivertest.Harness{
//			Driver: drv,
//			URL:    func(t *testing.T, name string) string { ... },
//			Read:   func(t *testing.T, u string) ([]byte, bool) { ... },
//			Large:  20 << 20,
//		})
//	}
package drivertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/glacier-pipeline/glacier/storage"
)

// Harness gives the suite one driver to test, and a way around it to the
// backend. Subtests share it; each uses URLs of its own.
type Harness struct {
	// Driver is the driver under test.
	Driver storage.Driver

	// URL returns the URL of an object that does not exist yet, unique to t
	// and name, in a location (bucket, directory) that exists. Its scheme is
	// the one the suite registers Driver for.
	URL func(t *testing.T, name string) string

	// Read reads the object at u with the backend's own client, bypassing
	// the driver, so the suite checks what any reader sees. ok is false if
	// the object does not exist; other errors fail t.
	Read func(t *testing.T, u string) (data []byte, ok bool)

	// Large is an output size that takes the driver's chunked path, for
	// example more than two parts of a multipart upload.
	Large int

	// Leftovers, if set, returns what outputs staged at u and then dropped
	// left in the backend (incomplete multipart uploads, temporary files).
	// After Discard or a failed Commit the suite expects none.
	Leftovers func(t *testing.T, u string) []string

	// Put writes data as the object at u with the backend's own client.
	// Only CheckScheme needs it.
	Put func(t *testing.T, u string, data []byte)

	// MissingBucket, if set, returns the URL of an object in a bucket that
	// does not exist, and that bucket's name. Leave it nil for a driver
	// whose URLs name no bucket; the subtest that needs it then skips.
	MissingBucket func(t *testing.T) (u, bucket string)

	// Gaps names subtests the backend cannot pass through no fault of
	// the driver (an emulator that ignores a condition the cloud
	// enforces), each with the reason, which the subtest logs as it
	// skips. A name is a subtest's path below the suite, such as
	// "Conditional/SwapLarge" or "Conditional/Copy/large".
	Gaps map[string]string
}

// RunConformanceTests runs the suite as subtests of t.
func RunConformanceTests(t *testing.T, h Harness) {
	if h.Driver == nil || h.URL == nil || h.Read == nil || h.Large <= 0 {
		t.Fatal("drivertest: Harness needs Driver, URL, Read and a positive Large")
	}
	u, err := url.Parse(h.URL(t, "scheme"))
	if err != nil {
		t.Fatalf("drivertest: Harness.URL: %v", err)
	}
	s := &suite{h: h, mux: new(storage.URLMux)}
	s.mux.RegisterScheme(u.Scheme, h.Driver)
	t.Run("OpenMissing", s.testOpenMissing)
	t.Run("MissingBucket", s.testMissingBucket)
	t.Run("BadURL", s.testBadURL)
	t.Run("CommitThenRead", s.testCommitThenRead)
	t.Run("Large", s.testLarge)
	t.Run("Discard", s.testDiscard)
	t.Run("UncommittedInvisible", s.testUncommittedInvisible)
	t.Run("Overwrite", s.testOverwrite)
	t.Run("LastCommitWins", s.testLastCommitWins)
	t.Run("CommitContextCanceled", s.testCommitContextCanceled)
	t.Run("StageContextCanceled", s.testStageContextCanceled)
	t.Run("FinishTwice", s.testFinishTwice)
	t.Run("ConcurrentStages", s.testConcurrentStages)
	t.Run("Keys", s.testKeys)
	t.Run("ReadWhileReplaced", s.testReadWhileReplaced)
	t.Run("Digest", s.testDigest)
	t.Run("List", s.testList)
	t.Run("Conditional", s.testConditional)
}

// CheckScheme checks that storage.URLs reaches the backend through the
// driver registered on storage.DefaultURLMux for the scheme of h's URLs
// (which a driver package registers when imported; h.Driver is not used):
// it puts data at one URL with h.Put, copies it to another through
// storage.URLs, and reads the copy with h.Read.
func CheckScheme(t *testing.T, h Harness, data string) {
	t.Helper()
	if h.URL == nil || h.Read == nil || h.Put == nil {
		t.Fatal("drivertest: CheckScheme needs a Harness with URL, Read and Put")
	}
	in, out := h.URL(t, "in"), h.URL(t, "out")
	h.Put(t, in, []byte(data))
	ds := storage.URLs{"in": in, "out": out}
	rc, err := ds.Open(t.Context(), "in")
	if err != nil {
		t.Fatalf("URLs.Open(%s): %v", in, err)
	}
	defer rc.Close()
	staged, err := ds.Stage(t.Context(), "out")
	if err != nil {
		t.Fatalf("URLs.Stage(%s): %v", out, err)
	}
	if _, err := io.Copy(staged, rc); err != nil {
		_ = staged.Discard(t.Context())
		t.Fatalf("copying %s to %s: %v", in, out, err)
	}
	if err := staged.Commit(t.Context()); err != nil {
		t.Fatalf("Commit(%s): %v", out, err)
	}
	got, ok := h.Read(t, out)
	if !ok {
		t.Fatalf("%s does not exist after Commit", out)
	}
	if string(got) != data {
		t.Errorf("%s = %q, want %q", out, got, data)
	}
}

type suite struct {
	h   Harness
	mux *storage.URLMux // serves only the driver under test
}

// data returns n pseudo-random bytes, a different stream for each seed.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)}).Read(b) // never fails
	return b
}

// writeChunks writes b to w in uneven chunks, as a task's writes arrive.
func writeChunks(t *testing.T, w io.Writer, b []byte) {
	t.Helper()
	sizes := []int{1, 7919, 65536, 3, 1 << 20, 4093}
	for i := 0; len(b) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(b))
		m, err := w.Write(b[:n])
		if err != nil {
			t.Fatalf("Write(%d bytes): %v", n, err)
		}
		if m != n {
			t.Fatalf("Write(%d bytes) = %d, want %d", n, m, n)
		}
		b = b[n:]
	}
}

// stage stages b at u and returns the staged output, not yet finished.
func (s *suite) stage(t *testing.T, ctx context.Context, u string, b []byte) storage.Staged {
	t.Helper()
	st, err := s.mux.Stage(ctx, u)
	if err != nil {
		t.Fatalf("Stage(%s): %v", u, err)
	}
	writeChunks(t, st, b)
	return st
}

// put stages and commits b at u.
func (s *suite) put(t *testing.T, u string, b []byte) {
	t.Helper()
	st := s.stage(t, t.Context(), u, b)
	if err := st.Commit(t.Context()); err != nil {
		t.Fatalf("Commit(%s): %v", u, err)
	}
}

// open reads u through the driver.
func (s *suite) open(t *testing.T, u string) ([]byte, error) {
	t.Helper()
	rc, err := s.mux.Open(t.Context(), u)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	return b, nil
}

// wantObject checks that both the driver and the backend's client read want
// at u.
func (s *suite) wantObject(t *testing.T, u string, want []byte) {
	t.Helper()
	got, err := s.open(t, u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	sameBytes(t, "Open("+u+")", got, want)
	got, ok := s.h.Read(t, u)
	if !ok {
		t.Fatalf("%s: the backend has no such object", u)
	}
	sameBytes(t, "backend read of "+u, got, want)
}

// wantMissing checks that neither the driver nor the backend's client sees
// an object at u.
func (s *suite) wantMissing(t *testing.T, u string) {
	t.Helper()
	_, err := s.open(t, u)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Open(%s) error = %v, want one matching storage.ErrNotFound", u, err)
	}
	if got, ok := s.h.Read(t, u); ok {
		t.Fatalf("%s: the backend has an object of %d bytes, want none", u, len(got))
	}
}

func (s *suite) wantNoLeftovers(t *testing.T, u string) {
	t.Helper()
	if s.h.Leftovers == nil {
		return
	}
	if l := s.h.Leftovers(t, u); len(l) > 0 {
		t.Fatalf("%s: leftovers after the output was dropped: %q", u, l)
	}
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x); first difference at offset %d",
		what, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want), i)
}

func (s *suite) testOpenMissing(t *testing.T) {
	u := s.h.URL(t, "missing")
	_, err := s.mux.Open(t.Context(), u)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Open(%s) error = %v, want one matching storage.ErrNotFound", u, err)
	}
	if !strings.Contains(err.Error(), u) {
		t.Errorf("Open(%s) error %q does not name the URL", u, err)
	}
}

// testMissingBucket decides what the drivers once disagreed on: a bucket
// that does not exist is a deployment fault, not a dataset without a
// version, so reading from it or writing to it fails with an error that
// does not match ErrNotFound (which would tell a task its input merely has
// no data yet) and that names the bucket beyond quoting the URL.
func (s *suite) testMissingBucket(t *testing.T) {
	if s.h.MissingBucket == nil {
		t.Skip("the driver's URLs name no bucket")
	}
	u, bucket := s.h.MissingBucket(t)
	check := func(op string, err error) {
		t.Helper()
		t.Logf("%s: %v", op, err)
		switch {
		case err == nil:
			t.Errorf("%s(%s) succeeded, want an error for the missing bucket", op, u)
		case errors.Is(err, storage.ErrNotFound):
			t.Errorf("%s(%s) error %q matches storage.ErrNotFound; a missing bucket is a deployment fault", op, u, err)
		case !strings.Contains(err.Error(), u):
			t.Errorf("%s(%s) error %q does not name the URL", op, u, err)
		case !strings.Contains(strings.ReplaceAll(err.Error(), u, ""), bucket):
			t.Errorf("%s(%s) error %q does not name the bucket %q beyond quoting the URL", op, u, err, bucket)
		}
	}
	_, err := s.open(t, u)
	check("Open", err)

	for _, n := range []int{1000, s.h.Large} {
		st, err := s.mux.Stage(t.Context(), u)
		if err == nil {
			if _, err = st.Write(data(50, n)); err != nil {
				_ = st.Discard(t.Context())
			} else {
				err = st.Commit(t.Context())
			}
		}
		check(fmt.Sprintf("Stage, Write %d bytes and Commit", n), err)
	}
	if _, ok := s.h.Driver.(storage.Lister); ok {
		_, err := s.mux.List(t.Context(), u)
		check("List", err)
	}
	if _, ok := s.h.Driver.(storage.Conditional); !ok {
		return
	}
	permanent := func(op string, err error) {
		t.Helper()
		check(op, err)
		if err != nil && !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("%s(%s) error %q does not match storage.ErrPermanent; no retry brings a bucket into being", op, u, err)
		}
	}
	_, err = s.mux.Stat(t.Context(), u)
	permanent("Stat", err)
	for _, gen := range []string{"", "1"} {
		st, err := s.mux.StageIf(t.Context(), u, gen)
		if err == nil {
			if _, err = st.Write(data(51, 1000)); err != nil {
				_ = st.Discard(t.Context())
			} else {
				err = st.Commit(t.Context())
			}
		}
		if errors.Is(err, storage.ErrPrecondition) {
			t.Errorf("StageIf(%s, %q) error %q matches storage.ErrPrecondition; a missing bucket is a deployment fault", u, gen, err)
		}
		permanent(fmt.Sprintf("StageIf(generation %q), Write and Commit", gen), err)
	}
	other := u + "-copy"
	permanent("Copy", s.mux.Copy(t.Context(), other, u))
	permanent("CopyIfAbsent", s.mux.CopyIfAbsent(t.Context(), other, u))
	permanent("Delete", s.mux.Delete(t.Context(), u))
}

// testList lists a prefix holding objects at several depths, beside an
// object whose name merely starts with it, and an output still staged
// under it.
func (s *suite) testList(t *testing.T) {
	if _, ok := s.h.Driver.(storage.Lister); !ok {
		t.Skip("the driver is not a storage.Lister")
	}
	ctx := t.Context()
	u := s.h.URL(t, "list")
	empty, err := s.mux.List(ctx, u)
	if err != nil || len(empty) != 0 {
		t.Fatalf("List(%s) of an empty prefix = %v, %v; want no objects and no error", u, empty, err)
	}
	want := []storage.Object{{Name: "a", Size: 3}, {Name: "b/c", Size: 1}, {Name: "b/d/e", Size: 0}, {Name: "z z", Size: 2}}
	for _, o := range want {
		s.put(t, storage.PartURL(u, o.Name), data(uint64(o.Size), int(o.Size)))
	}
	s.put(t, s.h.URL(t, "listx"), []byte("a name that starts with the prefix"))
	st := s.stage(t, ctx, storage.PartURL(u, "staged"), []byte("not yet"))
	defer st.Discard(ctx)
	got, err := s.mux.List(ctx, u)
	if err != nil {
		t.Fatalf("List(%s): %v", u, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List(%s) = %v, want %v", u, got, want)
	}
}

func (s *suite) testBadURL(t *testing.T) {
	good, err := url.Parse(s.h.URL(t, "object"))
	if err != nil {
		t.Fatalf("harness URL: %v", err)
	}
	mutate := func(f func(u *url.URL)) string {
		u := *good
		f(&u)
		return u.String()
	}
	for _, tc := range []struct{ name, url string }{
		{"other scheme", mutate(func(u *url.URL) { u.Scheme = "nope" })},
		{"no bucket", mutate(func(u *url.URL) { u.Host = "" })},
		{"no key", mutate(func(u *url.URL) { u.Path = "/" })},
		{"query", mutate(func(u *url.URL) { u.RawQuery = "versionId=1" })},
		{"not a URL", "%zz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.url == good.String() {
				t.Skip("the driver's URLs have no such part")
			}
			_, err := s.mux.Open(t.Context(), tc.url)
			if err == nil || errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Open(%q) error = %v, want a bad-URL error", tc.url, err)
			} else if !strings.Contains(err.Error(), tc.url) {
				t.Errorf("Open(%q) error %q does not name the URL", tc.url, err)
			}
			st, err := s.mux.Stage(t.Context(), tc.url)
			if err == nil {
				_ = st.Discard(t.Context())
				t.Errorf("Stage(%q) succeeded, want a bad-URL error", tc.url)
			}
		})
	}
}

func (s *suite) testCommitThenRead(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			u := s.h.URL(t, "out")
			want := data(uint64(n), n)
			s.put(t, u, want)
			s.wantObject(t, u, want)
		})
	}
}

func (s *suite) testLarge(t *testing.T) {
	u := s.h.URL(t, "large")
	want := data(1, s.h.Large)
	s.put(t, u, want)
	s.wantObject(t, u, want)
}

func (s *suite) testDiscard(t *testing.T) {
	for _, n := range []int{0, 1000, s.h.Large} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			u := s.h.URL(t, "dropped")
			st := s.stage(t, t.Context(), u, data(2, n))
			if err := st.Discard(t.Context()); err != nil {
				t.Fatalf("Discard: %v", err)
			}
			s.wantMissing(t, u)
			s.wantNoLeftovers(t, u)
		})
	}
	t.Run("keeps previous version", func(t *testing.T) {
		u := s.h.URL(t, "kept")
		old := data(3, 5000)
		s.put(t, u, old)
		st := s.stage(t, t.Context(), u, data(4, s.h.Large))
		if err := st.Discard(t.Context()); err != nil {
			t.Fatalf("Discard: %v", err)
		}
		s.wantObject(t, u, old)
		s.wantNoLeftovers(t, u)
	})
}

func (s *suite) testUncommittedInvisible(t *testing.T) {
	t.Run("new", func(t *testing.T) {
		u := s.h.URL(t, "pending")
		want := data(5, s.h.Large)
		st := s.stage(t, t.Context(), u, want)
		s.wantMissing(t, u)
		if err := st.Commit(t.Context()); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		s.wantObject(t, u, want)
	})
	t.Run("replacing", func(t *testing.T) {
		u := s.h.URL(t, "pending")
		old, want := data(6, 3000), data(7, s.h.Large)
		s.put(t, u, old)
		st := s.stage(t, t.Context(), u, want)
		s.wantObject(t, u, old)
		if err := st.Commit(t.Context()); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		s.wantObject(t, u, want)
	})
}

func (s *suite) testOverwrite(t *testing.T) {
	u := s.h.URL(t, "twice")
	// Shorter after longer: no tail of the first version may survive.
	for i, n := range []int{s.h.Large, 10, 2000} {
		want := data(uint64(10+i), n)
		s.put(t, u, want)
		s.wantObject(t, u, want)
	}
}

func (s *suite) testLastCommitWins(t *testing.T) {
	u := s.h.URL(t, "raced")
	a, b := data(20, 4000), data(21, 6000)
	sa := s.stage(t, t.Context(), u, a)
	sb := s.stage(t, t.Context(), u, b)
	if err := sa.Commit(t.Context()); err != nil {
		t.Fatalf("Commit a: %v", err)
	}
	s.wantObject(t, u, a)
	if err := sb.Commit(t.Context()); err != nil {
		t.Fatalf("Commit b: %v", err)
	}
	s.wantObject(t, u, b)
}

func (s *suite) testCommitContextCanceled(t *testing.T) {
	for _, n := range []int{100, s.h.Large} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			u := s.h.URL(t, "canceled")
			st := s.stage(t, t.Context(), u, data(30, n))
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := st.Commit(ctx); err == nil {
				t.Fatal("Commit with a canceled context succeeded, want an error")
			}
			s.wantMissing(t, u)
			s.wantNoLeftovers(t, u)
		})
	}
}

func (s *suite) testStageContextCanceled(t *testing.T) {
	u := s.h.URL(t, "canceled")
	ctx, cancel := context.WithCancel(t.Context())
	st := s.stage(t, ctx, u, data(31, 100))
	cancel()
	if err := st.Commit(t.Context()); err == nil {
		t.Fatal("Commit after the Stage context was canceled succeeded, want an error")
	}
	s.wantMissing(t, u)
	s.wantNoLeftovers(t, u)
}

func (s *suite) testFinishTwice(t *testing.T) {
	u := s.h.URL(t, "done")
	want := data(40, 10)
	st := s.stage(t, t.Context(), u, want)
	if err := st.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := st.Write([]byte("more")); err == nil {
		t.Error("Write after Commit succeeded, want an error")
	}
	if err := st.Commit(t.Context()); err == nil {
		t.Error("second Commit succeeded, want an error")
	}
	if err := st.Discard(t.Context()); err == nil {
		t.Error("Discard after Commit succeeded, want an error")
	}
	s.wantObject(t, u, want)
}

func (s *suite) testConcurrentStages(t *testing.T) {
	const n = 8
	size := max(s.h.Large/4, 1)
	urls := make([]string, n)
	for i := range urls {
		urls[i] = s.h.URL(t, fmt.Sprintf("parallel-%d", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			st, err := s.mux.Stage(t.Context(), urls[i])
			if err != nil {
				errs[i] = err
				return
			}
			b := data(uint64(100+i), size)
			for len(b) > 0 {
				k := min(len(b), 1<<20)
				if _, err := st.Write(b[:k]); err != nil {
					errs[i] = err
					_ = st.Discard(t.Context())
					return
				}
				b = b[k:]
			}
			errs[i] = st.Commit(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
	}
	for i, u := range urls {
		s.wantObject(t, u, data(uint64(100+i), size))
	}
}

// testKeys writes objects whose names need escaping in a URL, and checks
// that each reaches the backend under its own name.
func (s *suite) testKeys(t *testing.T) {
	base, err := url.Parse(s.h.URL(t, "keys"))
	if err != nil {
		t.Fatalf("harness URL: %v", err)
	}
	names := []string{"with space", "percent%20sign", "question?mark", "hash#mark", "plus+and=equals", "ünïcödé", "semi;colon,comma", "a/b/c"}
	for i, name := range names {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			u := *base
			u.Path += "/" + name
			want := []byte(name)
			s.put(t, u.String(), want)
			s.wantObject(t, u.String(), want)
		})
	}
	// Each name reached an object of its own: none overwrote another.
	for _, name := range names {
		u := *base
		u.Path += "/" + name
		s.wantObject(t, u.String(), []byte(name))
	}
}

// testReadWhileReplaced commits a new version while a reader is half-way
// through the old one: the reader gets the old version whole, as a task
// reading an input that another run replaces must.
func (s *suite) testReadWhileReplaced(t *testing.T) {
	u := s.h.URL(t, "replaced")
	old, next := data(60, 3<<20), data(61, 3<<20)
	s.put(t, u, old)
	rc, err := s.mux.Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	defer rc.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	s.put(t, u, next)
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s after it was replaced: %v", u, err)
	}
	sameBytes(t, "a read begun before the replacement", append(head, rest...), old)
	s.wantObject(t, u, next)
}

// testDigest reads objects through URLs that carry the digest they must
// have (storage.WithDigest): the portable layer checks it over every
// driver's stream.
func (s *suite) testDigest(t *testing.T) {
	want := data(70, 100000)
	sum := sha256.Sum256(want)
	good := hex.EncodeToString(sum[:])
	read := func(u string) ([]byte, error) {
		rc, err := s.mux.Open(t.Context(), u)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		return b, err
	}
	t.Run("intact", func(t *testing.T) {
		u := s.h.URL(t, "intact")
		s.put(t, u, want)
		got, err := read(storage.WithDigest(u, good, int64(len(want))))
		if err != nil {
			t.Fatalf("reading %s with its digest: %v", u, err)
		}
		sameBytes(t, "a read with the digest", got, want)
	})
	t.Run("changed", func(t *testing.T) {
		u := s.h.URL(t, "changed")
		s.put(t, u, data(71, len(want)))
		_, err := read(storage.WithDigest(u, good, int64(len(want))))
		if !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("reading %s with another object's digest: error = %v, want one matching storage.ErrCorrupt", u, err)
		}
	})
	t.Run("closed early", func(t *testing.T) {
		u := s.h.URL(t, "early")
		s.put(t, u, append(append([]byte{}, want[:len(want)-1]...), want[len(want)-1]+1))
		rc, err := s.mux.Open(t.Context(), storage.WithDigest(u, good, int64(len(want))))
		if err != nil {
			t.Fatalf("Open(%s): %v", u, err)
		}
		if _, err := rc.Read(make([]byte, 10)); err != nil {
			t.Fatalf("reading %s: %v", u, err)
		}
		if err := rc.Close(); !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("closing %s early, its last byte changed: error = %v, want one matching storage.ErrCorrupt", u, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		u := s.h.URL(t, "missing")
		_, err := s.mux.Open(t.Context(), storage.WithDigest(u, good, int64(len(want))))
		if !errors.Is(err, storage.ErrCorrupt) || errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Open(%s) with a digest, no object: error = %v, want one matching storage.ErrCorrupt and not storage.ErrNotFound", u, err)
		}
	})
}

// gap skips t if the harness says the backend cannot pass it.
func (s *suite) gap(t *testing.T) {
	t.Helper()
	name := t.Name()
	for k, why := range s.h.Gaps {
		if strings.HasSuffix(name, "/"+k) {
			t.Skipf("the backend cannot pass this: %s", why)
		}
	}
}

// testConditional checks storage.Conditional: the conditional writes a
// store commits with, and what it needs beside them.
func (s *suite) testConditional(t *testing.T) {
	if _, ok := s.h.Driver.(storage.Conditional); !ok {
		t.Skip("the driver is not a storage.Conditional")
	}
	for _, tc := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"Stat", s.testStat},
		{"CreateOnly", s.testCreateOnly},
		{"CreateOnlyLarge", s.testCreateOnlyLarge},
		{"CreateOnlyRace", s.testCreateOnlyRace},
		{"Swap", s.testSwap},
		{"SwapLarge", s.testSwapLarge},
		{"SwapRace", s.testSwapRace},
		{"LostCommitContextCanceled", s.testLostCanceled},
		{"Copy", s.testCopy},
		{"CopyIfAbsent", s.testCopyIfAbsent},
		{"Delete", s.testDelete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.gap(t)
			tc.f(t)
		})
	}
}

// stat returns u's attributes through the driver, failing t on error.
func (s *suite) stat(t *testing.T, u string) storage.Attrs {
	t.Helper()
	a, err := s.mux.Stat(t.Context(), u)
	if err != nil {
		t.Fatalf("Stat(%s): %v", u, err)
	}
	return a
}

// putIf stages b at u under generation and commits it, returning
// Commit's error; a failure before Commit fails t.
func (s *suite) putIf(t *testing.T, u, generation string, b []byte) error {
	t.Helper()
	st, err := s.mux.StageIf(t.Context(), u, generation)
	if err != nil {
		t.Fatalf("StageIf(%s, %q): %v", u, generation, err)
	}
	writeChunks(t, st, b)
	return st.Commit(t.Context())
}

// wantLost checks that err is a lost precondition, which names u.
func wantLost(t *testing.T, what, u string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("%s at %s: error = %v, want one matching storage.ErrPrecondition", what, u, err)
	}
	if errors.Is(err, storage.ErrPermanent) {
		t.Errorf("%s at %s: error %q matches storage.ErrPermanent; a lost precondition is not a deployment fault", what, u, err)
	}
	if !strings.Contains(err.Error(), u) {
		t.Errorf("%s at %s: error %q does not name the URL", what, u, err)
	}
}

func (s *suite) testStat(t *testing.T) {
	u := s.h.URL(t, "stat")
	_, err := s.mux.Stat(t.Context(), u)
	if !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), u) {
		t.Fatalf("Stat(%s) of a missing object: error = %v, want one matching storage.ErrNotFound that names the URL", u, err)
	}
	seen := map[string]int{}
	for i, n := range []int{0, 1000, 1001, s.h.Large} {
		s.put(t, u, data(uint64(80+i), n))
		a := s.stat(t, u)
		if a.Size != int64(n) {
			t.Errorf("write %d: Stat(%s).Size = %d, want %d", i, u, a.Size, n)
		}
		if a.Generation == "" {
			t.Fatalf("write %d: Stat(%s).Generation is empty", i, u)
		}
		if j, dup := seen[a.Generation]; dup {
			t.Errorf("writes %d and %d of %s, of different bytes, have the same generation %q", j, i, u, a.Generation)
		}
		seen[a.Generation] = i
		if again := s.stat(t, u); again != a {
			t.Errorf("Stat(%s) changed with no write: %+v, then %+v", u, a, again)
		}
	}
}

func (s *suite) testCreateOnly(t *testing.T) {
	u := s.h.URL(t, "once")
	first := data(81, 3000)
	if err := s.putIf(t, u, "", first); err != nil {
		t.Fatalf("StageIf(%s, \"\") of a missing object, Commit: %v", u, err)
	}
	s.wantObject(t, u, first)
	gen := s.stat(t, u).Generation
	err := s.putIf(t, u, "", data(82, 5000))
	wantLost(t, "a second create-only write", u, err)
	s.wantObject(t, u, first)
	s.wantNoLeftovers(t, u)
	if g := s.stat(t, u).Generation; g != gen {
		t.Errorf("a lost write changed the generation of %s from %q to %q", u, gen, g)
	}
}

// testCreateOnlyLarge loses a create-only write that took the driver's
// chunked path (a multipart upload): nothing of it may stay.
func (s *suite) testCreateOnlyLarge(t *testing.T) {
	u := s.h.URL(t, "once-large")
	first := data(83, 1000)
	s.put(t, u, first)
	err := s.putIf(t, u, "", data(84, s.h.Large))
	wantLost(t, "a large create-only write over an existing object", u, err)
	s.wantObject(t, u, first)
	s.wantNoLeftovers(t, u)

	fresh := s.h.URL(t, "fresh-large")
	want := data(85, s.h.Large)
	if err := s.putIf(t, fresh, "", want); err != nil {
		t.Fatalf("a large create-only write of a missing object: %v", err)
	}
	s.wantObject(t, fresh, want)
}

// raceN is how many writers race for one object.
const raceN = 8

// commitAll commits every output at once, from its own goroutine, and
// returns their errors.
func commitAll(t *testing.T, staged []storage.Staged) []error {
	errs := make([]error, len(staged))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, st := range staged {
		wg.Go(func() {
			<-start
			errs[i] = st.Commit(t.Context())
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winner checks that exactly one of errs is nil and the rest lost, and
// returns the winner's index.
func winner(t *testing.T, u string, errs []error) int {
	t.Helper()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("%s: writers %d and %d both committed; want exactly one", u, won, i)
		case err == nil:
			won = i
		default:
			wantLost(t, fmt.Sprintf("writer %d", i), u, err)
		}
	}
	if won < 0 {
		t.Fatalf("%s: no writer committed; want exactly one", u)
	}
	return won
}

// testCreateOnlyRace: writers race to create one object. Exactly one
// wins, the others are told they lost, and every reader sees the winner's
// bytes.
func (s *suite) testCreateOnlyRace(t *testing.T) {
	u := s.h.URL(t, "contended")
	outs := make([][]byte, raceN)
	staged := make([]storage.Staged, raceN)
	for i := range raceN {
		outs[i] = data(uint64(200+i), 2000+i)
		st, err := s.mux.StageIf(t.Context(), u, "")
		if err != nil {
			t.Fatalf("StageIf(%s, \"\"): %v", u, err)
		}
		writeChunks(t, st, outs[i])
		staged[i] = st
	}
	won := winner(t, u, commitAll(t, staged))
	s.wantObject(t, u, outs[won])
	s.wantNoLeftovers(t, u)
}

func (s *suite) testSwap(t *testing.T) {
	u := s.h.URL(t, "cas")
	a, b, c := data(90, 1500), data(91, 2500), data(92, 3500)
	s.put(t, u, a)
	genA := s.stat(t, u).Generation
	if err := s.putIf(t, u, genA, b); err != nil {
		t.Fatalf("StageIf(%s, its current generation), Commit: %v", u, err)
	}
	s.wantObject(t, u, b)
	genB := s.stat(t, u).Generation

	wantLost(t, "a write from a stale generation", u, s.putIf(t, u, genA, c))
	s.wantObject(t, u, b)
	wantLost(t, "a write from a made-up generation", u, s.putIf(t, u, "1234", c))
	s.wantObject(t, u, b)
	s.wantNoLeftovers(t, u)
	if err := s.putIf(t, u, genB, c); err != nil {
		t.Fatalf("StageIf(%s, its current generation) after lost writes, Commit: %v", u, err)
	}
	s.wantObject(t, u, c)

	gone := s.h.URL(t, "gone")
	s.put(t, gone, a)
	genGone := s.stat(t, gone).Generation
	if err := s.mux.Delete(t.Context(), gone); err != nil {
		t.Fatalf("Delete(%s): %v", gone, err)
	}
	wantLost(t, "a write from the generation of a deleted object", gone, s.putIf(t, gone, genGone, c))
	s.wantMissing(t, gone)
	s.wantNoLeftovers(t, gone)
}

// testSwapLarge loses and wins compare-and-swap writes that took the
// driver's chunked path.
func (s *suite) testSwapLarge(t *testing.T) {
	u := s.h.URL(t, "cas-large")
	a, a2, b := data(93, 1000), data(193, 1000), data(94, s.h.Large)
	s.put(t, u, a)
	genA := s.stat(t, u).Generation
	s.put(t, u, a2)
	wantLost(t, "a large write from a stale generation", u, s.putIf(t, u, genA, b))
	s.wantObject(t, u, a2)
	s.wantNoLeftovers(t, u)
	if err := s.putIf(t, u, s.stat(t, u).Generation, b); err != nil {
		t.Fatalf("a large write from the current generation: %v", err)
	}
	s.wantObject(t, u, b)
}

// testSwapRace: in each round every writer reads the object's generation,
// then all write from it at once. Exactly one wins each round, and the
// next round starts from its bytes.
func (s *suite) testSwapRace(t *testing.T) {
	u := s.h.URL(t, "contended")
	s.put(t, u, data(300, 100))
	for round := range 4 {
		gen := s.stat(t, u).Generation
		outs := make([][]byte, raceN)
		staged := make([]storage.Staged, raceN)
		for i := range raceN {
			outs[i] = data(uint64(400+10*round+i), 1000+i)
			st, err := s.mux.StageIf(t.Context(), u, gen)
			if err != nil {
				t.Fatalf("StageIf(%s, %q): %v", u, gen, err)
			}
			writeChunks(t, st, outs[i])
			staged[i] = st
		}
		won := winner(t, u, commitAll(t, staged))
		s.wantObject(t, u, outs[won])
		if g := s.stat(t, u).Generation; g == gen {
			t.Fatalf("round %d: %s kept generation %q through a write", round, u, g)
		}
	}
	s.wantNoLeftovers(t, u)
}

// testLostCanceled: a conditional output whose Commit is refused because
// its context is done leaves nothing, as an unconditional one does.
func (s *suite) testLostCanceled(t *testing.T) {
	u := s.h.URL(t, "canceled")
	st, err := s.mux.StageIf(t.Context(), u, "")
	if err != nil {
		t.Fatalf("StageIf(%s): %v", u, err)
	}
	writeChunks(t, st, data(95, s.h.Large))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.Commit(ctx); err == nil || errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("Commit with a canceled context: error = %v, want a cancellation", err)
	}
	s.wantMissing(t, u)
	s.wantNoLeftovers(t, u)
}

func (s *suite) testCopy(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
	}{{"empty", 0}, {"small", 1000}, {"large", s.h.Large}} {
		n := tc.n
		t.Run(tc.name, func(t *testing.T) {
			s.gap(t)
			src, dst := s.h.URL(t, "src"), s.h.URL(t, "dst")
			want := data(uint64(500+n), n)
			s.put(t, src, want)
			s.put(t, dst, data(96, 10))
			if err := s.mux.Copy(t.Context(), dst, src); err != nil {
				t.Fatalf("Copy(%s, %s): %v", dst, src, err)
			}
			s.wantObject(t, dst, want)
			s.wantObject(t, src, want)
			if a := s.stat(t, dst); a.Size != int64(n) {
				t.Errorf("Stat(%s).Size = %d after the copy, want %d", dst, a.Size, n)
			}
		})
	}
	t.Run("missing source", func(t *testing.T) {
		src, dst := s.h.URL(t, "src"), s.h.URL(t, "dst")
		err := s.mux.Copy(t.Context(), dst, src)
		if !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), src) {
			t.Fatalf("Copy from a missing %s: error = %v, want one matching storage.ErrNotFound that names it", src, err)
		}
		s.wantMissing(t, dst)
	})
}

func (s *suite) testCopyIfAbsent(t *testing.T) {
	src, dst := s.h.URL(t, "src"), s.h.URL(t, "dst")
	want := data(97, 4000)
	s.put(t, src, want)
	if err := s.mux.CopyIfAbsent(t.Context(), dst, src); err != nil {
		t.Fatalf("CopyIfAbsent(%s, %s) to a missing object: %v", dst, src, err)
	}
	s.wantObject(t, dst, want)
	gen := s.stat(t, dst).Generation

	s.put(t, src, data(98, 4000))
	err := s.mux.CopyIfAbsent(t.Context(), dst, src)
	wantLost(t, "CopyIfAbsent to an existing object", dst, err)
	s.wantObject(t, dst, want)
	if g := s.stat(t, dst).Generation; g != gen {
		t.Errorf("a lost copy changed the generation of %s from %q to %q", dst, gen, g)
	}
}

func (s *suite) testDelete(t *testing.T) {
	u := s.h.URL(t, "deleted")
	s.put(t, u, data(99, 1234))
	if err := s.mux.Delete(t.Context(), u); err != nil {
		t.Fatalf("Delete(%s): %v", u, err)
	}
	s.wantMissing(t, u)
	_, err := s.mux.Stat(t.Context(), u)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat(%s) after Delete: error = %v, want one matching storage.ErrNotFound", u, err)
	}
	if err := s.mux.Delete(t.Context(), u); err != nil {
		t.Fatalf("Delete(%s) of a missing object: %v, want no error", u, err)
	}
	// A deleted object can be created again, create-only.
	want := data(100, 10)
	if err := s.putIf(t, u, "", want); err != nil {
		t.Fatalf("create-only write after Delete: %v", err)
	}
	s.wantObject(t, u, want)
}
