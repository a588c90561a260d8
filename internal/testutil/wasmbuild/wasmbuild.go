// Package wasmbuild builds Go main packages into WebAssembly modules
// (GOOS=wasip1 GOARCH=wasm) for tests. Each package is built at most once per
// test process; the modules go to one temporary directory per process, which
// Cleanup removes.
package wasmbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu      sync.Mutex
	tmpDir  string
	builds  = map[string]*build{}
	probe   sync.Once
	probeOK error // nil when the toolchain can build wasip1 modules
)

type build struct {
	once sync.Once
	path string
	err  error
	// toolchain is set when the failure is the toolchain's, not the package's.
	toolchain bool
}

// Build compiles the Go main package in dir (relative to the test's working
// directory, or absolute) for GOOS=wasip1 GOARCH=wasm and returns the path of
// the .wasm file. Concurrent and repeated calls for the same dir share one
// build.
//
// If the Go toolchain is missing or cannot build wasip1 modules at all, Build
// skips the test with the reason. If only this package fails to build, the
// test fails with the compiler's output.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatalf("wasmbuild: %v", err)
	}
	mu.Lock()
	b, ok := builds[abs]
	if !ok {
		b = &build{}
		builds[abs] = b
	}
	mu.Unlock()

	b.once.Do(func() { b.path, b.toolchain, b.err = compile(abs) })
	switch {
	case b.err != nil && b.toolchain:
		tb.Skipf("wasmbuild: skipping, the Go toolchain cannot build wasip1 modules here: %v", b.err)
	case b.err != nil:
		tb.Fatalf("wasmbuild: %v", b.err)
	}
	return b.path
}

// Cleanup removes the directory the modules were built into. Call it from
// TestMain after m.Run; Build must not be called afterwards.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
		tmpDir = ""
	}
}

func outDir() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if tmpDir == "" {
		d, err := os.MkdirTemp("", "glacier-wasmbuild-")
		if err != nil {
			return "", fmt.Errorf("create build directory: %w", err)
		}
		tmpDir = d
	}
	return tmpDir, nil
}

// compile builds the package in dir. toolchain reports whether a failure is
// the toolchain's (so the caller skips) rather than the package's.
func compile(dir string) (path string, toolchain bool, err error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", true, fmt.Errorf("go command not found: %w", err)
	}
	out, err := outDir()
	if err != nil {
		return "", true, err
	}
	sum := sha256.Sum256([]byte(dir))
	path = filepath.Join(out, filepath.Base(dir)+"-"+hex.EncodeToString(sum[:6])+".wasm")
	if msg, err := goBuild(goCmd, dir, path); err != nil {
		if perr := probeToolchain(goCmd); perr != nil {
			return "", true, perr
		}
		return "", false, fmt.Errorf("build %s: %v\n%s", dir, err, msg)
	}
	return path, false, nil
}

func goBuild(goCmd, dir, out string) (string, error) {
	cmd := exec.Command(goCmd, "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	msg, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(msg)), err
}

// probeToolchain checks once whether a trivial program builds for wasip1.
func probeToolchain(goCmd string) error {
	probe.Do(func() {
		dir, err := os.MkdirTemp("", "glacier-wasmbuild-probe-")
		if err != nil {
			probeOK = err
			return
		}
		defer os.RemoveAll(dir)
		files := map[string]string{
			"go.mod":  "module probe\n\ngo 1.21\n",
			"main.go": "package main\n\nfunc main() {}\n",
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				probeOK = err
				return
			}
		}
		if msg, err := goBuild(goCmd, dir, filepath.Join(dir, "probe.wasm")); err != nil {
			probeOK = fmt.Errorf("%v: %s", err, msg)
		}
	})
	return probeOK
}
