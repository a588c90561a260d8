package filestore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// TestSwapAcrossProcesses has several processes add to one counter file
// by compare-and-swap, each retrying when it loses: only if the check and
// the rename are one step across processes is no increment lost.
func TestSwapAcrossProcesses(t *testing.T) {
	if os.Getenv("FILESTORE_COUNTER") != "" {
		return // a child, run by TestCounterChild
	}
	const procs, adds = 4, 25
	u := URL(filepath.Join(t.TempDir(), "counter"))
	m := new(storage.URLMux)
	m.RegisterScheme(Scheme, driver{})
	st, err := m.StageIf(t.Context(), u, "")
	require.NoError(t, err)
	_, err = io.WriteString(st, "0")
	require.NoError(t, err)
	require.NoError(t, st.Commit(t.Context()))

	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmds[i] = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCounterChild$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "FILESTORE_COUNTER="+u, "FILESTORE_ADDS="+strconv.Itoa(adds))
		require.NoError(t, cmds[i].Start())
	}
	for _, c := range cmds {
		require.NoError(t, c.Wait())
	}
	rc, err := m.Open(t.Context(), u)
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	rc.Close()
	require.Equal(t, strconv.Itoa(procs*adds), string(b), "increments were lost")
}

// TestCounterChild is TestSwapAcrossProcesses's child: it adds
// FILESTORE_ADDS to the counter at FILESTORE_COUNTER.
func TestCounterChild(t *testing.T) {
	u := os.Getenv("FILESTORE_COUNTER")
	if u == "" {
		t.Skip("run by TestSwapAcrossProcesses")
	}
	adds, err := strconv.Atoi(os.Getenv("FILESTORE_ADDS"))
	require.NoError(t, err)
	m := new(storage.URLMux)
	m.RegisterScheme(Scheme, driver{})
	ctx := context.Background()
	for range adds {
		for {
			a, err := m.Stat(ctx, u)
			require.NoError(t, err)
			rc, err := m.Open(ctx, u)
			require.NoError(t, err)
			b, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			n, err := strconv.Atoi(string(b))
			require.NoError(t, err, "the counter holds %q", b)
			st, err := m.StageIf(ctx, u, a.Generation)
			require.NoError(t, err)
			_, err = io.WriteString(st, strconv.Itoa(n+1))
			require.NoError(t, err)
			err = st.Commit(ctx)
			if errors.Is(err, storage.ErrPrecondition) {
				continue
			}
			require.NoError(t, err)
			break
		}
	}
}

// TestPrivateTreeStaysPrivate: what the driver makes under a directory
// only its owner may enter (a store's) is its owner's alone, directories
// and files, the lock file of a conditional write included.
func TestPrivateTreeStaysPrivate(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "private")
	require.NoError(t, os.Mkdir(root, 0o700))
	m := storage.DefaultURLMux()
	u := URL(filepath.Join(root, "a", "b", "c.json"))
	for _, gen := range []string{"", "swap"} {
		if gen == "swap" {
			a, err := m.Stat(ctx, u)
			require.NoError(t, err)
			gen = a.Generation
		}
		w, err := m.StageIf(ctx, u, gen)
		require.NoError(t, err)
		_, err = w.Write([]byte("{}"))
		require.NoError(t, err)
		require.NoError(t, w.Commit(ctx))
	}
	n := 0
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		fi, err := d.Info()
		require.NoError(t, err)
		if p != root {
			n++
			require.Zero(t, fi.Mode().Perm()&0o077, "%s is open to others: %v", p, fi.Mode())
		}
		return nil
	}))
	require.Equal(t, 4, n, "a, a/b, the file and the lock")
}
