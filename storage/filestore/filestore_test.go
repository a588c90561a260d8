package filestore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/drivertest"
)

// harness keeps the suite's objects under dir, named by toURL.
func harness(dir string, toURL func(string) string) drivertest.Harness {
	path := func(t *testing.T, u string) string {
		t.Helper()
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		p, _, err := filePath(parsed)
		require.NoError(t, err)
		return p
	}
	return drivertest.Harness{
		Driver: driver{},
		URL: func(t *testing.T, name string) string {
			return toURL(filepath.Join(dir, filepath.FromSlash(t.Name()), name))
		},
		Read: func(t *testing.T, u string) ([]byte, bool) {
			b, err := os.ReadFile(path(t, u))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, false
			}
			require.NoError(t, err)
			return b, true
		},
		Large: 3<<20 + 12345, // many times the write buffer
		Leftovers: func(t *testing.T, u string) []string {
			p := path(t, u)
			staged, err := filepath.Glob(filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".*"+StagedSuffix))
			require.NoError(t, err)
			return staged
		},
		Put: func(t *testing.T, u string, data []byte) {
			p := path(t, u)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, data, 0o644))
		},
	}
}

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, harness(t.TempDir(), URL))
}

func TestConformanceNoSync(t *testing.T) {
	drivertest.RunConformanceTests(t, harness(t.TempDir(), URLNoSync))
}

// TestURLs reaches the driver through the "file" scheme the package
// registers on storage.DefaultURLMux.
func TestURLs(t *testing.T) {
	drivertest.CheckScheme(t, harness(t.TempDir(), URL), "registered")
}

func TestFileDriverCommitsAndDiscards(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		url  func(string) string
	}{
		{"synced", URL},
		{"unsynced", URLNoSync},
		{"explicit sync", func(p string) string { return URL(p) + "?sync=true" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "sub", "out")
			st := storage.URLs{"out": tt.url(dst), "gone": tt.url(filepath.Join(dir, "gone"))}

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
			u := URL(filepath.Join(t.TempDir(), "out")) + q
			_, err := storage.URLs{"out": u}.Stage(context.Background(), "out")
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), "sync=true or sync=false"), err.Error())
		})
	}
}
