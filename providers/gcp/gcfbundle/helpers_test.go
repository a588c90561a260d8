package gcfbundle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

// TestMain lets the test binary serve as a wasmrt.Pool worker, for the
// local runs the functions are compared with.
func TestMain(m *testing.M) {
	fnrt.ServeIfRequested()
	code := m.Run()
	wasmbuild.Cleanup()
	if workRoot != "" {
		os.RemoveAll(workRoot)
	}
	os.Exit(code)
}

var (
	workMu   sync.Mutex
	workRoot string // bundles unzipped and built in this process
)

// workDir returns a new directory under the process's work root, which
// outlives single tests so that bundles are built once per process.
func workDir(tb testing.TB, name string) string {
	tb.Helper()
	workMu.Lock()
	defer workMu.Unlock()
	if workRoot == "" {
		d, err := os.MkdirTemp("", "gcfbundle-test-")
		require.NoError(tb, err)
		workRoot = d
	}
	d, err := os.MkdirTemp(workRoot, name+"-")
	require.NoError(tb, err)
	return d
}

// testCacheDir keeps the module checker and precompiled modules between
// test runs, like the go command's build cache, so only the first run pays
// for them.
func testCacheDir(tb testing.TB) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "glacier", "gcfbundle-test")
}

// needGo skips a test that builds bundles when there is no go command.
func needGo(tb testing.TB) string {
	tb.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("skipping: building a Cloud Functions bundle needs the go command: %v", err)
	}
	return goCmd
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// specFor returns the spec of a task running the module at wasmPath.
func specFor(tb testing.TB, task, wasmPath string, inputs, outputs []string) fnspec.TaskSpec {
	tb.Helper()
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(tb, err)
	return fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "test", Task: task, ModuleSHA256: sha(wasm),
		Inputs: inputs, Outputs: outputs, MemoryMiB: 128, TimeoutSecs: 60,
	}
}

// builtBundle is a bundle unzipped where Cloud Functions puts it
// (Root/serverless_function_source_code) and built.
type builtBundle struct {
	Root string // the function's working directory
	Bin  string // the built function
}

// buildBundle unzips a bundle and builds its ./cmd as Cloud Functions would
// build its generated main: a vendored build, offline. -trimpath lets
// every bundle share the go command's build cache, and leaving out the
// symbol table and DWARF halves the link, the rest of each build.
func buildBundle(tb testing.TB, name string, zb []byte) builtBundle {
	tb.Helper()
	goCmd := needGo(tb)
	root := workDir(tb, name)
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
	return builtBundle{Root: root, Bin: bin}
}

// function is a bundle's function served by the Functions Framework.
type function struct {
	URL string
	// Tmp is the function's TMPDIR, where fnrt keeps its scratch files.
	Tmp  string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

// platformEnv is what Cloud Functions puts in every function's
// environment besides what the deployment sets; none of it must reach the
// task.
var platformEnv = map[string]string{
	"K_SERVICE":                           "etl-task",
	"K_REVISION":                          "etl-task-00001-abc",
	"FUNCTION_TARGET":                     gcfbundle.EntryPoint,
	"GOOGLE_CLOUD_PROJECT":                "secret-project",
	"GCP_PROJECT":                         "secret-project",
	"GOOGLE_APPLICATION_CREDENTIALS_JSON": `{"private_key": "do-not-leak"}`,
}

// launch starts a built bundle's function with the given environment
// (on top of platformEnv) and does not wait for it.
func launch(tb testing.TB, b builtBundle, env map[string]string) *function {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	tmp := workDir(tb, "tmp")
	cmd := exec.Command(b.Bin)
	cmd.Dir = b.Root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + tmp,
		"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port)}
	for _, m := range []map[string]string{platformEnv, env} {
		for k, v := range m {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	f := &function{URL: "http://127.0.0.1:" + strconv.Itoa(port) + "/", Tmp: tmp, cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	require.NoError(tb, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(f.done)
	}()
	tb.Cleanup(f.stop)
	return f
}

func (f *function) stop() {
	_ = f.cmd.Process.Kill()
	<-f.done
}

// serve launches a function and waits until it accepts connections.
func serve(tb testing.TB, b builtBundle, env map[string]string) *function {
	tb.Helper()
	f := launch(tb, b, env)
	require.NoError(tb, f.waitReady(2*time.Minute), "function output:\n%s", f.out.String())
	return f
}

// waitReady polls the function's port until it accepts a connection, the
// process exits or the limit passes.
func (f *function) waitReady(limit time.Duration) error {
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

// invoke POSTs {"run_id": runID} and returns the status and body.
func (f *function) invoke(ctx context.Context, runID string) (int, []byte, error) {
	body, _ := json.Marshal(fnspec.Request{RunID: runID})
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

// datasetsEnv returns GLACIER_DATASETS for a task.
func datasetsEnv(tb testing.TB, urls map[string]string, names ...string) string {
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

// compiledFiles returns the compilation cache entries the function wrote
// itself: those that are not links to the code its bundle ships.
func (f *function) compiledFiles(tb testing.TB) []string {
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
