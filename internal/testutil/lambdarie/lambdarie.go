// Package lambdarie runs a Lambda custom-runtime bootstrap under the AWS
// Lambda Runtime Interface Emulator, the program Lambda's container images
// use to run functions locally, so end-to-end tests invoke a function the
// way Lambda does.
//
//	dir := lambdarie.BuildBootstrap(t, "./cmd/bootstrap")
//	fn := lambdarie.Start(t, lambdarie.Options{BootstrapDir: dir, Env: s3.Env()})
//	body, err := fn.Invoke(ctx, []byte(`{"task":"clean"}`))
//
// The emulator is found at $REPO/.tools/bin/aws-lambda-rie, where
// scripts/install-test-tools.sh installs it. Tests skip when it is missing,
// or fail if GLACIER_REQUIRE_TOOLS=1 (as scripts/test sets).
//
// # How the emulator behaves
//
//   - It starts the bootstrap on the first invocation, not at start-up, with
//     its own environment plus AWS_LAMBDA_RUNTIME_API and a few
//     AWS_LAMBDA_FUNCTION_* variables. Start gives it a clean environment
//     (see Options.Env), never the test process's.
//   - The function timeout is AWS_LAMBDA_FUNCTION_TIMEOUT, in whole seconds.
//     On timeout the emulator SIGKILLs the bootstrap, answers HTTP 200 with
//     the plain-text body "Task timed out after N.00 seconds" (Invoke
//     returns ErrTimedOut), and starts a fresh bootstrap, a cold start, on
//     the next invocation.
//   - The memory size, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, is only reported:
//     nothing is limited, and "Max Memory Used" always equals it.
//   - A handler error comes back as HTTP 200 with a JSON body holding
//     errorMessage and errorType (Invoke returns a *FunctionError).
//   - The "Init Duration" of its REPORT line measures nothing useful; the
//     "INIT REPORT(durationMs: ...)" line it logs is the real start-up time
//     of the bootstrap (InitDurations).
//   - It serves one invocation at a time; Invoke serializes calls.
package lambdarie

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// InvokePath is the emulator's invocation endpoint, the same as Lambda's
// Invoke API for a function named "function".
const InvokePath = "/2015-03-31/functions/function/invocations"

// DefaultTimeout is the function timeout when Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// Options configure Start.
type Options struct {
	// BootstrapDir is the unzipped function: a directory holding an
	// executable named bootstrap. It is the bootstrap's working directory
	// and LAMBDA_TASK_ROOT, as /var/task is in Lambda.
	BootstrapDir string

	// Env is added to the function's environment. The environment starts
	// clean, not from the test process, with PATH, TZ, LAMBDA_TASK_ROOT,
	// AWS_REGION and AWS_DEFAULT_REGION (us-east-1) and
	// AWS_EC2_METADATA_DISABLED=true (so no SDK probes the network for
	// credentials); Env may override any of them.
	Env map[string]string

	// Timeout is the function timeout, in whole seconds. Zero means
	// DefaultTimeout.
	Timeout time.Duration

	// MemoryMiB is the memory size the emulator reports; it limits nothing.
	// Zero means 512.
	MemoryMiB int

	// Emulator is the path of the aws-lambda-rie binary. Empty means
	// $REPO/.tools/bin/aws-lambda-rie.
	Emulator string
}

// Function is a running emulator with its bootstrap. It is stopped when the
// test that started it ends.
type Function struct {
	// URL is the invocation endpoint.
	URL string
	// Pid is the emulator's process id; the bootstrap runs as its child.
	Pid int

	timeout time.Duration
	out     *syncBuffer
	mu      sync.Mutex // one invocation at a time
	client  *http.Client
}

// ErrTimedOut is matched by Invoke's error when the invocation ran past the
// function timeout.
var ErrTimedOut = errors.New("lambdarie: function timed out")

// FunctionError is an error returned by the function's handler.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Error names the handler's error type and message.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambdarie: handler error (%s): %s", e.Type, e.Message)
}

// Start starts the emulator for opts.BootstrapDir on free loopback ports and
// waits until it accepts connections. It skips the test when the emulator
// is not installed (fails it under GLACIER_REQUIRE_TOOLS=1) and fails it on
// bad options.
func Start(tb testing.TB, opts Options) *Function {
	tb.Helper()
	emulator := opts.Emulator
	if emulator == "" {
		emulator = defaultEmulator(tb)
	}
	if _, err := os.Stat(emulator); err != nil {
		msg := fmt.Sprintf("lambdarie: the Lambda Runtime Interface Emulator is not installed (%v); run scripts/install-test-tools.sh", err)
		if os.Getenv("GLACIER_REQUIRE_TOOLS") == "1" {
			tb.Fatal(msg + " (GLACIER_REQUIRE_TOOLS=1 makes this a failure)")
		}
		tb.Skip(msg)
	}
	bootstrap := filepath.Join(opts.BootstrapDir, "bootstrap")
	if fi, err := os.Stat(bootstrap); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		tb.Fatalf("lambdarie: Options.BootstrapDir %q must hold an executable named bootstrap (stat: %v)", opts.BootstrapDir, err)
	}
	bootstrap, err := filepath.Abs(bootstrap)
	if err != nil {
		tb.Fatalf("lambdarie: %v", err)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < time.Second || timeout%time.Second != 0 {
		tb.Fatalf("lambdarie: Options.Timeout %v must be a whole number of seconds, at least 1s (Lambda counts in seconds)", opts.Timeout)
	}
	memory := opts.MemoryMiB
	if memory == 0 {
		memory = 512
	}

	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                filepath.Dir(bootstrap),
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(timeout / time.Second)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memory),
	}
	for k, v := range opts.Env {
		env[k] = v
	}

	// Ports are picked by the kernel and freed before the emulator binds
	// them, so another process may take one in between; the emulator then
	// exits, and Start tries again with new ports.
	var lastOut string
	for range 3 {
		f, out, ok := start(tb, emulator, bootstrap, env, timeout)
		if ok {
			return f
		}
		lastOut = out
	}
	tb.Fatalf("lambdarie: the emulator exited before accepting connections; its output:\n%s", lastOut)
	return nil
}

func start(tb testing.TB, emulator, bootstrap string, env map[string]string, timeout time.Duration) (*Function, string, bool) {
	tb.Helper()
	rieAddr, apiAddr := freeAddr(tb), freeAddr(tb)
	cmd := exec.Command(emulator,
		"--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", apiAddr,
		// One argument only: a second would be taken as the handler name.
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = envList(env)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("lambdarie: start %s: %v", emulator, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		terminate(cmd)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			kill(cmd)
			<-exited
		}
	}

	// Ready when the emulator accepts connections; it is a retry loop with
	// a deadline, not a guess at how long start-up takes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return nil, out.String(), false
		default:
		}
		conn, err := net.DialTimeout("tcp", rieAddr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("lambdarie: the emulator did not listen on %s within 30s: %v; its output:\n%s", rieAddr, err, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	f := &Function{
		URL:     "http://" + rieAddr + InvokePath,
		Pid:     cmd.Process.Pid,
		timeout: timeout,
		out:     out,
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	tb.Cleanup(func() {
		stop()
		if tb.Failed() {
			tb.Logf("lambdarie: emulator output:\n%s", out.String())
		}
	})
	return f, "", true
}

// Invoke invokes the function with payload and returns the response body.
// A handler error returns the body and a *FunctionError; a timeout returns
// the body and an error matching ErrTimedOut.
//
// The response is read as the emulator sends it: it does not mark handler
// errors with a header, so a body that is a JSON object with a non-empty
// errorMessage is taken for one.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("lambdarie: invoke: %w", err)
	}
	id := newRequestID()
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambdarie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdarie: invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("lambdarie: invoke %s: HTTP %s: %s", id, resp.Status, body)
	}
	// The emulator prints the REPORT line before it answers, but the line
	// reaches Output through a pipe; wait for it, so that everything the
	// emulator logged for this invocation is in Output when Invoke returns.
	wctx, cancel := context.WithTimeoutCause(ctx, reportWait,
		fmt.Errorf("lambdarie: invoke %s: the emulator printed no REPORT line within %v", id, reportWait))
	defer cancel()
	if err := f.out.waitFor(wctx, "REPORT RequestId: "+id+"\t"); err != nil {
		return body, err
	}
	if bytes.HasPrefix(body, []byte("Task timed out after ")) {
		return body, fmt.Errorf("%w after %v: %s", ErrTimedOut, f.timeout, body)
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) == nil && fe.Message != "" {
		return body, &fe
	}
	return body, nil
}

// reportWait bounds how long Invoke waits for a REPORT line that the
// emulator has already written.
const reportWait = 10 * time.Second

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WaitOutput blocks until Output contains s, or ctx is done. The
// bootstrap's own output reaches Output through the emulator, which copies
// it on its own schedule: it may arrive after Invoke returns.
func (f *Function) WaitOutput(ctx context.Context, s string) error {
	return f.out.waitFor(ctx, s)
}

// Output returns what the emulator and the bootstrap have printed so far:
// the emulator's START, END and REPORT lines and its log, and the
// bootstrap's stdout and stderr, interleaved as they arrived. Everything
// the emulator printed about an invocation is there when Invoke returns;
// see WaitOutput for the bootstrap's own lines.
func (f *Function) Output() string { return f.out.String() }

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDurations returns the start-up time of each bootstrap started by the
// invocations that have returned,
// from the emulator's INIT REPORT lines: one for the first invocation, and
// one more for the first after every timeout.
func (f *Function) InitDurations() []time.Duration {
	var ds []time.Duration
	for _, m := range initReport.FindAllStringSubmatch(f.Output(), -1) {
		ms, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		ds = append(ds, time.Duration(ms*float64(time.Millisecond)))
	}
	return ds
}

// BuildBootstrap builds the Go main package pkg (an import path, or a
// directory relative to the test's) as a Lambda custom-runtime bootstrap
// for this machine's architecture: static (CGO_ENABLED=0), with the
// lambda.norpc tag as provided.al2023 functions are built. It returns the
// directory holding the binary, named bootstrap.
func BuildBootstrap(tb testing.TB, pkg string) string {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", filepath.Join(dir, "bootstrap"), pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("lambdarie: build bootstrap from %s: %v\n%s", pkg, err, out)
	}
	return dir
}

// defaultEmulator returns $REPO/.tools/bin/aws-lambda-rie, $REPO being the
// nearest directory above the working directory that holds go.mod.
func defaultEmulator(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("lambdarie: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools", "bin", "aws-lambda-rie")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("lambdarie: no go.mod above the working directory, so no .tools/bin/aws-lambda-rie; set Options.Emulator")
		}
		dir = parent
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("lambdarie: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func envList(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a process's
// stdout and stderr and the reads of a test, which can wait for a string.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Clone(b.buf.String())
}

// waitFor blocks until the buffer contains s or ctx is done.
func (b *syncBuffer) waitFor(ctx context.Context, s string) error {
	for {
		b.mu.Lock()
		if strings.Contains(b.buf.String(), s) {
			b.mu.Unlock()
			return nil
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
