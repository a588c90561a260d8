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

func TestBucketURLs(t *testing.T) {
	form := storage.BucketURLs{Scheme: "x", Name: "thing"}
	for _, tc := range []struct {
		url, bucket, name, wantErr string
	}{
		{"x://b/n", "b", "n", ""},
		{"x://my-bucket/runs/2024/out.csv", "my-bucket", "runs/2024/out.csv", ""},
		{"x://b/with%20space", "b", "with space", ""},
		{"x://b/a%3Fb", "b", "a?b", ""},
		{"y://b/n", "", "", `scheme is "y"`},
		{"b/n", "", "", `scheme is ""`},
		{"x://b", "", "", "the thing is missing"},
		{"x://b/", "", "", "the thing is missing"},
		{"x:///n", "", "", "the bucket is missing"},
		{"x://b:9000/n", "", "", "the bucket has a port"},
		{"x://u@b/n", "", "", "user information"},
		{"x://b/n?v=3", "", "", "query"},
		{"x://b/n?", "", "", "query"},
		{"x://b/n#f", "", "", "fragment"},
		{"x://b/%zz", "", "", "invalid URL escape"},
	} {
		b, n, err := form.Parse(tc.url)
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr, tc.url)
			assert.ErrorContains(t, err, "want x://bucket/thing", tc.url)
			assert.Empty(t, b+n, tc.url)
			continue
		}
		if assert.NoError(t, err, tc.url) {
			assert.Equal(t, tc.bucket, b, tc.url)
			assert.Equal(t, tc.name, n, tc.url)
		}
	}

	// Split is what a driver calls with the URL the mux parsed: the same
	// checks, and the mux names the URL.
	b, n, err := form.Split(&url.URL{Scheme: "x", Host: "b", Path: "/a b"})
	require.NoError(t, err)
	assert.Equal(t, "b/a b", b+"/"+n)
	_, _, err = form.Split(&url.URL{Scheme: "x", Host: "b"})
	assert.EqualError(t, err, "bad URL: the thing is missing; want x://bucket/thing")
}

// namedDriver is a storage.Driver that only says which one it is.
type namedDriver struct{ name string }

func (d *namedDriver) Open(context.Context, *url.URL) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(d.name)), nil
}

func (d *namedDriver) Stage(context.Context, *url.URL) (storage.Staged, error) {
	return nil, errors.New(d.name)
}

func TestLazyDriver(t *testing.T) {
	made := 0
	failing := true
	r := &storage.LazyDriver[*namedDriver]{New: func(context.Context) (*namedDriver, error) {
		made++
		if failing {
			return nil, errors.New("no credentials")
		}
		return &namedDriver{name: "from env"}, nil
	}}
	u := &url.URL{Scheme: "x", Host: "b", Path: "/n"}
	open := func() string {
		t.Helper()
		rc, err := r.Open(t.Context(), u)
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return string(b)
	}

	_, err := r.Open(t.Context(), u)
	require.EqualError(t, err, "no credentials")
	_, err = r.Stage(t.Context(), u)
	require.EqualError(t, err, "no credentials")
	assert.Equal(t, 2, made, "a failed New is tried again on the next use")

	failing = false
	assert.Equal(t, "from env", open())
	_, err = r.Stage(t.Context(), u)
	assert.EqualError(t, err, "from env")
	assert.Equal(t, 3, made, "a driver that was made is kept")

	r.Set(&namedDriver{name: "set"})
	assert.Equal(t, "set", open())
	r.Set(nil)
	assert.Equal(t, "from env", open())
	assert.Equal(t, 4, made, "after Set(nil) a driver is made again")
}
