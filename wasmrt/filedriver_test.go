package wasmrt_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

func TestFileDriverCommitsAndDiscards(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		url  func(string) string
	}{
		{"synced", wasmrt.FileURL},
		{"unsynced", wasmrt.FileURLNoSync},
		{"explicit sync", func(p string) string { return wasmrt.FileURL(p) + "?sync=true" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "sub", "out")
			st := wasmrt.URLStorage{"out": tt.url(dst), "gone": tt.url(filepath.Join(dir, "gone"))}

			s, err := st.Stage(ctx, "out")
			require.NoError(t, err)
			_, err = io.WriteString(s, "hello")
			require.NoError(t, err)
			_, err = os.Stat(dst)
			require.ErrorIs(t, err, os.ErrNotExist, "nothing is visible before Commit")
			require.NoError(t, s.Commit(ctx))
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			require.Equal(t, "hello", string(got))

			s, err = st.Stage(ctx, "gone")
			require.NoError(t, err)
			_, err = io.WriteString(s, "bye")
			require.NoError(t, err)
			require.NoError(t, s.Discard(ctx))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				require.Equal(t, "sub", e.Name(), "a discarded output leaves nothing behind")
			}

			r, err := st.Open(ctx, "out")
			require.NoError(t, err)
			got, err = io.ReadAll(r)
			require.NoError(t, err)
			require.NoError(t, r.Close())
			require.Equal(t, "hello", string(got))
		})
	}
}

func TestFileDriverRefusesBadParameters(t *testing.T) {
	for _, q := range []string{"?sync=maybe", "?sync=false&sync=true", "?sync=false&mode=x", "?fsync=0", "?%zz"} {
		t.Run(q, func(t *testing.T) {
			u := wasmrt.FileURL(filepath.Join(t.TempDir(), "out")) + q
			_, err := wasmrt.URLStorage{"out": u}.Stage(context.Background(), "out")
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), "sync=true or sync=false"), err.Error())
		})
	}
}
