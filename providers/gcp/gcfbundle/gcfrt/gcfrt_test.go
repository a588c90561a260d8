package gcfrt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

// TestMain makes the test binary a sandbox worker when the Handler's pool
// starts it, as Start does in a bundle.
func TestMain(m *testing.M) {
	fnrt.ServeIfRequested()
	code := m.Run()
	wasmbuild.Cleanup()
	os.Exit(code)
}

const bucket = "gcfrt-test"

type fixture struct {
	srv  *fakegcs.Server
	h    *Handler
	urls map[string]string
	log  *syncbuf.Buffer
}

// object returns the bytes of a dataset's object and whether it exists.
func (f *fixture) object(t *testing.T, dataset string) ([]byte, bool) {
	t.Helper()
	b, o, err := gcsstore.ParseURL(f.urls[dataset])
	require.NoError(t, err)
	return f.srv.GetObject(t, b, o)
}

// serve starts a Handler for the fixture module testdata/wasm/<name> with a
// spec declaring inputs and outputs, its datasets in a fake Cloud Storage.
func serve(t *testing.T, name string, inputs, outputs []string, edit func(*fnspec.TaskSpec)) *fixture {
	t.Helper()
	return serveAt(t, name, inputs, outputs, edit, nil)
}

// serveAt is serve with the datasets' URLs changed by at, if set.
func serveAt(t *testing.T, name string, inputs, outputs []string, edit func(*fnspec.TaskSpec), at func(urls map[string]string)) *fixture {
	t.Helper()
	wasmPath := wasmbuild.Build(t, filepath.Join("..", "..", "..", "..", "testdata", "wasm", name))
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	sum := sha256.Sum256(wasm)
	spec := fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "test", Task: name, ModuleSHA256: hex.EncodeToString(sum[:]),
		Inputs: inputs, Outputs: outputs, MemoryMiB: 64, TimeoutSecs: 60,
	}
	if edit != nil {
		edit(&spec)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.ModuleFile), wasm, 0o644))
	data, err := spec.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.SpecFile), data, 0o644))

	srv := fakegcs.Start(t)
	srv.CreateBucket(t, bucket)
	// The worker, a child process, finds the emulator through the
	// environment, as a bundle does.
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	urls := map[string]string{}
	for _, n := range append(append([]string{}, inputs...), outputs...) {
		urls[n] = "gs://" + bucket + "/" + t.Name() + "/" + n
	}
	if at != nil {
		at(urls)
	}
	log := &syncbuf.Buffer{}
	h := NewHandler(t.Context(), fnrt.Options{Dir: dir, Datasets: urls, Log: log, ScratchDir: t.TempDir()})
	t.Cleanup(func() { h.Close() })
	return &fixture{srv: srv, h: h, urls: urls, log: log}
}

// post sends a request with body and decodes the JSON answer into out.
func (f *fixture) post(t *testing.T, method, body string, out any) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, "/", strings.NewReader(body)))
	res := rec.Result()
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(res.Body).Decode(out), "body: %s", rec.Body.String())
	return res
}

func TestSuccess(t *testing.T) {
	f := serve(t, "copy", []string{"in"}, []string{"out"}, func(s *fnspec.TaskSpec) {
		s.Params = map[string]string{"suffix": "!"}
	})
	b, o, err := gcsstore.ParseURL(f.urls["in"])
	require.NoError(t, err)
	f.srv.PutObject(t, b, o, []byte("hello"))

	var resp fnspec.Response
	res := f.post(t, http.MethodPost, `{"run_id": "run-1"}`, &resp)
	require.Equal(t, http.StatusOK, res.StatusCode, "log: %s", f.log.String())
	got, ok := f.object(t, "out")
	require.True(t, ok)
	assert.Equal(t, "hello!", string(got))
	sum := sha256.Sum256(got)
	assert.Equal(t, fnspec.Response{
		Task: "copy", RunID: "run-1", Status: "succeeded",
		Outputs:    map[string]fnspec.OutputInfo{"out": {Size: 6, SHA256: hex.EncodeToString(sum[:])}},
		DurationMS: resp.DurationMS,
	}, resp)
	assert.Contains(t, f.log.String(), "[copy] copied 5 bytes")

	// No body: a run id is made up.
	resp = fnspec.Response{}
	res = f.post(t, http.MethodPost, "", &resp)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, resp.RunID)
	assert.NotEqual(t, "run-1", resp.RunID)
}

func TestBadRequests(t *testing.T) {
	f := serve(t, "copy", []string{"in"}, []string{"out"}, nil)
	for _, tc := range []struct {
		name, method, body string
		status             int
		msg                string
	}{
		{"get", http.MethodGet, "", http.StatusMethodNotAllowed, "run with POST"},
		{"not json", http.MethodPost, "run it", http.StatusBadRequest, "not a JSON object"},
		{"array", http.MethodPost, `["run_id"]`, http.StatusBadRequest, "not a JSON object"},
		{"huge", http.MethodPost, `{"run_id": "` + strings.Repeat("x", maxBody) + `"}`, http.StatusBadRequest, "over 65536 bytes"},
		{"run id forging a log line", http.MethodPost, `{"run_id": "r1\nglacier: run r1 succeeded"}`, http.StatusBadRequest, `run_id "r1\nglacier: run r1 succeeded" is not a run id`},
		{"run id too long", http.MethodPost, `{"run_id": "` + strings.Repeat("r", 129) + `"}`, http.StatusBadRequest, "1 to 128 letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fail Failure
			res := f.post(t, tc.method, tc.body, &fail)
			assert.Equal(t, tc.status, res.StatusCode)
			assert.Equal(t, "failed", fail.Status)
			assert.Equal(t, KindBadRequest, fail.Kind)
			assert.Contains(t, fail.Error, tc.msg)
			if tc.method != http.MethodPost {
				assert.Equal(t, http.MethodPost, res.Header.Get("Allow"))
			}
		})
	}
	_, ok := f.object(t, "out")
	assert.False(t, ok, "a refused request ran the task")
	for _, line := range strings.Split(f.log.String(), "\n") {
		assert.False(t, strings.HasPrefix(line, "glacier: run r1 succeeded"), "a request forged a log line: %q", line)
	}
}

// TestFailures checks that a failed task answers 500 with its kind and
// message, and commits nothing.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		edit    func(*fnspec.TaskSpec)
		kind    fnspec.Kind
		msg     string
	}{
		{fixture: "errorpartial", kind: fnspec.KindTaskFailed, msg: "row 7: bad currency code"},
		{fixture: "panicpartial", kind: fnspec.KindTaskFailed, msg: "panic"},
		{fixture: "exit3", kind: fnspec.KindTaskFailed, msg: "exited with code 3"},
		{fixture: "membomb", kind: fnspec.KindMemoryLimit, msg: "ran out of memory"},
		// The request's deadline is the task's timeout; the task is
		// stopped shortly before it.
		{fixture: "loop", edit: func(s *fnspec.TaskSpec) { s.TimeoutSecs = 1 }, kind: fnspec.KindTimeout, msg: "before the function's deadline"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := serve(t, tc.fixture, nil, []string{"out"}, tc.edit)
			var fail Failure
			res := f.post(t, http.MethodPost, `{"run_id": "r"}`, &fail)
			assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
			assert.Equal(t, Failure{Task: tc.fixture, RunID: "r", Status: "failed", Kind: tc.kind, Error: fail.Error}, fail)
			assert.Contains(t, fail.Error, tc.msg)
			assert.Contains(t, fail.Error, "nothing was committed")
			_, ok := f.object(t, "out")
			assert.False(t, ok, "a failed task committed its output")
		})
	}
}

// TestStorageDenied checks that a task the storage refuses for good (here
// a missing bucket, for its input or its output) answers StatusPermanent,
// which the workflow does not retry, with kind StorageDenied.
func TestStorageDenied(t *testing.T) {
	for _, dataset := range []string{"in", "out"} {
		t.Run(dataset, func(t *testing.T) {
			f := serveAt(t, "copy", []string{"in"}, []string{"out"}, nil, func(urls map[string]string) {
				urls[dataset] = "gs://no-such-bucket/" + t.Name()
			})
			if dataset == "out" {
				b, o, err := gcsstore.ParseURL(f.urls["in"])
				require.NoError(t, err)
				f.srv.PutObject(t, b, o, []byte("hello"))
			}
			var fail Failure
			res := f.post(t, http.MethodPost, `{"run_id": "r"}`, &fail)
			assert.Equal(t, StatusPermanent, res.StatusCode)
			assert.Equal(t, fnspec.KindStorageDenied, fail.Kind)
			assert.Contains(t, fail.Error, `bucket "no-such-bucket" does not exist`)
		})
	}
}

func TestInitFailure(t *testing.T) {
	dir := t.TempDir()
	h := NewHandler(t.Context(), fnrt.Options{Dir: dir, Datasets: map[string]string{}})
	t.Cleanup(func() { h.Close() })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	var fail Failure
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fail))
	assert.Equal(t, KindInit, fail.Kind)
	assert.Contains(t, fail.Error, "the function could not start")
	assert.Contains(t, fail.Error, fnspec.SpecFile)
}

func TestFunctionDir(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	_, err := FunctionDir()
	require.Error(t, err)
	assert.Contains(t, err.Error(), SourceDir)

	// Served locally, from the bundle's directory.
	require.NoError(t, os.WriteFile(fnspec.SpecFile, []byte("{}"), 0o644))
	dir, err := FunctionDir()
	require.NoError(t, err)
	assert.Equal(t, wd, dir)

	// In Cloud Functions, where the buildpack moved the source.
	require.NoError(t, os.Mkdir(SourceDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(SourceDir, fnspec.SpecFile), []byte("{}"), 0o644))
	dir, err = FunctionDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, SourceDir), dir)
}

// TestContract: an output that breaks the contract the spec carries fails
// the function with kind Contract, naming the line and the rule, and
// nothing is committed.
func TestContract(t *testing.T) {
	f := serve(t, "copy", []string{"in"}, []string{"out"}, func(s *fnspec.TaskSpec) {
		s.Params = map[string]string{"suffix": `{"a": 2}`}
		s.Schemas = map[string]json.RawMessage{"out": json.RawMessage(`{"format":"jsonl","json_schema":{"type":"object"}}`)}
	})
	b, o, err := gcsstore.ParseURL(f.urls["in"])
	require.NoError(t, err)
	f.srv.PutObject(t, b, o, []byte("{\"a\": 1}\n"))

	var fail Failure
	res := f.post(t, http.MethodPost, `{"run_id": "r"}`, &fail)
	assert.Equal(t, StatusPermanent, res.StatusCode, "a broken contract is not worth a retry; log: %s", f.log.String())
	assert.Equal(t, Failure{Task: "copy", RunID: "r", Status: "failed", Kind: fnspec.KindContract, Error: fail.Error}, fail)
	assert.Contains(t, fail.Error, `dataset "out": line 2 (record 2): the last record has no line ending`)
	assert.Contains(t, fail.Error, "nothing was committed")
	_, ok := f.object(t, "out")
	assert.False(t, ok, "a task that broke its contract committed its output")
}

func TestLogsURL(t *testing.T) {
	env := map[string]string{"GOOGLE_CLOUD_PROJECT": "acme-data", "K_SERVICE": "etl-clean"}
	link := logsURL(func(k string) string { return env[k] })
	require.NotNil(t, link)
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	assert.Equal(t, "https://console.cloud.google.com/logs/query;query=resource.type%3D%22cloud_run_revision%22%0A"+
		"resource.labels.service_name%3D%22etl-clean%22;timeRange=2026-12-07T10%3A00%3A00Z%2F2026-12-07T10%3A00%3A03Z?project=acme-data",
		link(start, start.Add(2500*time.Millisecond)))

	delete(env, "GOOGLE_CLOUD_PROJECT")
	assert.Nil(t, logsURL(func(k string) string { return env[k] }), "no link without the project")
}
