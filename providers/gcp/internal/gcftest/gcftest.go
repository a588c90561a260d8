// Package gcftest serves Cloud Functions bundles on this machine for
// tests: a bundle is unzipped where Cloud Functions puts it, built as its
// build would build it, and run under the Functions Framework with the
// environment Cloud Functions gives it.
package gcftest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt"
)

var (
	workMu   sync.Mutex
	workRoot string // bundles unzipped and built in this process
)

// WorkDir returns a new directory under the process's work root, which
// outlives single tests so that bundles are built once per process;
// Cleanup removes it.
func WorkDir(tb testing.TB, name string) string {
	tb.Helper()
	workMu.Lock()
	defer workMu.Unlock()
	if workRoot == "" {
		d, err := os.MkdirTemp("", "gcftest-")
		require.NoError(tb, err)
		workRoot = d
	}
	d, err := os.MkdirTemp(workRoot, name+"-")
	require.NoError(tb, err)
	return d
}

// Cleanup removes the work root; a TestMain calls it after the tests.
func Cleanup() {
	workMu.Lock()
	defer workMu.Unlock()
	if workRoot != "" {
		os.RemoveAll(workRoot)
		workRoot = ""
	}
}

// CacheDir keeps the module checker and precompiled modules between test
// runs, like the go command's build cache, so only the first run pays for
// them.
func CacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "glacier", "gcfbundle-test")
}

// NeedGo skips a test that builds bundles when there is no go command,
// and returns the command's path.
func NeedGo(tb testing.TB) string {
	tb.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("skipping: building a Cloud Functions bundle needs the go command: %v", err)
	}
	return goCmd
}

// Bundle is a bundle unzipped where Cloud Functions puts it
// (Root/serverless_function_source_code) and built.
type Bundle struct {
	Root string // the function's working directory
	Bin  string // the built function
}

// Build unzips a bundle and builds its ./cmd as Cloud Functions would
// build its generated main: a vendored build, offline. -trimpath lets
// every bundle share the go command's build cache, and leaving out the
// symbol table and DWARF halves the link, the rest of each build.
func Build(tb testing.TB, name string, zb []byte) Bundle {
	tb.Helper()
	goCmd := NeedGo(tb)
	root := WorkDir(tb, name)
	src := filepath.Join(root, gcfrt.SourceDir)
	for n, data := range ziptest.Files(tb, zb) {
		p := filepath.Join(src, filepath.FromSlash(n))
		require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(tb, os.WriteFile(p, data, 0o644))
	}
	bin := filepath.Join(root, "function")
	cmd := exec.Command(goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=vendor", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "go build ./cmd of the %s bundle:\n%s", name, out)
	// The function reads only the task's files; the sources it was built
	// from are most of a bundle's bytes.
	require.NoError(tb, os.RemoveAll(filepath.Join(src, "vendor")))
	return Bundle{Root: root, Bin: bin}
}

// Function is a bundle's function served by the Functions Framework.
type Function struct {
	URL string
	// Tmp is the function's TMPDIR, where fnrt keeps its scratch files.
	Tmp  string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

// PlatformEnv is what Cloud Functions puts in every function's
// environment besides what the deployment sets; none of it must reach the
// task.
var PlatformEnv = map[string]string{
	"K_SERVICE":                           "etl-task",
	"K_REVISION":                          "etl-task-00001-abc",
	"FUNCTION_TARGET":                     gcfbundle.EntryPoint,
	"GOOGLE_CLOUD_PROJECT":                "secret-project",
	"GCP_PROJECT":                         "secret-project",
	"GOOGLE_APPLICATION_CREDENTIALS_JSON": `{"private_key": "do-not-leak"}`,
}

// Launch starts a built bundle's function with the given environment (on
// top of PlatformEnv) and does not wait for it; the test's cleanup stops
// it.
func Launch(tb testing.TB, b Bundle, env map[string]string) *Function {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	tmp := WorkDir(tb, "tmp")
	cmd := exec.Command(b.Bin)
	cmd.Dir = b.Root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + tmp,
		"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port)}
	for _, m := range []map[string]string{PlatformEnv, env} {
		for k, v := range m {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	f := &Function{URL: "http://127.0.0.1:" + strconv.Itoa(port) + "/", Tmp: tmp, cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	require.NoError(tb, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(f.done)
	}()
	tb.Cleanup(f.Stop)
	return f
}

// Stop kills the function and waits for it to exit.
func (f *Function) Stop() {
	_ = f.cmd.Process.Kill()
	<-f.done
}

// Pid is the function's process ID.
func (f *Function) Pid() int { return f.cmd.Process.Pid }

// Output is what the function wrote to its stdout and stderr so far.
func (f *Function) Output() string { return f.out.String() }

// Serve launches a function and waits until it accepts connections.
func Serve(tb testing.TB, b Bundle, env map[string]string) *Function {
	tb.Helper()
	f := Launch(tb, b, env)
	require.NoError(tb, f.WaitReady(2*time.Minute), "function output:\n%s", f.Output())
	return f
}

// WaitReady polls the function's port until it accepts a connection, the
// process exits or the limit passes.
func (f *Function) WaitReady(limit time.Duration) error {
	addr := strings.TrimSuffix(strings.TrimPrefix(f.URL, "http://"), "/")
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-f.done:
			return errors.New("the function exited before it served")
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the function did not listen on %s within %v", addr, limit)
		}
	}
}

// Invoke POSTs {"run_id": runID} and returns the status and body.
func (f *Function) Invoke(ctx context.Context, runID string) (int, []byte, error) {
	body, _ := json.Marshal(fnspec.Request{RunID: runID})
	return f.Post(ctx, body)
}

// Post POSTs body, a JSON request, and returns the status and body.
func (f *Function) Post(ctx context.Context, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

// DatasetsEnv returns GLACIER_DATASETS for a function touching names,
// their URLs taken from urls.
func DatasetsEnv(tb testing.TB, urls map[string]string, names ...string) string {
	tb.Helper()
	m := map[string]string{}
	for _, n := range names {
		u, ok := urls[n]
		require.True(tb, ok, "no URL for dataset %q", n)
		m[n] = u
	}
	b, err := json.Marshal(m)
	require.NoError(tb, err)
	return string(b)
}

// CompiledFiles returns the compilation cache entries the function wrote
// itself: those that are not links to the code its bundle ships.
func (f *Function) CompiledFiles(tb testing.TB) []string {
	tb.Helper()
	var own []string
	err := filepath.WalkDir(f.Tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.Contains(p, string(filepath.Separator)+"wazero-") {
			own = append(own, p)
		}
		return nil
	})
	require.NoError(tb, err)
	return own
}
