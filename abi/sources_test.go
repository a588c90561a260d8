package abi

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSourcesComplete checks that Sources holds exactly the package's
// non-test Go files, as they are.
func TestSourcesComplete(t *testing.T) {
	matches, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range matches {
		if !strings.HasSuffix(m, "_test.go") {
			want = append(want, m)
		}
	}
	var have []string
	err = fs.WalkDir(Sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			have = append(have, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		t.Errorf("Sources holds %q, the package builds from %q; fix the //go:embed line in sources.go", have, want)
	}
	for _, f := range have {
		data, err := fs.ReadFile(Sources, f)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != string(disk) {
			t.Errorf("Sources' %s differs from the file", f)
		}
	}
}
