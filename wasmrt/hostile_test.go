package wasmrt_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/hostile"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/schema"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// hostileBound is how long refusing any hostile module may take, however
// slow the machine: the compile budget's 2 s, and a lot of room.
const hostileBound = 30 * time.Second

// kindErr is the sentinel each kind of refusal matches.
var kindErr = map[hostile.Kind]error{
	hostile.Invalid:       wasmrt.ErrInvalidModule,
	hostile.Memory:        wasmrt.ErrMemoryLimit,
	hostile.CompileTime:   wasmrt.ErrCompileBudget,
	hostile.CompileMemory: wasmrt.ErrCompileBudget,
}

// hostileBudget is the compile budget to give c.
func hostileBudget(c hostile.Case) wasmrt.CompileBudget {
	budget := wasmrt.CompileBudget{Timeout: time.Duration(c.CompileTimeoutSeconds()) * time.Second, Memory: hostile.CompileMemoryMiB << 20}
	if raceEnabled {
		budget.Memory *= 8
	}
	return budget
}

// refuseHostile gives every hostile module, as a file, to refuse and checks
// that it is refused in bounded time with a clean error naming the task,
// which check then examines.
func refuseHostile(t *testing.T, refuse func(c hostile.Case, path string) error, check func(t *testing.T, c hostile.Case, err error)) {
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if raceEnabled && c.Kind == hostile.CompileMemory {
				t.Skip("the race detector's shadow memory counts against the compile budget")
			}
			path := filepath.Join(t.TempDir(), "t.wasm")
			require.NoError(t, c.WriteTo(path))
			start := time.Now()
			err := refuse(c, path)
			took := time.Since(start)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `task "t"`)
			assert.NotContains(t, err.Error(), "goroutine", "no Go stack traces in the error")
			assert.Less(t, took, hostileBound)
			t.Logf("refused in %v: %v", took.Round(time.Millisecond), err)
			check(t, c, err)
		})
	}
}

// TestPoolRefusesHostileModules gives every hostile module to a Pool
// worker, as glacier run does, and checks the refusal, its time, and that
// the pool still runs a real task afterwards.
func TestPoolRefusesHostileModules(t *testing.T) {
	p, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 1, CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer p.Close()
	refuseHostile(t, func(c hostile.Case, path string) error {
		_, err := p.Run(context.Background(), wasmrt.Job{
			Task: "t", RunID: "r", ModulePath: path,
			MemoryLimit: hostile.MemoryMiB << 20, Timeout: hostile.TimeoutSeconds * time.Second,
			Compile: hostileBudget(c),
		})
		return err
	}, func(t *testing.T, c hostile.Case, err error) {
		assert.ErrorIs(t, err, kindErr[c.Kind])
		assert.Contains(t, err.Error(), c.Says)
	})
	t.Run("a real task still runs", func(t *testing.T) {
		dir := t.TempDir()
		job := fileJob(t, dir, "copy", map[string]string{"in": "still here"}, "out")
		job.Compile = wasmrt.CompileBudget{Timeout: hostile.CompileSeconds * 10 * time.Second, Memory: hostileBudget(hostile.Case{}).Memory}
		_, err := p.Run(context.Background(), job)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, "out", "out"))
		require.NoError(t, err)
		assert.Equal(t, "still here", string(got))
	})
}

// TestPoolValidateRefusesHostileModules gives every hostile module to
// Pool.Validate, as the packagers' module checker does, and checks that it
// is refused as Pool.Run refuses it: the same kind, the same words. The
// one exception is a module only slow to compile: the interpreter
// compiles it well within the budget, and it is refused for what it lacks.
func TestPoolValidateRefusesHostileModules(t *testing.T) {
	p, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 1})
	require.NoError(t, err)
	defer p.Close()
	refuseHostile(t, func(c hostile.Case, path string) error {
		return p.Validate(context.Background(), wasmrt.Job{
			Task: "t", ModulePath: path, MemoryLimit: hostile.MemoryMiB << 20, Compile: hostileBudget(c),
		})
	}, func(t *testing.T, c hostile.Case, err error) {
		if c.Kind == hostile.CompileTime {
			assert.ErrorIs(t, err, wasmrt.ErrInvalidModule)
			assert.Contains(t, err.Error(), "exports no _start function")
			return
		}
		assert.ErrorIs(t, err, kindErr[c.Kind])
		assert.Contains(t, err.Error(), c.Says)
	})
}

// TestLoadRefusesHostileModules loads every hostile module in this process,
// where nothing but the checks stands between a module and the host: each
// must be refused or fail cleanly, and the process must live.
func TestLoadRefusesHostileModules(t *testing.T) {
	rt, err := wasmrt.NewRuntime(context.Background())
	require.NoError(t, err)
	defer rt.Close(context.Background())
	for _, c := range hostile.Cases() {
		if c.Wasm == nil || c.Kind == hostile.CompileTime || c.Kind == hostile.CompileMemory {
			continue // files are the caller's to read; budgets need a worker
		}
		t.Run(c.Name, func(t *testing.T) {
			m, err := rt.Load(context.Background(), c.Wasm)
			switch c.Kind {
			case hostile.Invalid:
				require.ErrorIs(t, err, wasmrt.ErrInvalidModule)
				assert.Contains(t, err.Error(), c.Says)
			case hostile.Memory: // no task limit yet: Run refuses it
				require.NoError(t, err)
				_, err = rt.Run(context.Background(), m, wasmrt.Invocation{Task: "t", MemoryLimit: hostile.MemoryMiB << 20})
				require.ErrorIs(t, err, wasmrt.ErrMemoryLimit)
			}
		})
	}
}

func TestPoolReportsFatalErrors(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	pool := func(mode string) *wasmrt.Pool {
		p, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{
			Workers: 1,
			Command: func() *exec.Cmd {
				cmd := exec.Command(exe)
				cmd.Env = append(os.Environ(), fakeWorkerEnv+"="+mode)
				return cmd
			},
		})
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		return p
	}
	job := fileJob(t, t.TempDir(), "copy", map[string]string{"in": "x"}, "out")

	_, err = pool("fatal").Run(context.Background(), job)
	require.ErrorIs(t, err, wasmrt.ErrWorkerCrashed)
	assert.Contains(t, err.Error(), "it reported: fatal error: concurrent map writes")
	assert.NotContains(t, err.Error(), "proc.go")

	_, err = pool("oom-loading").Run(context.Background(), job)
	require.ErrorIs(t, err, wasmrt.ErrCompileBudget)
	assert.False(t, errors.Is(err, wasmrt.ErrWorkerCrashed))
	assert.Contains(t, err.Error(), "module too costly to compile: reading and compiling it needed more than its compile budget of 1024 MiB of memory")
}

// TestHostBugStopsTheTask makes a storage reader panic inside dataset_read,
// as a buggy driver would: the host survives, the task fails with
// ErrHostBug, and its log holds no stack trace of the host.
func TestHostBugStopsTheTask(t *testing.T) {
	m := load(t, "streamin")
	st := newMemStorage(map[string]string{"in": "data"})
	st.reader = func(string, []byte) io.Reader { return panicReader{} }
	var log syncbuf.Buffer
	_, err := sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{Task: "streamin", Inputs: []string{"in"}, Storage: st, Log: &log})
	require.ErrorIs(t, err, wasmrt.ErrHostBug)
	assert.Contains(t, err.Error(), "dataset_read: driver exploded")
	assert.Contains(t, err.Error(), "a bug in the host, not in the task")
	assert.Contains(t, log.String(), "the host failed in dataset_read")
	assert.NotContains(t, log.String(), "goroutine")
	assert.NotContains(t, log.String(), ".go:")
	assert.NotContains(t, err.Error(), ".go:")

	// The runtime still runs tasks.
	st = newMemStorage(map[string]string{"in": "data"})
	_, err = sharedRuntime(t).Run(context.Background(), m, wasmrt.Invocation{Task: "streamin", Inputs: []string{"in"}, Storage: st})
	require.NoError(t, err)
}

type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("driver exploded") }

// TestHostileGuestsTrap runs every guest that drives the host to allocate
// outside its linear memory, or writes what breaks its output's contract,
// in a Pool worker and in this process (as a library user may), and checks
// that each fails as it must (a trap rather than the memory; a broken
// contract with nothing committed). glacier run's test of the same guests
// measures the worker's peak.
func TestHostileGuestsTrap(t *testing.T) {
	ctx := context.Background()
	p, err := wasmrt.NewPool(ctx, wasmrt.PoolOptions{Workers: 1})
	require.NoError(t, err)
	defer p.Close()
	rt, err := wasmrt.NewRuntime(ctx)
	require.NoError(t, err)
	defer rt.Close(ctx)
	for _, c := range hostile.RunCases() {
		want := wasmrt.ErrTrap
		if c.Kind == fnspec.KindContract {
			want = wasmrt.ErrContract
		}
		t.Run(c.Name+"/pool", func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "t.wasm")
			require.NoError(t, os.WriteFile(path, c.Wasm, 0o644))
			job := wasmrt.Job{Task: "t", RunID: "r", ModulePath: path,
				MemoryLimit: hostile.RunMemoryMiB << 20, Timeout: time.Minute}
			out := filepath.Join(dir, "out")
			if c.Schema != nil {
				job.Outputs = map[string]string{"out": filestore.URL(out)}
				job.Schemas = map[string]json.RawMessage{"out": c.Contract()}
			}
			_, err := p.Run(ctx, job)
			require.ErrorIs(t, err, want)
			assert.Contains(t, err.Error(), c.Says)
			assert.NoFileExists(t, out, "a broken contract commits nothing")
		})
		t.Run(c.Name+"/in process", func(t *testing.T) {
			m, err := rt.Load(ctx, c.Wasm)
			require.NoError(t, err)
			inv := wasmrt.Invocation{Task: "t", MemoryLimit: hostile.RunMemoryMiB << 20}
			out := filepath.Join(t.TempDir(), "out")
			if c.Schema != nil {
				contract, err := schema.Compile(c.Schema)
				require.NoError(t, err)
				inv.Outputs, inv.Storage = []string{"out"}, storage.URLs{"out": filestore.URL(out)}
				inv.Contracts = map[string]*schema.Contract{"out": contract}
			}
			_, err = rt.Run(ctx, m, inv)
			require.ErrorIs(t, err, want)
			assert.Contains(t, err.Error(), c.Says)
			assert.NoFileExists(t, out, "a broken contract commits nothing")
			if c.Schema != nil {
				var vi *schema.Violation
				assert.ErrorAs(t, err, &vi, "the error carries the violation")
				assert.Equal(t, string(fnspec.KindContract), wasmrt.KindOf(err))
			}
		})
	}
}
