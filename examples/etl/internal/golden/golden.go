// Package golden lets the etl example's task tests run each task over the
// sample data and compare what it writes with the expected bytes committed
// in examples/etl/testdata/golden. Those files also show what each dataset
// looks like, and are what every runtime must produce byte for byte.
//
// After a deliberate change, rewrite them in pipeline order, each task
// reading the files the one before it wrote:
//
//	for t in clean_orders clean_customers enrich daily_revenue customer_stats; do
//		go test ./examples/etl/tasks/$t -run SampleData -update
//	done
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in examples/etl/testdata/golden")

// root is examples/etl, found from this file so tests may run from anywhere.
func root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("golden: cannot locate the package source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Data returns a file of the sample data, examples/etl/data/name.
func Data(t testing.TB, name string) []byte {
	t.Helper()
	return read(t, filepath.Join(root(), "data", name))
}

// Golden returns the golden file name, the expected output of an upstream
// task.
func Golden(t testing.TB, name string) []byte {
	t.Helper()
	return read(t, filepath.Join(root(), "testdata", "golden", name))
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Check compares got with the golden file name; with -update it rewrites
// the file instead.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join(root(), "testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := read(t, path)
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.SplitAfter(string(got), "\n"), strings.SplitAfter(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s differs from testdata/golden/%s at line %d:\n got %q\nwant %q\n(%d bytes, want %d; after a deliberate change, run scripts/regen)",
				name, name, i+1, g, w, len(got), len(want))
			return
		}
	}
}
