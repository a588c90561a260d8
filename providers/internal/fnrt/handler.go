package fnrt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/wasmcheck"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// minSandboxMiB is the least memory New gives a sandbox, however small the
// function.
const minSandboxMiB = 16

// compileReserveMiB is what the function keeps back from the compile
// budget: the bootstrap and an idle worker, before anything is compiled.
const compileReserveMiB = 48

// DefaultLogLimit is the number of bytes of a task's log forwarded per
// invocation when Options.LogLimit is zero.
const DefaultLogLimit = 1 << 20

// Options configure New.
type Options struct {
	// Dir is the function's directory, holding fnspec.SpecFile,
	// fnspec.ModuleFile and perhaps fnspec.PrecompiledDir. It may be
	// read-only.
	Dir string
	// Datasets maps each of the task's datasets to its URL. Nil means
	// the value of the fnspec.DatasetsEnv environment variable.
	Datasets map[string]string
	// ScratchDir is a writable directory for the compilation cache and the
	// log pipe. Empty means os.TempDir().
	ScratchDir string
	// PlatformMemoryMiB is the memory of the whole function, when the
	// platform caps it. The sandbox then gets at most that minus
	// fnspec.HostReserveMiB, so a task that asks for more fails with a clear
	// memory-limit error instead of the platform killing the function.
	// Zero means no cap beyond the spec's.
	PlatformMemoryMiB int
	// StopMargin is how long before the invocation's deadline the task is
	// stopped, leaving time to report the timeout. Zero means
	// DefaultStopMargin.
	StopMargin func(remaining time.Duration) time.Duration
	// Log receives the task's log lines, prefixed with "[task] ", and the
	// handler's own lines. Nil means os.Stderr.
	Log io.Writer
	// LogLimit caps each invocation's task log; zero means
	// DefaultLogLimit.
	LogLimit int64
	// Workers is the number of tasks that may run at once; zero means one,
	// which is what Lambda needs (it sends one request at a time). The
	// lines of invocations running at once share Log and may interleave.
	Workers int
	// State is the URL of the store's state, which turns memoisation on
	// (see fnspec.StateEnv); empty means the value of that variable, and
	// no memoisation when it is unset too.
	State string
	// WorkerCommand starts a worker process; nil means this program again.
	// See wasmrt.PoolOptions.Command.
	WorkerCommand func() *exec.Cmd
	// LogsURL, if set, links to the platform's whole log of an invocation
	// that ran between start and end; a run's record keeps it beside the
	// tail of the task's log (see RecordLogTail).
	LogsURL func(start, end time.Time) string
}

// RecordLogTail is how many bytes of the end of a task's log the run's
// record in the store keeps: enough for the error that ended it, small
// enough for a record.
const RecordLogTail = 64 << 10

// DefaultStopMargin leaves a tenth of the remaining time, between 200 ms
// and 2 s, to stop a task and report its timeout.
func DefaultStopMargin(remaining time.Duration) time.Duration {
	return min(max(remaining/10, 200*time.Millisecond), 2*time.Second)
}

// Handler runs one task per invocation. Build it once, at cold start, with
// New; it is safe for concurrent use.
type Handler struct {
	spec     fnspec.TaskSpec
	module   string
	datasets map[string]string
	store    *store.Store // nil without memoisation
	memory   uint64
	compile  wasmrt.CompileBudget
	margin   func(time.Duration) time.Duration
	log      io.Writer
	logsURL  func(start, end time.Time) string
	pipe     *logPipe
	pool     *wasmrt.Pool
	scratch  string
}

// New reads the spec and checks the module in opts.Dir, checks the dataset
// URLs against the spec, prepares the compilation cache and starts the
// sandbox worker. Its errors say what is wrong with the deployment.
func New(ctx context.Context, opts Options) (*Handler, error) {
	spec, err := fnspec.ReadSpec(opts.Dir)
	if err != nil {
		return nil, err
	}
	module := filepath.Join(opts.Dir, fnspec.ModuleFile)
	if err := checkModule(module, spec.ModuleSHA256); err != nil {
		return nil, fmt.Errorf("task %q: %w", spec.Task, err)
	}
	datasets := opts.Datasets
	if datasets == nil {
		datasets, err = spec.ParseDatasets(os.Getenv(fnspec.DatasetsEnv))
	} else {
		err = spec.CheckDatasets(datasets)
	}
	if err != nil {
		return nil, err
	}
	h := &Handler{
		spec:     spec,
		module:   module,
		datasets: datasets,
		memory:   uint64(spec.MemoryMiB) << 20,
		compile:  compileBudget(spec),
		margin:   opts.StopMargin,
		log:      opts.Log,
		logsURL:  opts.LogsURL,
	}
	state := opts.State
	if state == "" {
		state = os.Getenv(fnspec.StateEnv)
	}
	switch {
	case state != "":
		if h.store, err = openStore(spec, datasets, state); err != nil {
			return nil, err
		}
	case len(spec.Partitioned) > 0:
		return nil, fmt.Errorf("task %q reads or writes partitioned datasets %q, which live in the store: set %s to the store's state, as the compiled program does",
			spec.Task, spec.Partitioned, fnspec.StateEnv)
	}
	if h.margin == nil {
		h.margin = DefaultStopMargin
	}
	if h.log == nil {
		h.log = os.Stderr
	}
	if p := opts.PlatformMemoryMiB; p > 0 && p-fnspec.HostReserveMiB < spec.MemoryMiB {
		avail := max(p-fnspec.HostReserveMiB, minSandboxMiB)
		h.memory = uint64(avail) << 20
		h.logf("the function has %d MiB and the runtime needs about %d MiB, so task %q gets %d MiB instead of its %d MiB; give the function %d MiB",
			p, fnspec.HostReserveMiB, spec.Task, avail, spec.MemoryMiB, fnspec.FunctionMemoryMiB(spec.MemoryMiB))
	}
	// Compiling happens before the task has any memory, so it may use the
	// function's, less what the two processes need besides.
	if p := opts.PlatformMemoryMiB; p > 0 {
		h.compile.Memory = min(h.compile.Memory, uint64(max(p-compileReserveMiB, minSandboxMiB))<<20)
	}

	scratch := opts.ScratchDir
	if scratch == "" {
		scratch = os.TempDir()
	}
	if h.scratch, err = os.MkdirTemp(scratch, "glacier-fn-"); err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	cache := filepath.Join(h.scratch, "cache")
	if err := linkCache(filepath.Join(opts.Dir, fnspec.PrecompiledDir), cache); err != nil {
		h.Close()
		return nil, fmt.Errorf("compilation cache: %w", err)
	}
	if h.pipe, err = newLogPipe(h.scratch, h.log, "["+spec.Task+"] "); err != nil {
		h.Close()
		return nil, err
	}
	limit := opts.LogLimit
	if limit == 0 {
		limit = DefaultLogLimit
	}
	workers := opts.Workers
	if workers == 0 {
		workers = 1
	}
	h.pool, err = wasmrt.NewPool(ctx, wasmrt.PoolOptions{
		Workers:  workers,
		CacheDir: cache,
		LogLimit: limit,
		Command:  opts.WorkerCommand,
	})
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("start the sandbox: %w", err)
	}
	return h, nil
}

func checkModule(path, want string) error {
	f, size, err := wasmcheck.Open(path, 0)
	if err != nil {
		return fmt.Errorf("%w; the function's artifact must hold %s", err, fnspec.ModuleFile)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, size)); err != nil {
		return fmt.Errorf("module: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("module %s has SHA-256 %s, but the spec says %s; the artifact is corrupt or was assembled by hand", path, got, want)
	}
	return nil
}

// compileBudget returns spec's compile budget, the sandbox's defaults
// filled in.
func compileBudget(spec fnspec.TaskSpec) wasmrt.CompileBudget {
	b := wasmrt.CompileBudget{Memory: wasmrt.DefaultCompileMemory, Timeout: wasmrt.DefaultCompileTimeout}
	if spec.CompileMemoryMiB > 0 {
		b.Memory = uint64(spec.CompileMemoryMiB) << 20
	}
	if spec.CompileTimeoutSecs > 0 {
		b.Timeout = time.Duration(spec.CompileTimeoutSecs) * time.Second
	}
	return b
}

// Spec returns the task's spec.
func (h *Handler) Spec() fnspec.TaskSpec { return h.spec }

// MemoryLimit returns the bytes of memory the task's sandbox may use.
func (h *Handler) MemoryLimit() uint64 { return h.memory }

// CompileBudget returns what compiling the task's module may cost.
func (h *Handler) CompileBudget() wasmrt.CompileBudget { return h.compile }

// Invoke runs the task once and commits its outputs if it succeeds; a
// map task's invocation runs some of its parts, plans its batches or
// commits its parts instead (see fnspec.Request). If ctx has a deadline,
// the task is stopped StopMargin before it; otherwise it is stopped after
// the spec's timeout. A failed task commits nothing and returns an *Error
// whose message says what happened.
func (h *Handler) Invoke(ctx context.Context, req fnspec.Request) (fnspec.Response, error) {
	start := time.Now()
	if err := h.checkRequest(req); err != nil {
		h.logf("refused a request: %v", err)
		return fnspec.Response{}, &Error{Kind: fnspec.KindBadRequest, Task: h.spec.Task, Err: err}
	}
	runID := req.RunID
	if runID == "" {
		runID = fnspec.NewRunID(start)
	}
	out := fnspec.Response{Task: h.spec.Task, RunID: runID, Status: "succeeded", Outputs: map[string]fnspec.OutputInfo{}}
	var err error
	switch {
	case req.Plan:
		err = h.plan(ctx, &out)
	case req.Commit:
		err = h.recorded(ctx, &out, start, h.commitParts)
	case req.MapMode():
		err = h.runParts(ctx, req, &out)
	case h.store != nil:
		err = h.runMemoised(ctx, &out, start)
	default:
		err = h.runWhole(ctx, &out)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Kind: kindOf(err), Err: err}
		}
		e.Task, e.RunID = h.spec.Task, runID
		h.logf("run %q failed: %v", runID, err)
		return fnspec.Response{}, e
	}
	out.DurationMS = time.Since(start).Milliseconds()
	return out, nil
}

// job returns the job of one invocation of the task in run runID, without
// its datasets.
func (h *Handler) job(runID string) wasmrt.Job {
	return wasmrt.Job{
		ModulePath:   h.module,
		ModuleSHA256: h.spec.ModuleSHA256,
		Task:         h.spec.Task,
		RunID:        runID,
		Params:       h.spec.Params,
		Inputs:       map[string]string{},
		Outputs:      map[string]string{},
		MemoryLimit:  h.memory,
		Compile:      h.compile,
		LogPath:      h.pipe.path,
		Schemas:      h.spec.Schemas,
	}
}

// runWhole runs a task without a store: once, its datasets the objects
// their URLs name, committed by the sandbox.
func (h *Handler) runWhole(ctx context.Context, out *fnspec.Response) error {
	job := h.job(out.RunID)
	for _, n := range h.spec.Inputs {
		job.Inputs[n] = h.datasets[n]
	}
	for _, n := range h.spec.Outputs {
		job.Outputs[n] = h.datasets[n]
	}
	res, err := h.run(ctx, job, h.pipe)
	if err != nil {
		return err
	}
	for n, o := range res.Outputs {
		out.Outputs[n] = fnspec.OutputInfo{Size: o.Size, SHA256: o.SHA256}
	}
	return nil
}

// run runs job in the sandbox, stopping it StopMargin before ctx's
// deadline or after the spec's timeout, and forwards its log through pipe,
// which job.LogPath names.
func (h *Handler) run(ctx context.Context, job wasmrt.Job, pipe *logPipe) (wasmrt.Result, error) {
	runCtx, margin := ctx, time.Duration(0)
	if dl, ok := ctx.Deadline(); ok {
		margin = h.margin(time.Until(dl))
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	} else {
		job.Timeout = time.Duration(h.spec.TimeoutSecs) * time.Second
	}

	res, err := h.pool.Run(runCtx, job)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushWait)
	ferr := pipe.flush(fctx)
	cancel()
	if ferr != nil {
		h.logf("some of the task's log may be missing: %v", ferr)
	}
	if err != nil {
		if ctx.Err() == nil && runCtx.Err() != nil && errors.Is(err, wasmrt.ErrTimeout) {
			err = fmt.Errorf("%w; the runtime stops tasks %v before the function's deadline, to report the timeout", err, margin.Round(time.Millisecond))
		}
		return res, &Error{Kind: kindOf(err), Err: err}
	}
	return res, nil
}

// flushWait bounds how long Invoke waits for the task's log to be
// forwarded, should the function's log block.
const flushWait = 5 * time.Second

// Close stops the worker and removes the scratch directory.
func (h *Handler) Close() error {
	var errs []error
	if h.pool != nil {
		errs = append(errs, h.pool.Close())
	}
	if h.pipe != nil {
		errs = append(errs, h.pipe.close())
	}
	if h.scratch != "" {
		errs = append(errs, os.RemoveAll(h.scratch))
	}
	return errors.Join(errs...)
}

// logf writes one line of the handler's own to the log, in one Write so it
// does not interleave with the task's lines.
func (h *Handler) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "glacier: "+format+"\n", args...)
}
