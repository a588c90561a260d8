package storage_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
)

// recorder is a storage.Driver that records what the URLMux asks of it and
// fails where told to.
type recorder struct {
	calls []string
	urls  []string
	err   error // returned by every call, if set
}

func (r *recorder) Open(_ context.Context, u *url.URL) (io.ReadCloser, error) {
	r.calls, r.urls = append(r.calls, "open"), append(r.urls, u.String())
	if r.err != nil {
		return nil, r.err
	}
	return io.NopCloser(strings.NewReader("data")), nil
}

func (r *recorder) Stage(_ context.Context, u *url.URL) (storage.Staged, error) {
	r.calls, r.urls = append(r.calls, "stage"), append(r.urls, u.String())
	if r.err != nil {
		return nil, r.err
	}
	return &recordedStaged{r}, nil
}

type recordedStaged struct{ r *recorder }

func (s *recordedStaged) Write(p []byte) (int, error) {
	s.r.calls = append(s.r.calls, "write")
	if s.r.err != nil {
		return 0, s.r.err
	}
	return len(p), nil
}

func (s *recordedStaged) Commit(context.Context) error {
	s.r.calls = append(s.r.calls, "commit")
	return s.r.err
}

func (s *recordedStaged) Discard(context.Context) error {
	s.r.calls = append(s.r.calls, "discard")
	return s.r.err
}

func newMux(t *testing.T) (*storage.URLMux, *recorder) {
	t.Helper()
	r := &recorder{}
	mux := new(storage.URLMux)
	mux.RegisterScheme("rec", r)
	return mux, r
}

func TestRegisterScheme(t *testing.T) {
	mux := new(storage.URLMux)
	assert.Empty(t, mux.Schemes())
	mux.RegisterScheme("b", &recorder{})
	mux.RegisterScheme("A", &recorder{})
	assert.Equal(t, []string{"a", "b"}, mux.Schemes(), "sorted, and compared without regard to case as url.Parse does")
	assert.Panics(t, func() { mux.RegisterScheme("a", &recorder{}) }, "a scheme registered twice")
	assert.Panics(t, func() { mux.RegisterScheme("B", &recorder{}) }, "a scheme registered twice, in other case")
	assert.Panics(t, func() { mux.RegisterScheme("", &recorder{}) })
	assert.Panics(t, func() { mux.RegisterScheme("c", nil) })

	_, r := newMux(t)
	mux.RegisterScheme("rec", r)
	rc, err := mux.Open(t.Context(), "REC://bucket/key")
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, []string{"rec://bucket/key"}, r.urls)
}

func TestUnknownScheme(t *testing.T) {
	mux, _ := newMux(t)
	mux.RegisterScheme("file", &recorder{})
	const u = "nope://bucket/out"
	_, err := mux.Open(t.Context(), u)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `open nope://bucket/out: no storage driver for URL scheme "nope" (registered: file, rec); import the package that registers it`)
	_, err = mux.Stage(t.Context(), u)
	assert.ErrorContains(t, err, `stage nope://bucket/out: no storage driver for URL scheme "nope"`)
	err = mux.Check(u)
	assert.ErrorContains(t, err, `URL "nope://bucket/out": no storage driver for URL scheme "nope"`)
	assert.NoError(t, mux.Check("rec://bucket/key"))
	assert.ErrorContains(t, mux.Check("%zz"), "bad URL")
	assert.ErrorContains(t, mux.Check("rec://b/k#sha256=1"), "bad digest fragment")
	assert.ErrorContains(t, mux.Check("data/orders.csv"), `no storage driver for URL scheme ""`)

	err = storage.URLs{"in": "file:///data/in", "out": u}.Check() // "file" is registered by filestore, imported by another test
	assert.ErrorContains(t, err, `dataset "out": URL "nope://bucket/out": no storage driver for URL scheme "nope"`)
	_, err = storage.URLs{}.Open(t.Context(), "in")
	assert.EqualError(t, err, `dataset "in" has no URL`)
}

// TestStagedLife checks that the URLMux keeps an output to the life the
// Driver contract promises drivers, whatever its caller does.
func TestStagedLife(t *testing.T) {
	const u = "rec://bucket/out"
	stage := func(t *testing.T, ctx context.Context) (storage.Staged, *recorder) {
		mux, r := newMux(t)
		st, err := mux.Stage(ctx, u)
		require.NoError(t, err)
		_, err = st.Write([]byte("x"))
		require.NoError(t, err)
		return st, r
	}
	t.Run("after commit", func(t *testing.T) {
		st, r := stage(t, t.Context())
		require.NoError(t, st.Commit(t.Context()))
		_, err := st.Write([]byte("late"))
		assert.EqualError(t, err, "write rec://bucket/out: the output was already committed")
		assert.EqualError(t, st.Commit(t.Context()), "commit rec://bucket/out: the output was already committed")
		assert.EqualError(t, st.Discard(t.Context()), "discard rec://bucket/out: the output was already committed")
		assert.Equal(t, []string{"stage", "write", "commit"}, r.calls, "the driver sees none of the late calls")
	})
	t.Run("after discard", func(t *testing.T) {
		st, r := stage(t, t.Context())
		require.NoError(t, st.Discard(t.Context()))
		_, err := st.Write([]byte("late"))
		assert.ErrorContains(t, err, "already discarded")
		assert.ErrorContains(t, st.Commit(t.Context()), "already discarded")
		assert.ErrorContains(t, st.Discard(t.Context()), "already discarded")
		assert.Equal(t, []string{"stage", "write", "discard"}, r.calls)
	})
	t.Run("commit context done", func(t *testing.T) {
		st, r := stage(t, t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := st.Commit(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, []string{"stage", "write", "discard"}, r.calls, "the driver is told to drop the output, never to commit it")
	})
	t.Run("stage context done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		st, r := stage(t, ctx)
		cancel()
		err := st.Commit(t.Context())
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorContains(t, err, "commit rec://bucket/out: the context given to Stage is done")
		assert.Equal(t, []string{"stage", "write", "discard"}, r.calls)
	})
}

// TestErrorsNameTheURL checks that every driver error comes back once
// wrapped with the operation and the URL, so drivers need not say either.
func TestErrorsNameTheURL(t *testing.T) {
	boom := errors.New("boom")
	mux, r := newMux(t)
	st, err := mux.Stage(t.Context(), "rec://b/out")
	require.NoError(t, err)
	r.err = boom
	_, err = st.Write([]byte("x"))
	assert.EqualError(t, err, "write rec://b/out: boom")
	assert.ErrorIs(t, err, boom)
	assert.EqualError(t, st.Commit(t.Context()), "commit rec://b/out: boom")

	_, err = mux.Open(t.Context(), "rec://b/in")
	assert.EqualError(t, err, "open rec://b/in: boom")
	_, err = mux.Stage(t.Context(), "rec://user:secret@b/out")
	assert.EqualError(t, err, "stage rec://user:xxxxx@b/out: boom", "a password is not repeated")

	r.err = nil
	st, err = mux.Stage(t.Context(), "rec://b/out")
	require.NoError(t, err)
	r.err = boom
	assert.EqualError(t, st.Discard(t.Context()), "discard rec://b/out: boom")
}

// TestDigestFragment checks that a driver never sees a digest fragment, and
// that an object a digest promises but that is missing is corrupt rather
// than without a version.
func TestDigestFragment(t *testing.T) {
	mux, r := newMux(t)
	u := storage.WithDigest("rec://b/in", sha("data"), 4)
	rc, err := mux.Open(t.Context(), u)
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, "data", string(b))
	assert.Equal(t, []string{"rec://b/in"}, r.urls)

	r.err = storage.ErrNotFound
	_, err = mux.Open(t.Context(), u)
	assert.ErrorIs(t, err, storage.ErrCorrupt)
	assert.NotErrorIs(t, err, storage.ErrNotFound, "the URL promised a version, so the dataset has one")
	assert.ErrorContains(t, err, "open rec://b/in: dataset corrupt: it should hold 4 bytes with SHA-256 "+sha("data")+", but there is no such object")
}
