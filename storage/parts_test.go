package storage_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
)

func TestPartURL(t *testing.T) {
	for _, tt := range []struct{ prefix, key, want string }{
		{"s3://b/runs/out", "2026/12/01.log", "s3://b/runs/out/2026/12/01.log"},
		{"s3://b/runs/out/", "a b#c?d%e", "s3://b/runs/out/a%20b%23c%3Fd%25e"},
		{"file:///tmp/out?sync=false", "x/y", "file:///tmp/out/x/y?sync=false"},
	} {
		got := storage.PartURL(tt.prefix, tt.key)
		assert.Equal(t, tt.want, got)
		u, err := url.Parse(got)
		require.NoError(t, err)
		assert.Empty(t, u.Fragment, "a key never makes a fragment")
	}
}

// TestPartedURLs stages parts under a prefix with the file driver and
// reads them back by key.
func TestPartedURLs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	out := storage.PartedURLs{Prefixes: map[string]string{"out": filestore.URL(filepath.Join(dir, "out"))}}
	for _, key := range []string{"b/2.txt", "a b#1.txt"} {
		st, err := out.StagePart(ctx, "out", key)
		require.NoError(t, err)
		_, err = io.WriteString(st, key)
		require.NoError(t, err)
		require.NoError(t, st.Commit(ctx))
	}
	in := storage.PartedURLs{Parts: map[string]map[string]string{"in": {
		"b/2.txt":   filestore.URL(filepath.Join(dir, "out", "b", "2.txt")),
		"a b#1.txt": filestore.URL(filepath.Join(dir, "out", "a b#1.txt")),
	}}}
	keys, err := in.PartKeys(ctx, "in")
	require.NoError(t, err)
	assert.Equal(t, []string{"a b#1.txt", "b/2.txt"}, keys)
	for _, key := range keys {
		r, err := in.OpenPart(ctx, "in", key)
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		assert.Equal(t, key, string(b))
	}
	_, err = in.OpenPart(ctx, "in", "c")
	assert.True(t, errors.Is(err, storage.ErrNotFound), "%v", err)
	_, err = in.PartKeys(ctx, "other")
	assert.True(t, errors.Is(err, storage.ErrNotFound), "%v", err)
}

func TestSiblingURL(t *testing.T) {
	for _, tt := range []struct{ u, name, want string }{
		{"s3://b/logs", "logs.source/2026/01 a.log", "s3://b/logs.source/2026/01%20a.log"},
		{"gs://b/dir/logs", "logs.runs/r1/k", "gs://b/dir/logs.runs/r1/k"},
		{"file:///tmp/x/logs?sync=false", "logs.runs/r/k", "file:///tmp/x/logs.runs/r/k?sync=false"},
	} {
		got, err := storage.SiblingURL(tt.u, tt.name)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
	_, err := storage.SiblingURL("s3://b/logs#sha256=00", "x")
	assert.ErrorContains(t, err, "digest")
}
