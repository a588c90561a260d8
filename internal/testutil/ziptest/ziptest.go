// Package ziptest reads the zip archives the packagers write (Lambda zips,
// Cloud Functions source bundles) in tests.
package ziptest

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func open(tb testing.TB, zb []byte) *zip.Reader {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		tb.Fatalf("ziptest: not a zip archive: %v", err)
	}
	return zr
}

func read(tb testing.TB, f *zip.File) []byte {
	tb.Helper()
	r, err := f.Open()
	if err != nil {
		tb.Fatalf("ziptest: open %s: %v", f.Name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("ziptest: read %s: %v", f.Name, err)
	}
	return data
}

// Files returns the contents of each entry of the zip archive zb, by name.
func Files(tb testing.TB, zb []byte) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	for _, f := range open(tb, zb).File {
		files[f.Name] = read(tb, f)
	}
	return files
}

// Modes returns the mode of each entry of the zip archive zb, by name.
func Modes(tb testing.TB, zb []byte) map[string]fs.FileMode {
	tb.Helper()
	modes := map[string]fs.FileMode{}
	for _, f := range open(tb, zb).File {
		modes[f.Name] = f.Mode()
	}
	return modes
}

// Extract writes the files of the zip archive zb into a new temporary
// directory, keeping their permission bits, as Lambda does into /var/task,
// and returns the directory.
func Extract(tb testing.TB, zb []byte) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, f := range open(tb, zb).File {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, read(tb, f), f.Mode().Perm()); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
