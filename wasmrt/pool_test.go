package wasmrt_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// fileJob returns a job for fixture whose datasets are files in dir; inputs
// maps each input to the bytes written to it first.
func fileJob(t testing.TB, dir, name string, inputs map[string]string, outputs ...string) wasmrt.Job {
	t.Helper()
	path := fixture(t, name)
	job := wasmrt.Job{
		ModulePath: path, ModuleSHA256: sha(string(readFile(t, path))),
		Task: name, Inputs: map[string]string{}, Outputs: map[string]string{},
		LogPath: filepath.Join(dir, name+".log"),
	}
	for n, data := range inputs {
		p := filepath.Join(dir, n)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
		job.Inputs[n] = filestore.URL(p)
	}
	for _, n := range outputs {
		job.Outputs[n] = filestore.URL(filepath.Join(dir, "out", n))
	}
	return job
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// assertNoOutputs checks that nothing but staging leftovers exists where a
// failed job's outputs would be.
func assertNoOutputs(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "out"))
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, strings.HasSuffix(e.Name(), filestore.StagedSuffix), "committed output %s", e.Name())
	}
}

func TestPoolCopy(t *testing.T) {
	dir := t.TempDir()
	job := fileJob(t, dir, "copy", map[string]string{"in": "pooled"}, "out")
	job.Params = map[string]string{"suffix": "?"}
	for range 2 { // the second run finds the module compiled
		res, err := sharedPool(t).Run(context.Background(), job)
		require.NoError(t, err)
		assert.Equal(t, "pooled?", string(readFile(t, filepath.Join(dir, "out", "out"))))
		assert.Equal(t, map[string]wasmrt.Output{"out": {Size: 7, SHA256: sha("pooled?")}}, res.Outputs)
		assert.EqualValues(t, 6, res.BytesIn)
	}
	assert.Contains(t, string(readFile(t, job.LogPath)), "copied 6 bytes")

	job.SkipDigests = true
	res, err := sharedPool(t).Run(context.Background(), job)
	require.NoError(t, err)
	assert.Equal(t, "pooled?", string(readFile(t, filepath.Join(dir, "out", "out"))))
	assert.Equal(t, map[string]wasmrt.Output{"out": {Size: 7}}, res.Outputs)
}

func TestPoolStopsRunawayTask(t *testing.T) {
	const timeout = 500 * time.Millisecond
	// One worker, warmed up before each case, so the deadline always lands
	// on the running task rather than on starting a worker.
	pool, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 1, CacheDir: cacheDir})
	require.NoError(t, err)
	defer pool.Close()
	for _, tt := range []struct {
		name   string
		setup  func(*wasmrt.Job) (context.Context, context.CancelFunc)
		wantIs []error
		log    string
	}{
		{"job timeout", func(j *wasmrt.Job) (context.Context, context.CancelFunc) {
			j.Timeout = timeout
			return context.WithCancel(context.Background())
		}, []error{wasmrt.ErrTimeout, context.DeadlineExceeded}, "ran past its timeout of 500ms"},
		{"context deadline", func(j *wasmrt.Job) (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), timeout)
		}, []error{wasmrt.ErrTimeout, context.DeadlineExceeded}, "context deadline exceeded"},
		{"cancel", func(j *wasmrt.Job) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(timeout, cancel) // whenever it lands, the task must stop
			return ctx, cancel
		}, []error{wasmrt.ErrCanceled, context.Canceled}, "context canceled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := pool.Run(context.Background(), fileJob(t, dir, "empty", nil))
			require.NoError(t, err)
			// Compile the loop module into the on-disk cache first (a job's
			// own timeout starts once its module is loaded), so the time
			// measured below is the task's, not a cold compile's.
			warm := fileJob(t, t.TempDir(), "loop", nil, "out")
			warm.Timeout = time.Millisecond
			_, err = pool.Run(context.Background(), warm)
			require.ErrorIs(t, err, wasmrt.ErrTimeout)
			job := fileJob(t, dir, "loop", nil, "out")
			ctx, cancel := tt.setup(&job)
			defer cancel()
			start := time.Now()
			_, err = pool.Run(ctx, job)
			took := time.Since(start)
			for _, target := range tt.wantIs {
				assert.ErrorIs(t, err, target)
			}
			assert.Contains(t, err.Error(), `task "loop"`)
			assert.Less(t, took, timeout+5*time.Second, "stopped long after its timeout")
			assert.Contains(t, string(readFile(t, job.LogPath)), tt.log)
			assertNoOutputs(t, dir)

			// The killed worker left its staged file; the sweep removes it.
			n, err := filestore.SweepStaged(dir, 0)
			require.NoError(t, err)
			assert.LessOrEqual(t, n, 1)
			entries, err := os.ReadDir(filepath.Join(dir, "out"))
			if err == nil {
				assert.Empty(t, entries)
			}
		})
	}
	// The pool replaced its killed worker.
	dir := t.TempDir()
	_, err = pool.Run(context.Background(), fileJob(t, dir, "copy", map[string]string{"in": "x"}, "out"))
	require.NoError(t, err)
}

// TestPoolErrorsKeepIdentity checks that each kind of failure crosses the
// process boundary intact, and that nothing is committed.
func TestPoolErrorsKeepIdentity(t *testing.T) {
	tests := []struct {
		fixture  string
		outputs  []string
		params   map[string]string
		memory   uint64
		wantIs   error
		wantCode int
		wantErr  string
		wantKind string
	}{
		{fixture: "exit3", outputs: []string{"out"}, wantCode: 3, wantErr: `task "exit3" exited with code 3`, wantKind: "TaskFailed"},
		{fixture: "errorpartial", outputs: []string{"out"}, wantCode: 1, wantErr: "row 7: bad currency code", wantKind: "TaskFailed"},
		{fixture: "membomb", outputs: []string{"out"}, memory: 48 << 20, wantIs: wasmrt.ErrMemoryLimit, wantErr: "48 MiB limit", wantKind: "MemoryLimit"},
		{fixture: "nooutput", outputs: []string{"out"}, wantIs: wasmrt.ErrMissingOutput, wantErr: `output "out"`, wantKind: "MissingOutput"},
		{fixture: "badptr", outputs: []string{"out"}, params: map[string]string{"case": "read_buf"}, wantIs: wasmrt.ErrFault, wantErr: "dataset_read", wantKind: "Fault"},
		{fixture: "abiv2", wantIs: wasmrt.ErrABIVersion, wantErr: "version 2", wantKind: "ABIVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			dir := t.TempDir()
			job := fileJob(t, dir, tt.fixture, map[string]string{"in": "input"}, tt.outputs...)
			job.Params, job.MemoryLimit = tt.params, tt.memory
			_, err := sharedPool(t).Run(context.Background(), job)
			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			} else {
				var exit *wasmrt.ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, tt.wantCode, exit.ExitCode())
			}
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, tt.wantKind, wasmrt.KindOf(err), "the kind crosses the pipe")
			assertNoOutputs(t, dir)
			n, err := filestore.SweepStaged(dir, 0)
			require.NoError(t, err)
			assert.Zero(t, n, "a worker that finished the task discards its staged files itself")
		})
	}
}

func TestPoolRefusesBadJobs(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		edit func(*wasmrt.Job)
		want string
	}{
		{"unknown scheme", func(j *wasmrt.Job) { j.Outputs["out"] = "nope://bucket/out" }, `no storage driver for URL scheme "nope"`},
		{"wrong sha", func(j *wasmrt.Job) { j.ModuleSHA256 = sha("other") }, "but the job expects"},
		{"no module file", func(j *wasmrt.Job) { j.ModulePath, j.ModuleSHA256 = filepath.Join(dir, "missing.wasm"), "" }, "read module"},
		{"no task", func(j *wasmrt.Job) { j.Task = "" }, "no task name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			job := fileJob(t, dir, "copy", map[string]string{"in": "x"}, "out")
			tt.edit(&job)
			_, err := sharedPool(t).Run(context.Background(), job)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// fakeWorkerEnv makes the test binary act as a worker that says hello and
// dies on its first job (see fakeworker_test.go).
const fakeWorkerEnv = "GLACIER_WASMRT_TEST_FAKE_WORKER"

func TestPoolReplacesCrashedWorker(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	p, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{
		Workers: 1,
		Command: func() *exec.Cmd {
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), fakeWorkerEnv+"=crash")
			return cmd
		},
	})
	require.NoError(t, err)
	defer p.Close()
	dir := t.TempDir()
	job := fileJob(t, dir, "copy", map[string]string{"in": "x"}, "out")
	for range 2 { // the second job gets a new worker, which crashes too
		_, err := p.Run(context.Background(), job)
		require.ErrorIs(t, err, wasmrt.ErrWorkerCrashed)
		assert.Contains(t, err.Error(), `task "copy"`)
		assert.Contains(t, err.Error(), "exit status 7")
		assert.Contains(t, err.Error(), "simulated crash")
	}
	assertNoOutputs(t, dir)
}

func TestNewPoolFailsWithoutWorkerSupport(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true command")
	}
	_, err = wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{
		Workers: 1,
		Command: func() *exec.Cmd { return exec.Command(truePath) },
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ServeWorkerIfRequested")
}

func TestPoolClosed(t *testing.T) {
	p, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 1})
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, err = p.Run(context.Background(), wasmrt.Job{Task: "t", ModulePath: "x.wasm"})
	assert.ErrorIs(t, err, wasmrt.ErrCanceled)
	assert.Contains(t, err.Error(), "pool is closed")
}

// TestPoolHammer runs many jobs from many goroutines, some failing, and
// checks every outcome.
func TestPoolHammer(t *testing.T) {
	P, N := 8, 25
	if testing.Short() {
		P, N = 4, 5
	}
	pool := sharedPool(t)
	copyPath, exitPath := fixture(t, "copy"), fixture(t, "exit3")
	copySHA, exitSHA := sha(string(readFile(t, copyPath))), sha(string(readFile(t, exitPath)))
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, P*N)
	for g := range P {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range N {
				name := fmt.Sprintf("g%d-%d", g, i)
				in := filepath.Join(dir, name+".in")
				out := filepath.Join(dir, name+".out")
				if err := os.WriteFile(in, []byte(name), 0o644); err != nil {
					errs <- err
					return
				}
				job := wasmrt.Job{
					ModulePath: copyPath, ModuleSHA256: copySHA, Task: name,
					Inputs:  map[string]string{"in": filestore.URL(in)},
					Outputs: map[string]string{"out": filestore.URL(out)},
				}
				fail := i%5 == 4
				if fail {
					job.ModulePath, job.ModuleSHA256 = exitPath, exitSHA
				}
				_, err := pool.Run(context.Background(), job)
				got, readErr := os.ReadFile(out)
				switch {
				case fail && err == nil:
					errs <- fmt.Errorf("%s: want an exit error", name)
				case fail && readErr == nil:
					errs <- fmt.Errorf("%s: failed job committed %q", name, got)
				case !fail && err != nil:
					errs <- fmt.Errorf("%s: %w", name, err)
				case !fail && string(got) != name:
					errs <- fmt.Errorf("%s: output %q (%v)", name, got, readErr)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPoolCloseStopsRunningTask(t *testing.T) {
	pool, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 1, CacheDir: cacheDir})
	require.NoError(t, err)
	dir := t.TempDir()
	job := fileJob(t, dir, "loop", nil, "out")
	errc := make(chan error, 1)
	go func() {
		_, err := pool.Run(context.Background(), job)
		errc <- err
	}()
	require.NoError(t, pool.Close()) // whether the job started or not, it must end
	err = <-errc
	assert.ErrorIs(t, err, wasmrt.ErrCanceled)
	assertNoOutputs(t, dir)
}

func TestPoolContextDoneBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	log := filepath.Join(t.TempDir(), "late.log")
	_, err := sharedPool(t).Run(ctx, wasmrt.Job{Task: "late", ModulePath: "x.wasm", LogPath: log})
	assert.ErrorIs(t, err, wasmrt.ErrCanceled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), `task "late" was canceled before it started`)
	// The log says so too, as it does for a task stopped while running.
	assert.Equal(t, "glacier: task \"late\" never started because context canceled; nothing was committed\n", string(readFile(t, log)))
}

// TestCorruptInputFailsTheTask runs a task on an input whose bytes differ
// from its digest: it fails with a storage error, and commits nothing.
func TestCorruptInputFailsTheTask(t *testing.T) {
	dir := t.TempDir()
	job := fileJob(t, dir, "copy", map[string]string{"in": "tampered"}, "out")
	job.Inputs["in"] = storage.WithDigest(job.Inputs["in"], sha("original"), int64(len("original")))
	_, err := sharedPool(t).Run(context.Background(), job)
	require.ErrorIs(t, err, wasmrt.ErrStorage)
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Contains(t, err.Error(), `dataset "in"`)
	assertNoOutputs(t, dir)

	job = fileJob(t, dir, "copy", map[string]string{"in": "original"}, "out")
	job.Inputs["in"] = storage.WithDigest(job.Inputs["in"], sha("original"), int64(len("original")))
	_, err = sharedPool(t).Run(context.Background(), job)
	require.NoError(t, err)
}

// TestTimeoutKeepsLimitLine: a task flooding its log until its timeout is
// killed with its worker, so the log's final count is never written; the
// line saying the limit was reached is there all the same.
func TestTimeoutKeepsLimitLine(t *testing.T) {
	const limit = 64 << 10
	pool, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 1, CacheDir: cacheDir, LogLimit: limit})
	require.NoError(t, err)
	defer pool.Close()
	job := fileJob(t, t.TempDir(), "flood", nil, "out")
	job.Params = map[string]string{"mib": "1000000"}
	job.Timeout = time.Second
	_, err = pool.Run(context.Background(), job)
	require.ErrorIs(t, err, wasmrt.ErrTimeout)
	log := string(readFile(t, job.LogPath))
	assert.Contains(t, log, fmt.Sprintf("glacier: log limit of %d bytes reached; the task's further output is dropped\n", limit))
	assert.Contains(t, log, "ran past its timeout")
	assert.Less(t, len(log), limit+4096)
}
