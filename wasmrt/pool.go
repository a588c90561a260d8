package wasmrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
)

// Job is one task invocation run by a Pool. Everything in it crosses a pipe
// to a worker process, so datasets are named by URL (see storage.URLs)
// rather than by a storage.Datasets value.
type Job struct {
	// ModulePath is the .wasm file to run.
	ModulePath string
	// ModuleSHA256 is the hex SHA-256 of the file. When set, a worker that
	// has the module compiled already skips reading the file, and a file with
	// other bytes is refused. Set it: it saves reading and hashing the module
	// on every job.
	ModuleSHA256 string
	// Task, RunID and Params are as in Invocation.
	Task, RunID string
	Params      map[string]string
	// Inputs and Outputs map each declared dataset to its URL.
	Inputs, Outputs map[string]string
	// Part is as in Invocation: the key of the part a map task's
	// invocation runs over.
	Part string
	// InputParts declares partitioned inputs: each part's URL, by key.
	// OutputPrefixes declares partitioned outputs: the URL each one's
	// parts are staged under (storage.PartURL). The guest reads and writes
	// these part by part.
	InputParts     map[string]map[string]string
	OutputPrefixes map[string]string
	// MemoryLimit is as in Invocation: bytes, zero for DefaultMemoryLimit.
	MemoryLimit uint64
	// Timeout bounds the task's run, counted from when the worker has the
	// module compiled, so a cold compile does not eat the task's time. Zero
	// means no limit but ctx's.
	Timeout time.Duration
	// Compile bounds reading and compiling the module, which come before
	// Timeout starts; zero fields mean the defaults.
	Compile CompileBudget
	// LogPath is the file the task's stdout and stderr are appended to,
	// made (with its directory, readable by its owner only) when the task
	// first writes something. Empty discards them.
	LogPath string
	// SkipDigests is as in Invocation: outputs are not hashed.
	SkipDigests bool
	// Schemas holds, by output, the contract its bytes must keep, as
	// schema.Schema.Encode writes it (see Invocation.Contracts). A
	// partitioned output's parts each keep it.
	Schemas map[string]json.RawMessage
}

// PoolOptions configures a Pool.
type PoolOptions struct {
	// Workers is the number of worker processes, and so of tasks run at once.
	// Zero means runtime.NumCPU().
	Workers int
	// CacheDir is the on-disk compilation cache the workers share (see
	// Config.WithCacheDir). Empty means none; every new worker then compiles
	// each module afresh.
	CacheDir string
	// LogLimit caps each task's log (see Config.WithLogLimit); zero means
	// DefaultLogLimit.
	LogLimit int64
	// Command returns the command that starts a worker. The program it runs
	// must call ServeWorkerIfRequested first thing. Nil means this program
	// again (os.Executable) with no arguments. The Pool adds its pipes to
	// ExtraFiles and its marker to Env, and takes Stderr if it is nil.
	Command func() *exec.Cmd
}

// Pool runs tasks in long-lived worker processes, each holding a Runtime
// with its modules compiled. A task that outlives its Job.Timeout or its
// context is stopped by killing its worker, which is replaced when next
// needed: guest code needs no preemption checks, so it runs at full speed.
// See the package documentation for the design.
//
// A Pool is safe for concurrent use; Run blocks while every worker is busy.
type Pool struct {
	opts   PoolOptions
	exe    string
	slots  chan *slot
	ctx    context.Context // ends when the pool closes
	cancel context.CancelFunc
	once   sync.Once
	starts chan startRequest
}

// startRequest asks the starter goroutine to start a worker.
type startRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// starter starts every worker from one OS thread that lives as long as the
// pool. On Linux workers get SIGKILL when the thread that started them ends
// (PR_SET_PDEATHSIG), so tying that to a thread the Go runtime might retire
// would kill healthy workers; tying it to the pool's own thread instead means
// no worker outlives the pool, even if this process dies.
func (p *Pool) starter() {
	runtime.LockOSThread()
	// Returning without UnlockOSThread ends the thread, on purpose.
	for r := range p.starts {
		r.done <- r.cmd.Start()
	}
}

// slot is one worker position; proc is nil until a process is started, and
// again after it was killed.
type slot struct {
	proc *process
}

// workerEnv marks a worker process; its value is the workerConfig as JSON.
const workerEnv = "GLACIER_WASMRT_WORKER"

// protocolVersion changes whenever the messages between Pool and worker do.
const protocolVersion = 2

// handshakeTimeout bounds how long a new worker may take to say hello. It is
// a safety net for a program that never calls ServeWorkerIfRequested, not a
// tuning knob.
const handshakeTimeout = 30 * time.Second

type workerConfig struct {
	CacheDir  string `json:"cache_dir,omitempty"`
	LogLimit  int64  `json:"log_limit"`
	JobsFD    int    `json:"jobs_fd"`
	RepliesFD int    `json:"replies_fd"`
}

type request struct {
	Op  string `json:"op"` // "run", "load", "validate", "commit" or "discard"
	Job *Job   `json:"job,omitempty"`
}

type reply struct {
	Op      string     `json:"op"` // "hello", "loaded", "done" or "committed"
	Version int        `json:"version,omitempty"`
	Pending bool       `json:"pending,omitempty"` // done: outputs staged, waiting for commit or discard
	Result  *Result    `json:"result,omitempty"`
	Err     *wireError `json:"err,omitempty"`
}

// NewPool starts opts.Workers worker processes and waits until each is ready.
// It fails if a worker cannot start, for instance because the program does
// not call ServeWorkerIfRequested.
func NewPool(ctx context.Context, opts PoolOptions) (*Pool, error) {
	if os.Getenv(workerEnv) != "" {
		return nil, errors.New("wasmrt: NewPool called inside a sandbox worker process; call wasmrt.ServeWorkerIfRequested at the top of main (or TestMain)")
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.LogLimit == 0 {
		opts.LogLimit = DefaultLogLimit
	}
	p := &Pool{opts: opts, slots: make(chan *slot, opts.Workers)}
	if opts.Command == nil {
		if !serving.Load() {
			return nil, errors.New("wasmrt: NewPool starts its workers by running this program again, so the program must call wasmrt.ServeWorkerIfRequested() first thing in main (and in TestMain), before anything else runs; it has not (or set PoolOptions.Command to a program that does)")
		}
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("wasmrt: find this program to start workers: %w", err)
		}
		p.exe = exe
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.starts = make(chan startRequest)
	go p.starter()

	type started struct {
		proc *process
		err  error
	}
	ch := make(chan started, opts.Workers)
	for range opts.Workers {
		go func() {
			proc, err := p.spawn(ctx)
			ch <- started{proc, err}
		}()
	}
	var first error
	for range opts.Workers {
		s := <-ch
		if s.err != nil && first == nil {
			first = s.err
		}
		p.slots <- &slot{proc: s.proc}
	}
	if first != nil {
		p.Close()
		return nil, first
	}
	return p, nil
}

// Close stops every worker. Runs in progress fail with ErrCanceled and
// commit nothing. Close waits for the workers to exit.
func (p *Pool) Close() error {
	p.once.Do(func() {
		p.cancel()
		for range p.opts.Workers {
			s := <-p.slots
			if s.proc != nil {
				s.proc.shutdown()
				s.proc = nil
			}
		}
		close(p.starts)
	})
	return nil
}

func poolClosed(task string) error {
	return failf(ErrCanceled, nil, "task %q: the pool is closed; nothing was committed", task)
}

// notStarted builds the error for a job whose context ended before a worker
// took it.
func notStarted(ctx context.Context, task string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failf(ErrTimeout, nil, "task %q timed out waiting for a free worker; it never started", task)
	}
	return failf(ErrCanceled, nil, "task %q was canceled before it started", task)
}

// Run runs the job in a worker and returns as Runtime.Run does: on success
// the outputs are committed; on any failure nothing is. Besides Run's
// errors, it returns ErrTimeout when the task outlives job.Timeout or ctx's
// deadline (the worker is killed, so this works even for a task that never
// calls the host), ErrCompileBudget when reading and compiling the module
// exceed job.Compile, ErrCanceled when ctx is canceled or the pool closes,
// and ErrWorkerCrashed when the worker dies on its own. Errors keep their
// identity across the process boundary: errors.Is and errors.As work as for
// Runtime.Run.
//
// Once a task has succeeded in time, committing its outputs is not
// interrupted by ctx, so a commit is never cut in half by a late cancel.
func (p *Pool) Run(ctx context.Context, job Job) (Result, error) {
	return p.do(ctx, "run", job)
}

// Compile loads job's module in a worker as Run would, under job.Compile,
// without running it: the module is then ready in that worker and, with
// PoolOptions.CacheDir, in the on-disk compilation cache. Only the module
// fields of job and its MemoryLimit matter.
func (p *Pool) Compile(ctx context.Context, job Job) error {
	if job.Task == "" {
		job.Task = "(compile)"
	}
	_, err := p.do(ctx, "load", job)
	return err
}

// Validate checks job's module in a worker as Compile would, under
// job.Compile, and returns the error Compile would, but as Validate does:
// wazero's interpreter compiles it, which makes no machine code and is
// several times faster, and the worker keeps nothing. Only the module
// fields of job and its MemoryLimit matter.
func (p *Pool) Validate(ctx context.Context, job Job) error {
	if job.Task == "" {
		job.Task = "(validate)"
	}
	_, err := p.do(ctx, "validate", job)
	return err
}

func (p *Pool) do(ctx context.Context, op string, job Job) (Result, error) {
	if job.Task == "" {
		return Result{}, errors.New("wasmrt: job has no task name")
	}
	if job.ModulePath == "" && job.ModuleSHA256 == "" {
		return Result{}, fmt.Errorf("task %q: job has no module", job.Task)
	}
	if p.ctx.Err() != nil {
		return Result{}, poolClosed(job.Task)
	}
	// A job that never starts says so in its log too, as a stopped one does.
	neverStarted := func() error {
		note(&job, "task %q never started because %s; nothing was committed", job.Task, context.Cause(ctx))
		return notStarted(ctx, job.Task)
	}
	var s *slot
	select {
	case s = <-p.slots:
	case <-ctx.Done():
		return Result{}, neverStarted()
	case <-p.ctx.Done():
		return Result{}, poolClosed(job.Task)
	}
	defer func() { p.slots <- s }()
	switch {
	case p.ctx.Err() != nil:
		return Result{}, poolClosed(job.Task)
	case ctx.Err() != nil: // do not start a job only to kill its worker
		return Result{}, neverStarted()
	}
	if s.proc != nil && s.proc.hasExited() {
		s.proc.shutdown()
		s.proc = nil
	}
	if s.proc == nil {
		proc, err := p.spawn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, neverStarted()
			}
			return Result{}, fmt.Errorf("task %q: %w", job.Task, err)
		}
		s.proc = proc
	}
	res, err, alive := p.run(ctx, s.proc, op, &job)
	if !alive {
		s.proc.kill()
		s.proc = nil
	}
	return res, err
}

// run drives one job through a worker; alive reports whether the worker can
// take another job.
func (p *Pool) run(ctx context.Context, proc *process, op string, job *Job) (res Result, err error, alive bool) {
	if err := proc.send(request{Op: op, Job: job}); err != nil {
		return res, proc.crashed(job.Task, "while receiving the job"), false
	}
	budget := job.Compile.withDefaults()
	compiling := time.NewTimer(budget.Timeout)
	defer compiling.Stop()
	var timeout <-chan time.Time
	var loaded time.Time
	for {
		select {
		case rep, ok := <-proc.replies:
			if !ok {
				if loaded.IsZero() {
					if proc.exitedOutOfMemory() {
						proc.kill()
						return res, compileMemoryExceeded(job.Task, budget), false
					}
					return res, proc.crashed(job.Task, "while loading the module"), false
				}
				return res, proc.crashed(job.Task, "while running the task"), false
			}
			switch rep.Op {
			case "loaded":
				loaded = time.Now()
				compiling.Stop()
				if job.Timeout > 0 {
					t := time.NewTimer(job.Timeout)
					defer t.Stop()
					timeout = t.C
				}
				continue
			case "done":
			default:
				return res, fmt.Errorf("task %q: worker protocol error: unexpected %q reply", job.Task, rep.Op), false
			}
			if rep.Result != nil {
				res = *rep.Result
			}
			if rep.Err != nil {
				return res, rep.Err.decode(), true
			}
			if !rep.Pending {
				return res, nil, true // a load: nothing ran, nothing to commit
			}
			// The task succeeded; commit unless its time ran out meanwhile.
			op, stop := "commit", error(nil)
			switch {
			case ctx.Err() != nil:
				op, stop = "discard", stopped(ctx, job.Task, time.Since(loaded))
			case p.ctx.Err() != nil:
				op, stop = "discard", poolClosed(job.Task)
			case job.Timeout > 0 && time.Since(loaded) > job.Timeout:
				op, stop = "discard", timedOut(job)
			}
			cerr, alive := p.finish(proc, job.Task, op)
			if stop != nil {
				return res, stop, alive
			}
			return res, cerr, alive
		case <-compiling.C:
			p.stop(proc, job, "compiling its module ran past the compile budget of "+budget.Timeout.String())
			return res, compileTimeExceeded(job.Task, budget), false
		case <-timeout:
			p.stop(proc, job, "it ran past its timeout of "+job.Timeout.String())
			return res, timedOut(job), false
		case <-ctx.Done():
			p.stop(proc, job, context.Cause(ctx).Error())
			var ran time.Duration
			if !loaded.IsZero() {
				ran = time.Since(loaded)
			}
			return res, stopped(ctx, job.Task, ran), false
		case <-p.ctx.Done():
			p.stop(proc, job, "the pool closed")
			return res, poolClosed(job.Task), false
		}
	}
}

// finish sends commit or discard and waits for the outcome; the commit is
// never interrupted.
func (p *Pool) finish(proc *process, task, op string) (error, bool) {
	if err := proc.send(request{Op: op}); err != nil {
		return proc.crashed(task, "before committing"), false
	}
	rep, ok := <-proc.replies
	switch {
	case !ok:
		return proc.crashed(task, "while committing the outputs (some may be committed)"), false
	case rep.Op != "committed":
		return fmt.Errorf("task %q: worker protocol error: unexpected %q reply", task, rep.Op), false
	case rep.Err != nil:
		return rep.Err.decode(), true
	}
	return nil, true
}

func timedOut(job *Job) error {
	return failf(ErrTimeout, nil,
		"task %q timed out after %s; it was stopped and nothing was committed (raise the task's compute timeout if it needs longer)",
		job.Task, job.Timeout)
}

// stop kills the worker running job and notes why in the task's log.
func (p *Pool) stop(proc *process, job *Job, why string) {
	proc.kill()
	note(job, "task %q was stopped because %s; nothing was committed", job.Task, why)
}

// note appends one line of the sandbox's own, prefixed "glacier: ", to
// job's log, if it has one.
func note(job *Job, format string, args ...any) {
	if job.LogPath == "" {
		return
	}
	f, err := openLog(job.LogPath)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "glacier: "+format+"\n", args...)
	f.Close()
}

// process is one worker process, seen from the Pool.
type process struct {
	cmd     *exec.Cmd
	jobs    *os.File
	enc     *json.Encoder
	replies chan reply    // closed when the worker's reply pipe ends
	exited  chan struct{} // closed once the process has been waited for
	waitErr error
	stderr  *tail
}

func (p *Pool) spawn(ctx context.Context) (*process, error) {
	var cmd *exec.Cmd
	if p.opts.Command != nil {
		cmd = p.opts.Command()
	} else {
		cmd = exec.Command(p.exe)
	}
	jobsR, jobsW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("wasmrt: start worker: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		jobsR.Close()
		jobsW.Close()
		return nil, fmt.Errorf("wasmrt: start worker: %w", err)
	}
	cfg := workerConfig{
		CacheDir:  p.opts.CacheDir,
		LogLimit:  p.opts.LogLimit,
		JobsFD:    3 + len(cmd.ExtraFiles),
		RepliesFD: 4 + len(cmd.ExtraFiles),
	}
	cfgJSON, _ := json.Marshal(cfg)
	cmd.ExtraFiles = append(cmd.ExtraFiles, jobsR, repW)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, workerEnv+"="+string(cfgJSON))
	proc := &process{
		cmd:     cmd,
		jobs:    jobsW,
		enc:     json.NewEncoder(jobsW),
		replies: make(chan reply, 4),
		exited:  make(chan struct{}),
		stderr:  &tail{},
	}
	if cmd.Stderr == nil {
		cmd.Stderr = proc.stderr
	}
	setParentDeathSignal(cmd)
	start := startRequest{cmd: cmd, done: make(chan error, 1)}
	p.starts <- start
	err = <-start.done
	jobsR.Close()
	repW.Close()
	if err != nil {
		jobsW.Close()
		repR.Close()
		return nil, fmt.Errorf("wasmrt: start worker %s: %w", cmd.Path, err)
	}
	go func() {
		defer close(proc.replies)
		defer repR.Close()
		dec := json.NewDecoder(repR)
		for {
			var r reply
			if err := dec.Decode(&r); err != nil {
				return
			}
			proc.replies <- r
		}
	}()
	go func() {
		proc.waitErr = cmd.Wait()
		close(proc.exited)
	}()

	hs := time.NewTimer(handshakeTimeout)
	defer hs.Stop()
	fail := func(format string, args ...any) (*process, error) {
		proc.kill()
		return nil, fmt.Errorf("wasmrt: worker %s: %s", cmd.Path, fmt.Sprintf(format, args...))
	}
	select {
	case r, ok := <-proc.replies:
		switch {
		case !ok:
			proc.kill()
			return nil, fmt.Errorf("wasmrt: worker %s exited before it was ready (%v)%s; does the program call wasmrt.ServeWorkerIfRequested at the top of main (or TestMain)?",
				cmd.Path, proc.waitErr, proc.stderr.summary())
		case r.Op != "hello" || r.Version != protocolVersion:
			return fail("speaks another protocol (got %q version %d, want hello version %d); is it the same build as this program?", r.Op, r.Version, protocolVersion)
		case r.Err != nil:
			return fail("could not start: %s", r.Err.Msg)
		}
	case <-hs.C:
		return fail("did not become ready within %s; does the program call wasmrt.ServeWorkerIfRequested at the top of main (or TestMain)?", handshakeTimeout)
	case <-ctx.Done():
		proc.kill()
		return nil, fmt.Errorf("wasmrt: start worker: %w", ctx.Err())
	}
	return proc, nil
}

func (w *process) send(r request) error { return w.enc.Encode(r) }

func (w *process) hasExited() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// kill stops the process at once and waits until it is gone.
func (w *process) kill() {
	_ = w.cmd.Process.Kill()
	w.jobs.Close()
	<-w.exited
}

// shutdownGrace is how long an idle worker gets to exit after its job pipe
// closes before it is killed.
const shutdownGrace = 5 * time.Second

// shutdown asks the worker to exit by closing its job pipe.
func (w *process) shutdown() {
	w.jobs.Close()
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case <-w.exited:
	case <-t.C:
		w.kill()
	}
}

// crashed builds the error for a worker that died on its own.
func (w *process) crashed(task, when string) error {
	w.kill()
	return failf(ErrWorkerCrashed, nil, "task %q: the sandbox worker process died %s (%v)%s; nothing was committed, and the worker will be replaced",
		task, when, w.waitErr, w.stderr.summary())
}

// exitedOutOfMemory waits for the worker to exit and reports whether it
// died of a failed allocation.
func (w *process) exitedOutOfMemory() bool {
	w.kill()
	return outOfMemory(w.stderr.crash())
}

// tail keeps the last bytes a worker wrote to stderr, for crash reports.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

// tailSize is enough for a Go fatal error's message and the stack traces
// after it, so the message is still there when the traces are long.
const tailSize = 64 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// crash returns the line that says why a Go program died: the last line
// starting "fatal error:" or "panic:", with the "runtime:" line just before
// it if there is one (it says what failed: "runtime: out of memory: cannot
// allocate ..."), or else the last non-empty line.
func (t *tail) crash() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(string(t.buf), "\n")
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if last == "" && l != "" && !strings.HasPrefix(l, "goroutine ") {
			last = l
		}
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") {
			if i > 0 && strings.HasPrefix(lines[i-1], "runtime: ") {
				return l + " (" + strings.TrimSpace(lines[i-1]) + ")"
			}
			return l
		}
	}
	return last
}

// summary returns ": <why it died>" for a crash report, or "".
func (t *tail) summary() string {
	if c := t.crash(); c != "" {
		return "; it reported: " + c
	}
	return ""
}

// wireError is an error crossing the pipe; Kind names its sentinel (see
// KindOf), so the parent rebuilds an error that matches the same errors.Is
// targets.
type wireError struct {
	Kind    string `json:"kind,omitempty"`
	Msg     string `json:"msg"`
	Corrupt bool   `json:"corrupt,omitempty"` // it also matches storage.ErrCorrupt
	Task    string `json:"task,omitempty"`
	Code    uint32 `json:"code,omitempty"`
	FailMsg string `json:"fail_msg,omitempty"`
}

func encodeError(err error) *wireError {
	if err == nil {
		return nil
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return &wireError{Kind: string(fnspec.KindTaskFailed), Msg: err.Error(), Task: exit.task, Code: exit.code, FailMsg: exit.message}
	}
	return &wireError{Kind: KindOf(err), Msg: err.Error(), Corrupt: errors.Is(err, storage.ErrCorrupt)}
}

func (e *wireError) decode() error {
	if e.Kind == string(fnspec.KindTaskFailed) {
		return &ExitError{task: e.Task, code: e.Code, message: e.FailMsg}
	}
	var cause error
	if e.Corrupt {
		cause = storage.ErrCorrupt
	}
	for _, k := range kinds {
		if string(k.kind) == e.Kind {
			return &taskError{kind: k.err, msg: e.Msg, cause: cause}
		}
	}
	if cause != nil {
		return &taskError{kind: cause, msg: e.Msg}
	}
	return errors.New(e.Msg)
}
