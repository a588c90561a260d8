package artifact_test

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
)

func TestZipDeterministic(t *testing.T) {
	files := []artifact.File{
		{Name: "task.wasm", Mode: artifact.ModeFile, Data: []byte("\x00asm")},
		{Name: "bootstrap", Mode: artifact.ModeExec, Data: bytes.Repeat([]byte("exe"), 1000)},
		{Name: "cache/v1/abc", Mode: artifact.ModeFile, Data: []byte("code")},
		{Name: "empty", Mode: artifact.ModeFile},
	}
	a, err := artifact.Zip(files)
	require.NoError(t, err)
	// The same files in another order, at another time: the same bytes.
	reversed := []artifact.File{files[3], files[2], files[1], files[0]}
	b, err := artifact.Zip(reversed)
	require.NoError(t, err)
	assert.Equal(t, a, b)

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		assert.True(t, f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)), "%s: %v", f.Name, f.Modified)
		assert.Equal(t, zip.Deflate, f.Method)
		want := artifact.ModeFile
		if f.Name == "bootstrap" {
			want = artifact.ModeExec
		}
		assert.Equal(t, want, f.Mode(), f.Name)
		r, err := f.Open()
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		for _, in := range files {
			if in.Name == f.Name {
				assert.Equal(t, len(in.Data), len(got), f.Name)
				assert.True(t, bytes.Equal(in.Data, got), f.Name)
			}
		}
	}
	assert.Equal(t, []string{"bootstrap", "cache/v1/abc", "empty", "task.wasm"}, names)
}

func TestZipRefusesBadEntries(t *testing.T) {
	for _, tc := range []struct {
		files []artifact.File
		want  string
	}{
		{[]artifact.File{{Name: "", Mode: artifact.ModeFile}}, "empty name"},
		{[]artifact.File{{Name: "/etc/passwd", Mode: artifact.ModeFile}}, "not a clean relative path"},
		{[]artifact.File{{Name: "../up", Mode: artifact.ModeFile}}, "not a clean relative path"},
		{[]artifact.File{{Name: "a/./b", Mode: artifact.ModeFile}}, "not a clean relative path"},
		{[]artifact.File{{Name: "dir/", Mode: artifact.ModeFile}}, "not a clean relative path"},
		{[]artifact.File{{Name: `a\b`, Mode: artifact.ModeFile}}, "backslash"},
		{[]artifact.File{{Name: "a", Mode: 0o600}}, "mode"},
		{[]artifact.File{{Name: "a", Mode: artifact.ModeFile}, {Name: "a", Mode: artifact.ModeExec}}, "appears twice"},
	} {
		var buf bytes.Buffer
		err := artifact.WriteZip(&buf, tc.files)
		assert.ErrorContains(t, err, tc.want, "%+v", tc.files)
		assert.Zero(t, buf.Len(), "nothing is written on error")
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run"), []byte("#!"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "deeper", "data"), []byte("d"), 0o600))
	files, err := artifact.ReadDir(dir, "pre")
	require.NoError(t, err)
	assert.Equal(t, []artifact.File{
		{Name: "pre/run", Mode: artifact.ModeExec, Data: []byte("#!")},
		{Name: "pre/sub/deeper/data", Mode: artifact.ModeFile, Data: []byte("d")},
	}, files)

	require.NoError(t, os.Symlink("run", filepath.Join(dir, "link")))
	_, err = artifact.ReadDir(dir, "")
	assert.ErrorContains(t, err, "not a regular file")
	_, err = artifact.ReadDir(filepath.Join(dir, "missing"), "")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
