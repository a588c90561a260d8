// Package glacierbin builds the glacier command for tests that drive it
// as a user does, against stores the test deployed.
package glacierbin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Build builds cmd/glacier into a temporary directory of tb's and returns
// its path.
func Build(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("glacierbin: cannot locate the repository")
	}
	bin := filepath.Join(tb.TempDir(), "glacier")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/glacier")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/glacier: %v\n%s", err, out)
	}
	return bin
}

// Run runs bin in the project dir with args, the test's environment and
// env added, and returns its standard output; it fails tb, with the
// command's standard error, if the command fails.
func Run(tb testing.TB, bin, dir string, env map[string]string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"-C", dir}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		tb.Fatalf("glacier %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
	}
	if err != nil {
		tb.Fatalf("glacier %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
