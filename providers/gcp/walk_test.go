package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

// walker runs a workflow definition the compiler wrote the way Workflows
// runs it, as far as the compiler's definitions go: assign, switch (with
// next or return), http.post under try with retry and except, sys.log,
// parallel branches with shared variables, and parallel for over a range
// with a concurrency limit. A parallel step waits for all its branches or
// iterations (exception policy continueAll) and then raises the first
// unhandled error. Anything else, an expression form included, fails the
// test, so a change to what the compiler writes cannot pass unseen.
type walker struct {
	t *testing.T
	// env is the workflow's environment: the URL variables the program
	// sets and GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID.
	env map[string]string
	// tasks names the task behind each function URL, for Calls.
	tasks map[string]string
	def   struct {
		Main       struct{ Steps []any } `yaml:"main"`
		TaskFailed map[string]any        `yaml:"task_failed"`
	}

	mu    sync.Mutex // guards variables, Calls and Logs
	Calls []walkCall
	Logs  []any
}

// walkCall is one call the workflow made to a task's function.
type walkCall struct {
	Task   string
	Body   map[string]any
	Status int
}

// wfError is an exception raised in the workflow: an HTTP error, as
// Workflows' http.post raises it for a status that is not 2xx.
type wfError struct {
	Code int
	Body string
}

func (e *wfError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

// value is the error as the workflow's except block sees it.
func (e *wfError) value() map[string]any {
	return map[string]any{"code": e.Code, "tags": []any{"HttpError"}, "message": e.Body}
}

func newWalker(t *testing.T, definition []byte, env map[string]string, tasks map[string]string) *walker {
	w := &walker{t: t, env: env, tasks: tasks}
	require.NoError(t, yaml.Unmarshal(definition, &w.def))
	require.NotNil(t, w.def.TaskFailed, "the definition defines task_failed")
	return w
}

// frame holds the variables of the main workflow, a branch or an
// iteration. A branch assigns a variable of its parent only if the
// parallel step shares it; any other assignment is its own.
type frame struct {
	vars   map[string]any
	parent *frame
	shared map[string]bool
}

func (s *frame) lookup(name string) (any, bool) {
	for c := s; c != nil; c = c.parent {
		if v, ok := c.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (s *frame) assign(name string, v any) {
	if _, ok := s.vars[name]; !ok && s.shared[name] && s.parent != nil {
		s.parent.assign(name, v)
		return
	}
	s.vars[name] = v
}

// Run runs the main workflow and returns what it returns, or the
// exception that ended it.
func (w *walker) Run(ctx context.Context) (any, error) {
	ret, _, err := w.steps(ctx, w.def.Main.Steps, &frame{vars: map[string]any{}})
	return ret, err
}

type named struct {
	name string
	body map[string]any
}

func only1(t *testing.T, m map[string]any) named {
	t.Helper()
	require.Len(t, m, 1, "a step is a map with one key")
	for k, v := range m {
		body, ok := v.(map[string]any)
		require.True(t, ok, "step %s holds a map", k)
		return named{k, body}
	}
	return named{}
}

func (w *walker) asSteps(v any) []named {
	list, ok := v.([]any)
	require.True(w.t, ok, "steps are a list: %v", v)
	out := make([]named, len(list))
	for i, s := range list {
		m, ok := s.(map[string]any)
		require.True(w.t, ok, "a step is a map: %v", s)
		out[i] = only1(w.t, m)
	}
	return out
}

// steps runs a list of steps; returned says a return step ended them.
func (w *walker) steps(ctx context.Context, list []any, sc *frame) (ret any, returned bool, err error) {
	steps := w.asSteps(list)
	index := map[string]int{}
	for i, s := range steps {
		index[s.name] = i
	}
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		next, ret, returned, err := w.step(ctx, s, sc)
		if err != nil || returned {
			return ret, returned, err
		}
		if next != "" {
			j, ok := index[next]
			require.True(w.t, ok, "step %s jumps to %s, which is not beside it", s.name, next)
			require.Greater(w.t, j, i, "step %s jumps back to %s", s.name, next)
			i = j - 1
		}
	}
	return nil, false, nil
}

// step runs one step and returns the step to jump to, if any.
func (w *walker) step(ctx context.Context, s named, sc *frame) (next string, ret any, returned bool, err error) {
	b := s.body
	switch {
	case b["assign"] != nil:
		for _, a := range b["assign"].([]any) {
			for k, v := range a.(map[string]any) {
				w.assign(sc, k, w.eval(sc, v))
			}
		}
	case b["try"] != nil:
		return "", nil, false, w.try(ctx, s, sc)
	case b["call"] != nil:
		require.Equal(w.t, "sys.log", b["call"], "step %s", s.name)
		w.mu.Lock()
		w.Logs = append(w.Logs, w.evalLocked(sc, b["args"]))
		w.mu.Unlock()
	case b["switch"] != nil:
		for _, c := range b["switch"].([]any) {
			cond := c.(map[string]any)
			if w.eval(sc, cond["condition"]) != true {
				continue
			}
			if n, ok := cond["next"].(string); ok {
				return n, nil, false, nil
			}
			return "", w.eval(sc, cond["return"]), true, nil
		}
	case b["parallel"] != nil:
		return "", nil, false, w.parallel(ctx, s.name, b["parallel"].(map[string]any), sc)
	case b["return"] != nil:
		return "", w.eval(sc, b["return"]), true, nil
	default:
		w.t.Fatalf("the walker does not know step %s: %v", s.name, b)
	}
	return "", nil, false, nil
}

// try runs a call step: the call, its retries under its predicate, and
// its except block once they are spent.
func (w *walker) try(ctx context.Context, s named, sc *frame) error {
	call := s.body["try"].(map[string]any)
	require.Equal(w.t, "http.post", call["call"], "step %s", s.name)
	args := call["args"].(map[string]any)
	require.Equal(w.t, map[string]any{"type": "OIDC"}, args["auth"], "step %s", s.name)
	url, _ := w.eval(sc, args["url"]).(string)
	body := w.eval(sc, args["body"]).(map[string]any)
	timeout := time.Duration(args["timeout"].(int)) * time.Second

	retry := s.body["retry"].(map[string]any)
	retries := retry["max_retries"].(int)
	var retryable func(code int) bool
	switch retry["predicate"] {
	case "${task_failed}":
		retryable = func(code int) bool { return code == 429 || code >= 500 }
	case "${http.default_retry_predicate_non_idempotent}":
		retryable = func(code int) bool { return code == 429 || code == 503 }
	default:
		w.t.Fatalf("step %s: the walker does not know retry predicate %v", s.name, retry["predicate"])
	}

	var res map[string]any
	var err error
	for attempt := 0; ; attempt++ {
		res, err = w.post(ctx, url, body, timeout)
		var we *wfError
		if err == nil || !asWF(err, &we) || !retryable(we.Code) || attempt == retries {
			break
		}
	}
	if err == nil {
		w.mu.Lock()
		sc.assign(call["result"].(string), res)
		w.mu.Unlock()
		return nil
	}
	exc, ok := s.body["except"].(map[string]any)
	var we *wfError
	if !ok || !asWF(err, &we) {
		return err
	}
	w.mu.Lock()
	sc.assign(exc["as"].(string), we.value())
	w.mu.Unlock()
	_, _, err = w.steps(ctx, exc["steps"].([]any), sc)
	return err
}

func asWF(err error, we **wfError) bool {
	e, ok := err.(*wfError)
	*we = e
	return ok
}

// post makes one call and records it.
func (w *walker) post(ctx context.Context, url string, body map[string]any, timeout time.Duration) (map[string]any, error) {
	task, ok := w.tasks[url]
	require.True(w.t, ok, "the workflow called %q, which is no function's URL", url)
	data, err := json.Marshal(body)
	require.NoError(w.t, err)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	require.NoError(w.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.Calls = append(w.Calls, walkCall{Task: task, Body: body, Status: resp.StatusCode})
	w.mu.Unlock()
	if resp.StatusCode/100 != 2 {
		return nil, &wfError{Code: resp.StatusCode, Body: string(out)}
	}
	var decoded any
	require.NoError(w.t, json.Unmarshal(out, &decoded), "the function's answer is JSON: %s", out)
	return map[string]any{"code": resp.StatusCode, "body": decoded}, nil
}

// parallel runs a parallel step's branches or iterations at once, at most
// its concurrency limit (Workflows' limit by default), and raises the
// first unhandled exception once all have ended.
func (w *walker) parallel(ctx context.Context, name string, p map[string]any, sc *frame) error {
	limit := maxConcurrentIterations
	if l, ok := p["concurrency_limit"]; ok {
		limit = l.(int)
		require.LessOrEqual(w.t, limit, maxConcurrentIterations, "step %s: Workflows runs at most %d at once", name, maxConcurrentIterations)
	}
	shared := map[string]bool{}
	if s, ok := p["shared"].([]any); ok {
		for _, v := range s {
			_, declared := sc.lookup(v.(string))
			require.True(w.t, declared, "step %s shares %v, which is not declared before it", name, v)
			shared[v.(string)] = true
		}
	}
	var runs []func() error
	switch {
	case p["branches"] != nil:
		for _, br := range w.asSteps(p["branches"]) {
			child := &frame{vars: map[string]any{}, parent: sc, shared: shared}
			runs = append(runs, func() error { _, _, err := w.steps(ctx, br.body["steps"].([]any), child); return err })
		}
	case p["for"] != nil:
		loop := p["for"].(map[string]any)
		r := loop["range"].([]any)
		require.Len(w.t, r, 2)
		from, to := toInt(w.t, w.eval(sc, r[0])), toInt(w.t, w.eval(sc, r[1]))
		// Workflows documents no empty range; the definition must skip
		// the loop itself.
		require.LessOrEqual(w.t, from, to, "step %s iterates over an empty range [%d, %d]", name, from, to)
		for i := from; i <= to; i++ {
			child := &frame{vars: map[string]any{loop["value"].(string): i}, parent: sc, shared: shared}
			runs = append(runs, func() error { _, _, err := w.steps(ctx, loop["steps"].([]any), child); return err })
		}
	default:
		w.t.Fatalf("step %s: a parallel step without branches or for", name)
	}
	sem := make(chan struct{}, limit)
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = run()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func toInt(t *testing.T, v any) int {
	switch n := v.(type) {
	case int:
		return n
	case float64:
		require.Equal(t, float64(int(n)), n, "not an integer: %v", n)
		return int(n)
	}
	t.Fatalf("not a number: %v", v)
	return 0
}

var indexRE = regexp.MustCompile(`^(\w+)\["([^"]*)"\]$`)

// assign assigns name, which may be map["key"], in sc.
func (w *walker) assign(sc *frame, name string, v any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := indexRE.FindStringSubmatch(name); m != nil {
		target, ok := sc.lookup(m[1])
		require.True(w.t, ok, "assignment to %s before %s is declared", name, m[1])
		target.(map[string]any)[m[2]] = v
		return
	}
	sc.assign(name, v)
}

// Expression forms the compiler writes.
var (
	getEnvRE   = regexp.MustCompile(`^sys\.get_env\("([A-Z0-9_]+)"\)$`)
	decodeRE   = regexp.MustCompile(`^json\.decode\(sys\.get_env\("([A-Z0-9_]+)"\)\)$`)
	mergeRE    = regexp.MustCompile(`^map\.merge\((\w+), json\.decode\(sys\.get_env\("([A-Z0-9_]+)"\)\)\)$`)
	arithRE    = regexp.MustCompile(`^(.+) (==|-) (\d+)$`)
	pathRE     = regexp.MustCompile(`^\w+(\.\w+|\["[^"]*"\])*$`)
	pathPartRE = regexp.MustCompile(`\.(\w+)|\["([^"]*)"\]`)
)

func (w *walker) eval(sc *frame, v any) any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.evalLocked(sc, v)
}

// evalLocked evaluates v: ${...} strings as expressions, maps and lists
// element by element, anything else as itself.
func (w *walker) evalLocked(sc *frame, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = w.evalLocked(sc, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = w.evalLocked(sc, e)
		}
		return out
	case string:
		if len(x) < 3 || x[:2] != "${" || x[len(x)-1] != '}' {
			return x
		}
		return w.expr(sc, x[2:len(x)-1])
	}
	return v
}

func (w *walker) expr(sc *frame, e string) any {
	if m := decodeRE.FindStringSubmatch(e); m != nil {
		return w.decodeEnv(m[1])
	}
	if m := mergeRE.FindStringSubmatch(e); m != nil {
		base, ok := sc.lookup(m[1])
		require.True(w.t, ok, "%s is not declared", m[1])
		out := map[string]any{}
		for k, v := range base.(map[string]any) {
			out[k] = v
		}
		for k, v := range w.decodeEnv(m[2]).(map[string]any) {
			out[k] = v
		}
		return out
	}
	if m := getEnvRE.FindStringSubmatch(e); m != nil {
		v, ok := w.env[m[1]]
		require.True(w.t, ok, "the workflow reads %s, which its environment lacks", m[1])
		return v
	}
	if m := arithRE.FindStringSubmatch(e); m != nil {
		left := toInt(w.t, w.expr(sc, m[1]))
		n, _ := strconv.Atoi(m[3])
		if m[2] == "==" {
			return left == n
		}
		return left - n
	}
	if pathRE.MatchString(e) {
		root := regexp.MustCompile(`^\w+`).FindString(e)
		v, ok := sc.lookup(root)
		require.True(w.t, ok, "expression %q reads %s, which is not declared", e, root)
		for _, m := range pathPartRE.FindAllStringSubmatch(e[len(root):], -1) {
			key := m[1] + m[2]
			obj, ok := v.(map[string]any)
			require.True(w.t, ok, "expression %q: %v is not a map", e, v)
			v, ok = obj[key]
			require.True(w.t, ok, "expression %q: no key %q in %v", e, key, obj)
		}
		return v
	}
	w.t.Fatalf("the walker does not know the expression %q", e)
	return nil
}

func (w *walker) decodeEnv(name string) any {
	raw, ok := w.env[name]
	require.True(w.t, ok, "the workflow reads %s, which its environment lacks", name)
	var v any
	require.NoError(w.t, json.Unmarshal([]byte(raw), &v))
	return v
}

// TestMapWorkflowFlow walks the workflow compiled for examples/logs with
// stand-in functions that answer a plan with a chosen number of batches
// and fail chosen batches: no batches skip the loop; a failed batch fails
// the workflow before the commit, once the other batches have run; with
// tolerated_failures (parse) it is logged and the commit runs.
func TestMapWorkflowFlow(t *testing.T) {
	out := t.TempDir()
	compileLogs(t, out, Options{})
	def, err := os.ReadFile(filepath.Join(out, "workflow.yaml"))
	require.NoError(t, err)

	tests := []struct {
		name    string
		batches map[string]int
		fail    map[string]int // task → the batch that fails
		wantErr bool
		want    map[string]int
		logs    int
	}{
		{"no batches", map[string]int{"parse": 0, "daily": 2}, nil, false,
			map[string]int{"parse plan": 1, "parse commit": 1, "daily plan": 1, "daily batch 0": 1, "daily batch 1": 1, "daily commit": 1, "all_time run": 1}, 0},
		{"a failed batch", map[string]int{"parse": 1, "daily": 3}, map[string]int{"daily": 1}, true,
			map[string]int{"parse plan": 1, "parse batch 0": 1, "parse commit": 1, "daily plan": 1, "daily batch 0": 1, "daily batch 1": 1, "daily batch 2": 1}, 0},
		{"a tolerated failed batch", map[string]int{"parse": 3, "daily": 1}, map[string]int{"parse": 2}, false,
			map[string]int{"parse plan": 1, "parse batch 0": 1, "parse batch 1": 1, "parse batch 2": 1, "parse commit": 1, "daily plan": 1, "daily batch 0": 1, "daily commit": 1, "all_time run": 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				task := strings.TrimPrefix(r.URL.Path, "/")
				var req fnspec.Request
				if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.RunID != "run-1" {
					http.Error(rw, "bad request", http.StatusBadRequest)
					return
				}
				resp := fnspec.Response{Task: task, RunID: req.RunID, Status: "succeeded"}
				switch {
				case req.Plan:
					n := tt.batches[task]
					resp.Batches = &n
				case req.Batch != nil:
					if f, ok := tt.fail[task]; ok && f == *req.Batch {
						http.Error(rw, `{"error": "part failed"}`, http.StatusInternalServerError)
						return
					}
				}
				rw.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(rw).Encode(resp)
			}))
			defer srv.Close()
			urls, tasks := map[string]string{}, map[string]string{}
			for _, task := range []string{"parse", "daily", "all_time"} {
				urls[task] = srv.URL + "/" + task
				tasks[urls[task]] = task
			}
			js, err := json.Marshal(urls)
			require.NoError(t, err)
			w := newWalker(t, def, map[string]string{urlsEnv: string(js), "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": "run-1"}, tasks)
			_, err = w.Run(t.Context())
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "HTTP 500")
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, calls(w))
			assert.Len(t, w.Logs, tt.logs)
		})
	}
}
