package wasmrt_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func TestRunCopy(t *testing.T) {
	m := load(t, "copy")
	st := newMemStorage(map[string]string{"in": "hello"})
	var log syncbuf.Buffer
	res, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
		Task: "copy", RunID: "r1", Params: map[string]string{"suffix": "!"},
		Inputs: []string{"in"}, Outputs: []string{"out"}, Storage: st, Log: &log,
	})
	require.NoError(t, err)
	out, ok := st.get("out")
	require.True(t, ok, "output committed")
	assert.Equal(t, "hello!", out)
	assert.Equal(t, map[string]wasmrt.Output{"out": {Size: 6, SHA256: sha("hello!")}}, res.Outputs)
	assert.EqualValues(t, 5, res.BytesIn)
	assert.EqualValues(t, 6, res.BytesOut)
	assert.Contains(t, log.String(), "copied 5 bytes")
	assert.EqualValues(t, log.Len(), res.LogBytes)
	assert.Zero(t, res.LogDropped)
	assert.Positive(t, res.Duration)
	assert.Equal(t, 1, st.commits)
	assert.Zero(t, st.open)
}

func TestRunSkipDigests(t *testing.T) {
	st := newMemStorage(map[string]string{"in": "hello"})
	res, err := sharedRuntime(t).Run(context.Background(), load(t, "copy"), wasmrt.Invocation{
		Task: "copy", Params: map[string]string{"suffix": "!"},
		Inputs: []string{"in"}, Outputs: []string{"out"}, Storage: st, SkipDigests: true,
	})
	require.NoError(t, err)
	out, _ := st.get("out")
	assert.Equal(t, "hello!", out)
	assert.Equal(t, map[string]wasmrt.Output{"out": {Size: 6}}, res.Outputs)
}

// TestRunFailuresCommitNothing runs every kind of failing task and checks
// the error (kind, task name, details), the log, and that the storage kept
// nothing of what the task wrote.
func TestRunFailuresCommitNothing(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		inputs   []string
		outputs  []string
		params   map[string]string
		memory   uint64
		wantIs   error // nil when an *ExitError is expected
		wantCode int
		wantErr  []string
		wantLog  []string
	}{
		{
			name: "undeclared input", fixture: "undeclared", inputs: []string{"in"},
			wantCode: 1,
			wantErr:  []string{`task "undeclared input"`, `"secret"`},
			wantLog:  []string{`access denied: "secret" is not a declared input`, "(inputs: in)"},
		},
		{
			name: "writes its own input", fixture: "writeinput", inputs: []string{"in"}, outputs: []string{"out"},
			wantCode: 1,
			wantErr:  []string{`task "writes its own input"`, `"in"`},
			wantLog:  []string{`access denied: "in" is not a declared output`, "(outputs: out)"},
		},
		{
			name: "panic after partial output", fixture: "panicpartial", outputs: []string{"out"},
			wantCode: 2,
			wantErr:  []string{`task "panic after partial output"`, "index out of range", "exit code 2"},
			wantLog:  []string{"panic"},
		},
		{
			name: "error after partial output", fixture: "errorpartial", outputs: []string{"out"},
			wantCode: 1,
			wantErr:  []string{`task "error after partial output" failed: row 7: bad currency code (exit code 1)`},
		},
		{
			name: "exit 3 after closing output", fixture: "exit3", outputs: []string{"out"},
			wantCode: 3,
			wantErr:  []string{`task "exit 3 after closing output" exited with code 3`},
		},
		{
			name: "success without its output", fixture: "nooutput", outputs: []string{"out", "summary"},
			wantIs:  wasmrt.ErrMissingOutput,
			wantErr: []string{`task "success without its output"`, `"out", "summary"`},
		},
		{
			name: "memory bomb", fixture: "membomb", outputs: []string{"out"}, memory: 64 << 20,
			wantIs:  wasmrt.ErrMemoryLimit,
			wantErr: []string{`task "memory bomb"`, "64 MiB limit", "raise the task's compute memory"},
			wantLog: []string{"out of memory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := load(t, tt.fixture)
			st := newMemStorage(map[string]string{"in": "input bytes"})
			var log syncbuf.Buffer
			_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
				Task: tt.name, Inputs: tt.inputs, Outputs: tt.outputs, Params: tt.params,
				Storage: st, Log: &log, MemoryLimit: tt.memory,
			})
			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			} else {
				var exit *wasmrt.ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, tt.wantCode, exit.ExitCode())
				assert.Equal(t, tt.name, exit.Task())
			}
			for _, s := range tt.wantErr {
				assert.Contains(t, err.Error(), s)
			}
			assert.Contains(t, err.Error(), "nothing was committed")
			for _, s := range tt.wantLog {
				assert.Contains(t, log.String(), s)
			}
			assertNothingCommitted(t, st)
		})
	}
}

func assertNothingCommitted(t *testing.T, st *memStorage) {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	assert.Zero(t, st.commits, "commits")
	assert.Zero(t, st.open, "stages left open")
	assert.Equal(t, map[string][]byte{"in": []byte("input bytes")}, st.data, "storage changed")
}

func TestLoadRefusesOtherABIVersion(t *testing.T) {
	_, err := sharedRuntime(t).Load(context.Background(), fixtureBytes(t, "abiv2"))
	require.ErrorIs(t, err, wasmrt.ErrABIVersion)
	assert.Contains(t, err.Error(), "glacier_v2.task_context")
	assert.Contains(t, err.Error(), "version 2")
	assert.Contains(t, err.Error(), "speaks version 1")
}

func TestSandboxHidesHostFiles(t *testing.T) {
	m := load(t, "hostfiles")
	st := newMemStorage(nil)
	_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
		Task: "hostfiles", Outputs: []string{"report"}, Storage: st,
	})
	require.NoError(t, err)
	text, ok := st.get("report")
	require.True(t, ok)
	var report []struct{ What, Data, Error string }
	require.NoError(t, json.Unmarshal([]byte(text), &report))
	require.Len(t, report, 5)
	for _, a := range report {
		assert.NotEmpty(t, a.Error, "%s should fail", a.What)
		assert.Empty(t, a.Data, "%s should see nothing", a.What)
	}
}

func TestSandboxHidesEnvironment(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
	m := load(t, "environ")
	st := newMemStorage(nil)
	_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
		Task: "environ", Outputs: []string{"env"}, Storage: st,
	})
	require.NoError(t, err)
	text, ok := st.get("env")
	require.True(t, ok)
	assert.Equal(t, "environ:\nargs:environ\n", text, "no environment, args = [task]")
	assert.NotContains(t, text, "AWS_")
}

func TestLogFloodIsCapped(t *testing.T) {
	mib := 200
	if testing.Short() {
		mib = 20
	}
	const limit = 1 << 20
	rt, err := wasmrt.NewRuntimeWithConfig(context.Background(), wasmrt.NewConfig().WithCacheDir(cacheDir).WithLogLimit(limit))
	require.NoError(t, err)
	defer rt.Close(context.Background())
	m, err := rt.Load(context.Background(), fixtureBytes(t, "flood"))
	require.NoError(t, err)
	var log syncbuf.Buffer
	res, err := rt.Run(context.Background(), m, wasmrt.Invocation{
		Task: "flood", Params: map[string]string{"mib": itoa(mib)}, Log: &log,
	})
	require.NoError(t, err)
	total := int64(2 * mib << 20)
	assert.EqualValues(t, log.Len(), res.LogBytes)
	assert.Less(t, res.LogBytes, int64(limit+4096), "log kept within the limit plus the final line")
	assert.GreaterOrEqual(t, res.LogBytes, int64(limit))
	assert.GreaterOrEqual(t, res.LogBytes+res.LogDropped, total)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	assert.Contains(t, lines[len(lines)-1], "glacier: log limit reached")
	assert.Contains(t, lines[len(lines)-1], itoa64(res.LogDropped)+" bytes")
}

func TestRunTimeoutInProcess(t *testing.T) {
	// In process, only a runtime compiled with preemption checks can stop a
	// task that never calls the host; the Pool does it without them.
	rt, err := wasmrt.NewRuntimeWithConfig(context.Background(), wasmrt.NewConfig().WithCacheDir(cacheDir).WithCloseOnContextDone(true))
	require.NoError(t, err)
	defer rt.Close(context.Background())
	m, err := rt.Load(context.Background(), fixtureBytes(t, "loop"))
	require.NoError(t, err)

	for _, tt := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		wantIs []error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, []error{wasmrt.ErrTimeout, context.DeadlineExceeded}},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel) // any moment gives the same outcome
			return ctx, cancel
		}, []error{wasmrt.ErrCanceled, context.Canceled}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			st := newMemStorage(map[string]string{"in": "input bytes"})
			_, err := rt.Run(ctx, m, wasmrt.Invocation{Task: "loop", Outputs: []string{"out"}, Storage: st})
			for _, target := range tt.wantIs {
				assert.ErrorIs(t, err, target)
			}
			assert.Contains(t, err.Error(), `task "loop"`)
			assertNothingCommitted(t, st)
		})
	}
}

// TestHostCallsFailOnceCanceled cancels the invocation from inside a read:
// the next host call returns ErrnoCanceled, and the task fails as canceled.
func TestHostCallsFailOnceCanceled(t *testing.T) {
	m := load(t, "streamin")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := newMemStorage(map[string]string{"in": strings.Repeat("x", 3<<20)})
	st.reader = func(_ string, data []byte) io.Reader {
		return &cancelingReader{data: data, cancel: cancel}
	}
	var log syncbuf.Buffer
	_, err := sharedRuntime(t).Run(ctx, m, wasmrt.Invocation{Task: "streamin", Inputs: []string{"in"}, Storage: st, Log: &log})
	require.ErrorIs(t, err, wasmrt.ErrCanceled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, log.String(), "host calls now fail", "the guest saw ErrnoCanceled")
}

type cancelingReader struct {
	data   []byte
	cancel context.CancelFunc
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.cancel()
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestRunBadArguments passes a bad pointer, length or handle to each host
// function. Every one fails the task with ErrFault, though the guest exits
// 0, and the guest got the right errno.
func TestRunBadArguments(t *testing.T) {
	tests := []struct {
		name, fn string
		errno    int
	}{
		{"context_len_ptr", "task_context", 2},
		{"context_buf", "task_context", 2},
		{"open_name", "dataset_open", 2},
		{"open_handle_ptr", "dataset_open", 2},
		{"read_handle", "dataset_read", 1},
		{"read_buf", "dataset_read", 2},
		{"read_n_ptr", "dataset_read", 2},
		{"write_handle", "dataset_write", 1},
		{"write_buf", "dataset_write", 1},
		{"write_on_input", "dataset_write", 1},
		{"read_on_output", "dataset_read", 1},
		{"close_handle", "dataset_close", 1},
		{"close_twice", "dataset_close", 1},
		{"fail_msg", "task_fail", 2},
	}
	m := load(t, "badptr")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStorage(map[string]string{"in": "input bytes"})
			var log syncbuf.Buffer
			_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
				Task: "badptr", Params: map[string]string{"case": tt.name},
				Inputs: []string{"in"}, Outputs: []string{"out"}, Storage: st, Log: &log,
			})
			require.ErrorIs(t, err, wasmrt.ErrFault)
			assert.Contains(t, err.Error(), `task "badptr" passed an invalid argument to the host (`+tt.fn+":")
			assert.Contains(t, log.String(), "errno="+itoa(tt.errno)+"\n")
			assert.Contains(t, log.String(), "glacier: task \"badptr\": fault: "+tt.fn)
			assertNothingCommitted(t, st)
		})
	}
}

func TestRunNoentForMissingInput(t *testing.T) {
	m := load(t, "copy")
	st := newMemStorage(nil)
	_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
		Task: "copy", Inputs: []string{"in"}, Outputs: []string{"out"}, Storage: st,
	})
	var exit *wasmrt.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Contains(t, exit.Message(), "no version yet")
	assert.Zero(t, st.commits)
}

func TestRunMemoryLimitBelowStart(t *testing.T) {
	m := load(t, "empty")
	_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{Task: "tiny", MemoryLimit: 64 << 10})
	require.ErrorIs(t, err, wasmrt.ErrMemoryLimit)
	assert.Contains(t, err.Error(), `task "tiny" needs`)
}

func TestRunRejectsBadInvocation(t *testing.T) {
	m := load(t, "empty")
	for _, tt := range []struct {
		name string
		inv  wasmrt.Invocation
		want string
	}{
		{"no task", wasmrt.Invocation{}, "no task name"},
		{"no storage", wasmrt.Invocation{Task: "t", Inputs: []string{"a"}}, "no Storage"},
		{"twice", wasmrt.Invocation{Task: "t", Inputs: []string{"a"}, Outputs: []string{"a"}, Storage: newMemStorage(nil)}, `"a" is declared twice`},
		{"empty name", wasmrt.Invocation{Task: "t", Inputs: []string{""}, Storage: newMemStorage(nil)}, "input name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sharedRuntime(t).Run(context.Background(), m, tt.inv)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRunConcurrent(t *testing.T) {
	m := load(t, "copy")
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			in := strings.Repeat(itoa(i), 1000)
			st := newMemStorage(map[string]string{"in": in})
			_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{
				Task: "copy", Inputs: []string{"in"}, Outputs: []string{"out"}, Storage: st,
			})
			if err == nil {
				if out, _ := st.get("out"); out != in {
					err = errors.New("wrong output for " + itoa(i))
				}
			}
			errs <- err
		}()
	}
	for range n {
		assert.NoError(t, <-errs)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }

// TestStreamsThroughHandles streams a few MiB each way and checks sizes and
// the SHA-256 computed on the way (the 256 MiB runs are benchmarks).
func TestStreamsThroughHandles(t *testing.T) {
	const mib = 8
	out := load(t, "streamout")
	st := newMemStorage(nil)
	res, err := sharedRuntime(t).Run(context.Background(), out, wasmrt.Invocation{
		Task: "streamout", Outputs: []string{"out"}, Storage: st, Params: map[string]string{"mib": itoa(mib)},
	})
	require.NoError(t, err)
	data, ok := st.get("out")
	require.True(t, ok)
	require.Len(t, data, mib<<20)
	for i := 0; i < len(data); i += 4093 {
		require.Equal(t, byte(i%(1<<20)), data[i], "byte %d", i)
	}
	assert.Equal(t, wasmrt.Output{Size: mib << 20, SHA256: sha(data)}, res.Outputs["out"])

	in := load(t, "streamin")
	var log syncbuf.Buffer
	st = newMemStorage(map[string]string{"in": data})
	res, err = sharedRuntime(t).Run(context.Background(), in, wasmrt.Invocation{
		Task: "streamin", Inputs: []string{"in"}, Storage: st, Log: &log,
	})
	require.NoError(t, err)
	assert.EqualValues(t, mib<<20, res.BytesIn)
	assert.Equal(t, itoa(mib<<20)+"\n", log.String())
}
