package objstore

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

func TestSplitURL(t *testing.T) {
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
		b, n, err := SplitURL(tc.url, "x", "thing")
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr, tc.url)
			assert.Empty(t, b+n, tc.url)
			continue
		}
		if assert.NoError(t, err, tc.url) {
			assert.Equal(t, tc.bucket, b, tc.url)
			assert.Equal(t, tc.name, n, tc.url)
		}
	}
}

// driver is a wasmrt.URLDriver that only says which one it is.
type driver struct{ name string }

func (d *driver) Open(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(d.name)), nil
}

func (d *driver) Stage(context.Context, string) (wasmrt.Staged, error) {
	return nil, errors.New(d.name)
}

func TestDefault(t *testing.T) {
	made := 0
	failing := true
	r := &Default[*driver]{New: func(context.Context) (*driver, error) {
		made++
		if failing {
			return nil, errors.New("no credentials")
		}
		return &driver{name: "from env"}, nil
	}}
	open := func() string {
		t.Helper()
		rc, err := r.Open(t.Context(), "x://b/n")
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return string(b)
	}

	_, err := r.Open(t.Context(), "x://b/n")
	require.EqualError(t, err, "no credentials")
	_, err = r.Stage(t.Context(), "x://b/n")
	require.EqualError(t, err, "no credentials")
	assert.Equal(t, 2, made, "a failed New is tried again on the next use")

	failing = false
	assert.Equal(t, "from env", open())
	_, err = r.Stage(t.Context(), "x://b/n")
	assert.EqualError(t, err, "from env")
	assert.Equal(t, 3, made, "a driver that was made is kept")

	r.Set(&driver{name: "set"})
	assert.Equal(t, "set", open())
	r.Set(nil)
	assert.Equal(t, "from env", open())
	assert.Equal(t, 4, made, "after Set(nil) a driver is made again")
}
