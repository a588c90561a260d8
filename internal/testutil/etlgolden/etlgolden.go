// Package etlgolden locates examples/etl for tests anywhere in the repository:
// its directory, and the golden outputs every runtime must produce byte for
// byte.
package etlgolden

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Dir returns the absolute path of examples/etl.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("etlgolden: cannot locate the package source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", "etl")
}

// Output returns the expected bytes of dataset, the one file
// examples/etl/testdata/golden/<dataset>.<ext> that is not a log.
func Output(tb testing.TB, dataset string) []byte {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join(Dir(), "testdata", "golden", dataset+".*"))
	if err != nil {
		tb.Fatal(err)
	}
	var files []string
	for _, m := range matches {
		if !strings.HasSuffix(m, ".log") {
			files = append(files, m)
		}
	}
	if len(files) != 1 {
		tb.Fatalf("want one golden file of %s, found %q", dataset, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
