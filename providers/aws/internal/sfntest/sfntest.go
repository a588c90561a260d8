// Package sfntest checks AWS Step Functions definitions in tests with the
// two npm packages scripts/install-test-tools.sh installs into .tools/node:
// asl-validator validates a definition, and aws-local-stepfunctions runs it,
// with every Task state routed by its state name to a Go Handler over HTTP
// (its overrides.taskResourceLocalHandlers), so a test decides what each
// task does: record the order, fail, or invoke a function under the Lambda
// emulator.
//
//	node := sfntest.Find(t)
//	require.NoError(t, node.Validate(ctx, "statemachine.asl.json"))
//	res, err := node.Run(ctx, "statemachine.asl.json", sfntest.Options{Handler: h})
//
// A Distributed Map, which the library does not run, is rewritten first
// into states it runs with the same items (Inline).
//
// Tests skip when the tools are missing, naming the script that installs
// them, and fail instead when GLACIER_REQUIRE_TOOLS=1.
package sfntest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

//go:embed driver.cjs
var driver []byte

// Node runs the installed node tools.
type Node struct {
	node    string // the node binary
	modules string // .tools/node/node_modules
	driver  string // driver.cjs, written to a temporary directory
}

// Find locates node and the tools under $REPO/.tools/node, $REPO being the
// nearest directory above the working directory holding go.mod. It skips
// the test when something is missing (fails it when GLACIER_REQUIRE_TOOLS=1).
func Find(tb testing.TB) *Node {
	tb.Helper()
	missing := func(what string) {
		tb.Helper()
		msg := "sfntest: " + what + "; run scripts/install-test-tools.sh"
		if os.Getenv("GLACIER_REQUIRE_TOOLS") == "1" {
			tb.Fatal(msg + " (GLACIER_REQUIRE_TOOLS=1 makes this a failure)")
		}
		tb.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	root, err := repoRoot()
	if err != nil {
		missing(err.Error())
	}
	modules := filepath.Join(root, ".tools", "node", "node_modules")
	for _, pkg := range []string{"asl-validator", "aws-local-stepfunctions"} {
		if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil {
			missing(pkg + " is not installed in " + modules)
		}
	}
	path := filepath.Join(tb.TempDir(), "driver.cjs")
	if err := os.WriteFile(path, driver, 0o644); err != nil {
		tb.Fatal(err)
	}
	return &Node{node: node, modules: modules, driver: path}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory, so no .tools/node")
		}
		dir = parent
	}
}

// Validate runs asl-validator on the definition in path. The error holds
// the validator's report.
func (n *Node) Validate(ctx context.Context, path string) error {
	bin := filepath.Join(n.modules, "asl-validator", "dist", "bin", "asl-validator.js")
	cmd := exec.CommandContext(ctx, n.node, bin, "--json-path", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("asl-validator %s: %w\n%s", path, err, out)
	}
	return nil
}

// Handler does the work of one Task state: state is its name, input its
// effective input (after Parameters). A *TaskError fails the state with
// that error name; any other error fails it as "Error".
type Handler func(ctx context.Context, state string, input json.RawMessage) (json.RawMessage, error)

// TaskError fails a Task state with an error name Retry and Catch match.
type TaskError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error returns "Type: Message".
func (e *TaskError) Error() string { return e.Type + ": " + e.Message }

// Options configure Run.
type Options struct {
	// ExecutionName is $$.Execution.Name; empty means "local-run".
	ExecutionName string
	// Input is the execution's input; nil means {}.
	Input json.RawMessage
	// Handler serves every Task state.
	Handler Handler
	// NoRetryWait retries failed Task states at once instead of after
	// their Retry intervals.
	NoRetryWait bool
	// S3 reads an object for a Distributed Map's ItemReader (see Inline);
	// a definition without one does not need it.
	S3 func(ctx context.Context, bucket, key string) ([]byte, error)
}

// Result is how an execution ended.
type Result struct {
	// Status is SUCCEEDED or FAILED.
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	// Error and Cause say why a FAILED execution failed.
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// Run executes the definition in path with aws-local-stepfunctions, its
// Distributed Maps inlined (Inline) and their items read through
// Options.S3. It returns an error only when the execution could not be
// run at all; a failed execution is a Result with Status FAILED.
func (n *Node) Run(ctx context.Context, path string, opts Options) (*Result, error) {
	if opts.ExecutionName == "" {
		opts.ExecutionName = "local-run"
	}
	if opts.Input == nil {
		opts.Input = json.RawMessage("{}")
	}
	def, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	in, err := Inline(def)
	if err != nil {
		return nil, err
	}
	if string(in.Definition) != string(def) {
		f, err := os.CreateTemp(filepath.Dir(n.driver), "inlined-*.json")
		if err != nil {
			return nil, err
		}
		_, err = f.Write(in.Definition)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		path = f.Name()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := strings.TrimPrefix(r.URL.Path, "/")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, served, err := in.serve(r.Context(), opts, state, body)
		if !served {
			out, err = opts.Handler(r.Context(), state, body)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			te := &TaskError{Type: "Error", Message: err.Error()}
			errors.As(err, &te)
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(te)
			return
		}
		if out == nil {
			out = json.RawMessage("{}")
		}
		_, _ = w.Write(out)
	}))
	defer srv.Close()

	noWait := "0"
	if opts.NoRetryWait {
		noWait = "1"
	}
	cmd := exec.CommandContext(ctx, n.node, n.driver, path, srv.URL, opts.ExecutionName, string(opts.Input), noWait)
	cmd.Env = append(os.Environ(), "NODE_PATH="+n.modules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("aws-local-stepfunctions: %w\n%s", err, stderr.Bytes())
	}
	var res Result
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		return nil, fmt.Errorf("aws-local-stepfunctions printed %q: %w\n%s", stdout.Bytes(), err, stderr.Bytes())
	}
	return &res, nil
}
