package wasmrt

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync/atomic"

	"github.com/glacier-pipeline/glacier/schema"
	"github.com/glacier-pipeline/glacier/storage"
	// Workers serve the "file" scheme whatever else the program imports.
	_ "github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmcheck"
)

// ServeWorkerIfRequested turns this process into a Pool worker if it was
// started as one, and then exits; otherwise it returns at once. A program
// that uses a Pool calls it first thing in main (and a test binary in
// TestMain), before flags are parsed or anything is printed:
//
//	func main() {
//		wasmrt.ServeWorkerIfRequested()
//		...
//	}
func ServeWorkerIfRequested() {
	spec, ok := os.LookupEnv(workerEnv)
	if !ok {
		serving.Store(true)
		return
	}
	os.Exit(serveWorker(spec))
}

// serving records that this program called ServeWorkerIfRequested, so a
// Pool that re-executes it knows the copies will serve.
var serving atomic.Bool

// serveWorker runs jobs from the pipes named in spec until the job pipe
// closes, which is how the Pool asks a worker to exit.
func serveWorker(spec string) int {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "glacier worker: bad %s: %v\n", workerEnv, err)
		return 2
	}
	jobs := os.NewFile(uintptr(cfg.JobsFD), "jobs")
	replies := os.NewFile(uintptr(cfg.RepliesFD), "replies")
	if jobs == nil || replies == nil {
		fmt.Fprintf(os.Stderr, "glacier worker: no pipes on fds %d and %d\n", cfg.JobsFD, cfg.RepliesFD)
		return 2
	}
	enc := json.NewEncoder(replies)
	ctx := context.Background()
	rt, err := NewRuntimeWithConfig(ctx, NewConfig().WithCacheDir(cfg.CacheDir).WithLogLimit(cfg.LogLimit))
	if err != nil {
		_ = enc.Encode(reply{Op: "hello", Version: protocolVersion, Err: encodeError(err)})
		return 1
	}
	if err := enc.Encode(reply{Op: "hello", Version: protocolVersion}); err != nil {
		return 1
	}

	// Requests are read on their own goroutine so that the end of the pipe
	// (the Pool closed, or its process died) ends this process even while a
	// task runs.
	reqs := make(chan request)
	go func() {
		dec := json.NewDecoder(bufio.NewReader(jobs))
		for {
			var r request
			if err := dec.Decode(&r); err != nil {
				os.Exit(0)
			}
			reqs <- r
		}
	}()

	w := &worker{rt: rt, enc: enc}
	for r := range reqs {
		var err error
		switch r.Op {
		case "run":
			err = w.run(ctx, r.Job)
		case "load":
			err = w.compileOnly(ctx, r.Job, w.load)
		case "validate":
			err = w.compileOnly(ctx, r.Job, w.validate)
		case "commit", "discard":
			err = w.finish(ctx, r.Op)
		default:
			err = fmt.Errorf("unknown request %q", r.Op)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "glacier worker: %v\n", err)
			return 1
		}
	}
	return 0
}

type worker struct {
	rt      *Runtime
	enc     *json.Encoder
	pending *pending
	// compiled keeps the contracts jobs named, by their encoding: a map
	// task's parts all name the same ones.
	compiled map[string]*schema.Contract
}

// contracts compiles the job's schemas, each once per worker.
func (w *worker) contracts(job *Job) (map[string]*schema.Contract, error) {
	if len(job.Schemas) == 0 {
		return nil, nil
	}
	out := make(map[string]*schema.Contract, len(job.Schemas))
	for name, raw := range job.Schemas {
		if _, declared := job.Outputs[name]; !declared {
			if _, parted := job.OutputPrefixes[name]; !parted {
				return nil, fmt.Errorf("task %q: a schema is given for %q, which is not one of its outputs", job.Task, name)
			}
		}
		c, ok := w.compiled[string(raw)]
		if !ok {
			s, err := schema.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("task %q: output %q: %w", job.Task, name, err)
			}
			if c, err = schema.Compile(s); err != nil {
				return nil, fmt.Errorf("task %q: output %q: %w", job.Task, name, err)
			}
			if w.compiled == nil || len(w.compiled) >= maxCompiled {
				w.compiled = map[string]*schema.Contract{}
			}
			w.compiled[string(raw)] = c
		}
		out[name] = c
	}
	return out, nil
}

// maxCompiled bounds the contracts a worker keeps compiled.
const maxCompiled = 256

// run runs one job and replies "loaded" (once the module is compiled) and
// "done". An error return means the pipe broke.
func (w *worker) run(ctx context.Context, job *Job) error {
	if w.pending != nil { // the Pool always finishes a job; be safe anyway
		_ = w.pending.discard()
		w.pending = nil
	}
	if job == nil {
		return errors.New("run request without a job")
	}
	done := func(res *Result, err error) error {
		return w.enc.Encode(reply{Op: "done", Result: res, Err: encodeError(err), Pending: err == nil})
	}

	urls := storage.URLs{}
	inv := Invocation{Task: job.Task, RunID: job.RunID, Params: job.Params, MemoryLimit: job.MemoryLimit,
		Storage: urls, SkipDigests: job.SkipDigests, Part: job.Part}
	if len(job.InputParts)+len(job.OutputPrefixes) > 0 {
		inv.Storage = storage.PartedURLs{URLs: urls, Parts: job.InputParts, Prefixes: job.OutputPrefixes}
		for name := range job.InputParts {
			inv.Inputs = append(inv.Inputs, name)
			inv.Partitioned = append(inv.Partitioned, name)
		}
		for name := range job.OutputPrefixes {
			inv.Outputs = append(inv.Outputs, name)
			inv.Partitioned = append(inv.Partitioned, name)
		}
	}
	for name, u := range job.Inputs {
		urls[name] = u
		inv.Inputs = append(inv.Inputs, name)
	}
	for name, u := range job.Outputs {
		if _, dup := urls[name]; dup {
			return done(nil, fmt.Errorf("task %q: dataset %q is declared as both input and output", job.Task, name))
		}
		urls[name] = u
		inv.Outputs = append(inv.Outputs, name)
	}
	sort.Strings(inv.Inputs)
	sort.Strings(inv.Outputs)
	if err := urls.Check(); err != nil {
		return done(nil, fmt.Errorf("task %q: %w", job.Task, err))
	}

	contracts, err := w.contracts(job)
	if err != nil {
		return done(nil, err)
	}
	inv.Contracts = contracts
	m, err := w.load(ctx, job)
	if err != nil {
		return done(nil, err)
	}
	var log *logFile
	if job.LogPath != "" {
		log = &logFile{path: job.LogPath}
		inv.Log = log
	}
	if err := w.enc.Encode(reply{Op: "loaded"}); err != nil {
		return err
	}
	restore := collectPromptly(runSlack)
	p, res, err := w.rt.execute(ctx, m, inv)
	restore()
	if log != nil {
		log.Close()
	}
	w.pending = p
	return done(&res, err)
}

// compileOnly loads (or validates) the job's module and replies "loaded"
// and "done" without running it.
func (w *worker) compileOnly(ctx context.Context, job *Job, load func(context.Context, *Job) (*Module, error)) error {
	if job == nil {
		return errors.New("load request without a job")
	}
	if _, err := load(ctx, job); err != nil {
		return w.enc.Encode(reply{Op: "done", Err: encodeError(err)})
	}
	if err := w.enc.Encode(reply{Op: "loaded"}); err != nil {
		return err
	}
	return w.enc.Encode(reply{Op: "done"})
}

// load returns the job's module, from memory when the worker has it, or
// else read and compiled.
func (w *worker) load(ctx context.Context, job *Job) (*Module, error) {
	if job.ModuleSHA256 != "" {
		if m := w.rt.cached(job.ModuleSHA256); m != nil {
			return m, nil
		}
	}
	return w.read(ctx, job, func(wasm []byte, limit uint64) (*Module, error) { return w.rt.load(ctx, wasm, limit) })
}

// validate checks the job's module as load would, with Validate: nothing
// is kept.
func (w *worker) validate(ctx context.Context, job *Job) (*Module, error) {
	return w.read(ctx, job, func(wasm []byte, limit uint64) (*Module, error) { return nil, Validate(ctx, wasm, limit) })
}

// read reads the job's module and passes it to load with the task's memory
// limit. Reading and loading run under the job's compile budget: this
// process's address space may grow by at most its Memory meanwhile (the
// parent bounds the time).
func (w *worker) read(ctx context.Context, job *Job, load func(wasm []byte, limit uint64) (*Module, error)) (*Module, error) {
	if job.ModulePath == "" {
		return nil, fmt.Errorf("task %q: module %s is not loaded and the job has no ModulePath", job.Task, job.ModuleSHA256)
	}
	budget := job.Compile.withDefaults()
	restore := capMemory(budget.Memory)
	defer restore()
	wasm, err := wasmcheck.ReadFile(job.ModulePath, w.rt.cfg.moduleLimits.Size)
	if err != nil {
		return nil, failf(ErrInvalidModule, err, "task %q: %v", job.Task, err)
	}
	if job.ModuleSHA256 != "" {
		sum := sha256.Sum256(wasm)
		if got := hex.EncodeToString(sum[:]); got != job.ModuleSHA256 {
			return nil, fmt.Errorf("task %q: module %s has SHA-256 %s, but the job expects %s; rebuild the task or fix the job",
				job.Task, job.ModulePath, got, job.ModuleSHA256)
		}
	}
	limit := job.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	m, err := load(wasm, limit)
	if err != nil {
		if outOfMemory(err.Error()) {
			return nil, compileMemoryExceeded(job.Task, budget)
		}
		return nil, fmt.Errorf("task %q: load %s: %w", job.Task, job.ModulePath, err)
	}
	return m, nil
}

// finish commits or discards the pending outputs and replies "committed".
func (w *worker) finish(ctx context.Context, op string) error {
	var err error
	switch {
	case w.pending == nil:
		err = errors.New("wasmrt: worker has no task to " + op)
	case op == "commit":
		err = w.pending.commit(ctx)
	default:
		err = w.pending.discard()
	}
	w.pending = nil
	return w.enc.Encode(reply{Op: "committed", Err: encodeError(err)})
}
