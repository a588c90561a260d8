// Package gcfrt is the Google Cloud Functions (2nd gen) runtime of every
// Glacier task: the Go function, served by the Functions Framework, that
// runs the task's WebAssembly module in the wasmrt sandbox once per request,
// with its datasets in Cloud Storage. Each task's source bundle (made by
// gcfbundle.Package) holds a function package whose init calls Start, plus
// the module, its fnspec.TaskSpec and, optionally, the module's precompiled
// machine code.
//
// # Requests
//
// Workflows calls the function with an HTTP POST whose body is
// {"run_id": "..."} (optional; an empty body is fine). A task that succeeds
// answers 200 with the fnspec.Response as JSON. A task that fails answers 500
// with a Failure as JSON, whose Kind is one of fnspec's Kind constants and
// whose Error says what happened; nothing it wrote is committed, so the
// caller may retry. A failure no retry can fix (the storage refused: a
// missing bucket, denied access; an output broke its contract) answers
// StatusPermanent instead. A deployment error found at cold start (a missing
// dataset URL, a corrupt bundle) fails every request with kind Init.
//
// # Timeouts
//
// Cloud Functions 2nd gen runs on Cloud Run, which answers a request that
// outlives the function's timeout with an error but does not stop the code
// serving it. So the task runs in a wasmrt.Pool worker, a second process
// running this same binary, and each request gets a deadline of the task's
// timeout (or the request context's, if earlier): shortly before it, the
// worker is killed, the request fails with kind Timeout, and nothing is
// committed.
//
// # Why init
//
// The Cloud Functions Go buildpack generates the program's main package,
// which imports the function package and starts the Functions Framework. A
// worker process is this binary re-executed, and it must become a worker
// before the framework starts serving; init of the function package is the
// only code of ours that runs before the generated main, hence Start is
// called from there, before anything else.
//
// # Environment
//
// GLACIER_DATASETS (fnspec.DatasetsEnv) maps each of the task's datasets to
// its gs://bucket/object URL. Cloud Storage is reached with the function's
// service account through gcsstore, or through the emulator named by
// STORAGE_EMULATOR_HOST. The task itself sees none of the environment.
package gcfrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	// Registers the "gs" scheme, configured from the environment.
	_ "github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

// EntryPoint is the name the function registers with the Functions
// Framework: the function's entry point in Cloud Functions, and the value
// of FUNCTION_TARGET when the bundle is served locally.
const EntryPoint = "GlacierTask"

// SourceDir is where the Cloud Functions Go buildpack moves the function's
// source, relative to the function's working directory. The bundle's
// files (the module, the spec, the precompiled code) are read from there.
const SourceDir = "serverless_function_source_code"

// StatusPermanent is the HTTP status of a failure no retry can fix
// (fnspec.Kind.Permanent: the storage refused for good, or an output broke
// its contract): 424 Failed
// Dependency, a 4xx the workflow's task_failed predicate does not retry,
// where it retries the 500 of every other failure.
const StatusPermanent = http.StatusFailedDependency

// KindInit is the Failure kind of every request when the function could not
// start: its deployment is broken, and retrying will not help.
const KindInit = fnspec.KindInit

// KindBadRequest is the Failure kind of a request whose body is not a JSON
// object such as {"run_id": "..."}, or whose run id is not one (see
// fnspec.Request.Validate).
const KindBadRequest = fnspec.KindBadRequest

// maxBody bounds the request body; a real one is a few dozen bytes.
const maxBody = 64 << 10

// Failure is the JSON body of a failed request.
type Failure struct {
	Task   string `json:"task"`
	RunID  string `json:"run_id,omitempty"`
	Status string `json:"status"` // always "failed"
	// Kind is one of fnspec's Kind constants.
	Kind fnspec.Kind `json:"kind"`
	// Error describes the failure.
	Error string `json:"error"`
}

// Start turns this process into a sandbox worker if it was started as one
// (and then never returns); otherwise it starts preparing the sandbox in the
// background and returns the function to register as EntryPoint. The
// bundle's function package calls it from init, first thing (see the
// package documentation for why):
//
//	func init() {
//		functions.HTTP(gcfrt.EntryPoint, gcfrt.Start().ServeHTTP)
//	}
func Start() *Handler {
	// The worker reads and writes the datasets through the "gs" scheme,
	// which importing gcsstore registered.
	fnrt.ServeIfRequested()

	h := &Handler{ready: make(chan struct{})}
	go func() {
		defer close(h.ready)
		dir, err := FunctionDir()
		if err != nil {
			h.initErr = err
			return
		}
		h.fn, h.initErr = fnrt.New(context.Background(), fnrt.Options{
			Dir:               dir,
			PlatformMemoryMiB: platformMemoryMiB(),
			Log:               os.Stdout,
			LogsURL:           logsURL(os.Getenv),
		})
	}()
	return h
}

// FunctionDir returns the directory holding the bundle's files: SourceDir
// when the function runs in Cloud Functions, else the working directory
// (a bundle served locally with go run ./cmd). It fails if neither holds
// fnspec.SpecFile.
func FunctionDir() (string, error) {
	for _, d := range []string{SourceDir, "."} {
		if _, err := os.Stat(filepath.Join(d, fnspec.SpecFile)); err == nil {
			return filepath.Abs(d)
		}
	}
	wd, _ := os.Getwd()
	return "", fmt.Errorf("no %s in %s (where Cloud Functions puts the function's source) nor in the working directory %s; serve the bundle from its own directory",
		fnspec.SpecFile, SourceDir, wd)
}

// Handler serves the task over HTTP. Build it with NewHandler, or let Start
// build one.
type Handler struct {
	ready   chan struct{} // closed once fn or initErr is set
	fn      *fnrt.Handler
	initErr error
}

// NewHandler returns a Handler running the task fnrt.New builds from opts.
// If that fails, the Handler still serves, failing every request with kind
// KindInit and the error, so a broken deployment says what is wrong on
// every call instead of crashing on start.
func NewHandler(ctx context.Context, opts fnrt.Options) *Handler {
	h := &Handler{ready: make(chan struct{})}
	h.fn, h.initErr = fnrt.New(ctx, opts)
	close(h.ready)
	return h
}

// Close stops the sandbox.
func (h *Handler) Close() error {
	<-h.ready
	if h.fn == nil {
		return nil
	}
	return h.fn.Close()
}

// ServeHTTP runs the task once; see the package documentation for the
// request and the responses.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, Failure{Status: "failed", Kind: KindBadRequest,
			Error: fmt.Sprintf("method %s: a Glacier task is run with POST and a body such as {\"run_id\": \"...\"}", r.Method)})
		return
	}
	select {
	case <-h.ready:
	case <-r.Context().Done():
		writeJSON(w, http.StatusServiceUnavailable, Failure{Status: "failed", Kind: fnspec.KindCanceled,
			Error: "the request ended while the function was still starting: " + r.Context().Err().Error()})
		return
	}
	if h.initErr != nil {
		writeJSON(w, http.StatusInternalServerError, Failure{Status: "failed", Kind: KindInit,
			Error: "the function could not start: " + h.initErr.Error()})
		return
	}
	spec := h.fn.Spec()
	req, err := readRequest(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, Failure{Task: spec.Task, Status: "failed", Kind: KindBadRequest, Error: err.Error()})
		return
	}
	ctx := r.Context()
	limit := start.Add(time.Duration(spec.TimeoutSecs) * time.Second)
	if dl, ok := ctx.Deadline(); !ok || dl.After(limit) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, limit)
		defer cancel()
	}
	resp, err := h.fn.Invoke(ctx, req)
	if err != nil {
		f := Failure{Task: spec.Task, RunID: req.RunID, Status: "failed", Kind: fnspec.KindError, Error: err.Error()}
		var fe *fnrt.Error
		if errors.As(err, &fe) {
			f.Kind, f.RunID = fe.Kind, fe.RunID
		}
		status := http.StatusInternalServerError
		switch {
		case f.Kind == KindBadRequest:
			status = http.StatusBadRequest
		case f.Kind.Permanent():
			status = StatusPermanent
		}
		writeJSON(w, status, f)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func readRequest(body io.Reader) (fnspec.Request, error) {
	var req fnspec.Request
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return req, fmt.Errorf("read the request body: %w", err)
	}
	if len(data) > maxBody {
		return req, fmt.Errorf("the request body is over %d bytes; send a JSON object such as {\"run_id\": \"...\"}", maxBody)
	}
	if s := strings.TrimSpace(string(data)); s == "" || s == "null" {
		return req, nil
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return req, fmt.Errorf(`the request body is not a JSON object such as {"run_id": "..."}: %w`, err)
	}
	return req, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs and maps are written
		b = []byte(`{"status":"failed","kind":"Error","error":"encode the response"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// platformMemoryMiB returns the memory limit of this instance's cgroup, or
// zero when there is none to read. Cloud Run tells a function nothing else
// about its memory.
func platformMemoryMiB() int {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n >= 1<<40 { // "max", or cgroup v1's "unlimited"
			return 0
		}
		return int(n >> 20)
	}
	return 0
}

// logsURL returns the link to the Logs Explorer's view of this function's
// log between two times: Cloud Run names the service (K_SERVICE) and the
// deployment sets GOOGLE_CLOUD_PROJECT. Nil if either is missing.
func logsURL(getenv func(string) string) func(start, end time.Time) string {
	project, service := getenv("GOOGLE_CLOUD_PROJECT"), getenv("K_SERVICE")
	if project == "" || service == "" {
		return nil
	}
	query := fmt.Sprintf("resource.type=\"cloud_run_revision\"\nresource.labels.service_name=\"%s\"", service)
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return func(start, end time.Time) string {
		span := start.UTC().Format(time.RFC3339) + "/" + end.Add(time.Second).UTC().Format(time.RFC3339)
		return fmt.Sprintf("https://console.cloud.google.com/logs/query;query=%s;timeRange=%s?project=%s", esc(query), esc(span), url.QueryEscape(project))
	}
}
