package wasmrt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/schema"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmcheck"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/datasec"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/hostabi"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/logcap"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/memlimit"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/tablecap"
)

// Versions returns the host ABI versions this package speaks.
func Versions() []int { return []int{abi.Version} }

// Runtime runs task modules in a wazero sandbox. It is safe for concurrent
// use: any number of Run calls may share it and its modules.
type Runtime struct {
	cfg   Config
	wr    wazero.Runtime
	cache wazero.CompilationCache
	// provided maps each host module a task may import from to its functions.
	provided map[string]map[string]api.FunctionDefinition

	mu      sync.Mutex
	modules map[string]*loading
	closed  atomic.Bool
}

type loading struct {
	done chan struct{}
	mod  *Module
	err  error
}

// Module is a compiled task module, ready to run any number of times.
type Module struct {
	sha      string
	compiled wazero.CompiledModule
	minMem   uint64 // bytes the module's memory starts with
}

// SHA256 returns the hex SHA-256 of the module's bytes.
func (m *Module) SHA256() string { return m.sha }

// NewRuntime returns a Runtime with NewConfig().
func NewRuntime(ctx context.Context) (*Runtime, error) {
	return NewRuntimeWithConfig(ctx, NewConfig())
}

// NewRuntimeWithConfig returns a Runtime configured by cfg. It fails if the
// cache directory cannot be created.
func NewRuntimeWithConfig(ctx context.Context, cfg Config) (*Runtime, error) {
	return newRuntime(ctx, cfg, wazero.NewRuntimeConfig())
}

func newRuntime(ctx context.Context, cfg Config, rc wazero.RuntimeConfig) (*Runtime, error) {
	rc = rc.WithCloseOnContextDone(cfg.closeOnCtxDone)
	var cache wazero.CompilationCache
	if cfg.cacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasmrt: compilation cache %s: %w", cfg.cacheDir, err)
		}
		cache = c
		rc = rc.WithCompilationCache(cache)
	}
	wr := wazero.NewRuntimeWithConfig(ctx, rc)
	r := &Runtime{cfg: cfg, wr: wr, cache: cache, modules: map[string]*loading{}}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, wr); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("wasmrt: instantiate WASI: %w", err)
	}
	if err := hostabi.Instantiate(ctx, wr); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("wasmrt: %w", err)
	}
	r.provided = map[string]map[string]api.FunctionDefinition{}
	for _, name := range []string{wasi_snapshot_preview1.ModuleName, abi.ModuleName} {
		r.provided[name] = wr.Module(name).ExportedFunctionDefinitions()
	}
	return r, nil
}

// Close releases the runtime and every module loaded into it. Runs in
// progress fail.
func (r *Runtime) Close(ctx context.Context) error {
	r.closed.Store(true)
	err := r.wr.Close(ctx)
	if r.cache != nil {
		if cerr := r.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	return err
}

// Load compiles a module, or returns the one already compiled from the same
// bytes (by SHA-256). With a cache directory, a module compiled by an earlier
// process loads from disk in tens of milliseconds.
//
// Load refuses a module the host cannot run, before any of it runs: one
// that is not well-formed or declares more than the module limits allow
// (Config.WithModuleLimits), checked before the engine sees it (the error
// matches ErrInvalidModule); one built for another ABI version (the error
// matches ErrABIVersion and names the module's version and the ones this
// host speaks); one importing a host function or module the host does not
// provide, or one that is not a WASI command (no _start), which match
// ErrInvalidModule too.
func (r *Runtime) Load(ctx context.Context, wasm []byte) (*Module, error) {
	return r.load(ctx, wasm, 0)
}

// load is Load for a task whose memory limit is memLimit bytes (zero for
// none): a module that needs more to start is refused with ErrMemoryLimit
// before any work in proportion to its data.
func (r *Runtime) load(ctx context.Context, wasm []byte, memLimit uint64) (*Module, error) {
	if r.closed.Load() {
		return nil, errors.New("wasmrt: Load on a closed Runtime")
	}
	sum := sha256.Sum256(wasm)
	sha := hex.EncodeToString(sum[:])
	r.mu.Lock()
	l, ok := r.modules[sha]
	if !ok {
		l = &loading{done: make(chan struct{})}
		r.modules[sha] = l
	}
	r.mu.Unlock()
	if ok {
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.err == nil {
			return l.mod, nil
		}
		return r.load(ctx, wasm, memLimit) // the other load failed; try for ourselves
	}

	l.mod, l.err = r.compile(ctx, wasm, sha, memLimit)
	if l.err != nil {
		// Forget failures: they may be the context's, not the module's.
		r.mu.Lock()
		delete(r.modules, sha)
		r.mu.Unlock()
	}
	close(l.done)
	return l.mod, l.err
}

// Validate checks wasm exactly as Load and a Pool worker do (the module
// checks, the memory limit, the engine's own validation, the imports and
// _start) and returns the error Load would, without keeping it or
// generating machine code: wazero's interpreter compiles it, which is
// several times faster. The packagers' module checker calls it, through
// Pool.Validate, for a module it does not precompile. memLimit is the
// task's memory limit in bytes; zero means none.
func Validate(ctx context.Context, wasm []byte, memLimit uint64) error {
	rt, err := newRuntime(ctx, NewConfig(), wazero.NewRuntimeConfigInterpreter())
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	_, err = rt.load(ctx, wasm, memLimit)
	return err
}

// cached returns the module with this SHA-256 if it was loaded already.
func (r *Runtime) cached(sha string) *Module {
	r.mu.Lock()
	l, ok := r.modules[sha]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-l.done:
		return l.mod
	default:
		return nil
	}
}

func (r *Runtime) compile(ctx context.Context, wasm []byte, sha string, memLimit uint64) (*Module, error) {
	short := sha[:12]
	st, err := wasmcheck.Check(wasm, r.cfg.moduleLimits)
	if err != nil {
		return nil, failf(ErrInvalidModule, err, "module %s refused: %v", short, err)
	}
	switch {
	case st.Start:
		return nil, failf(ErrInvalidModule, nil, "module %s has a start section, a function the engine would run while it loads the module, before the host is ready; a task module starts in _start alone (docs/abi.md, section 1)", short)
	case st.OtherImport != "":
		return nil, failf(ErrInvalidModule, nil, "module %s imports %s; a task module imports only functions, and defines its own memory (docs/abi.md, section 2)", short, st.OtherImport)
	}
	minMem := uint64(st.MemoryMinPages) * memlimit.PageSize
	if memLimit > 0 && minMem > memlimit.New(memLimit).Limit() {
		return nil, failf(ErrMemoryLimit, nil,
			"module %s needs %s of memory to start, more than the task's %s limit; nothing ran (raise the task's compute memory)",
			short, mib(minMem), mib(memlimit.New(memLimit).Limit()))
	}
	// Merging data segments changes nothing the guest can see, and makes
	// every instantiation much cheaper (see package datasec). The engine
	// keeps tables in host memory, outside the linear memory the task's
	// limit caps: a maximum written into the module bounds them.
	prepared, err := tablecap.Cap(datasec.Merge(wasm), uint32(min(r.cfg.moduleLimits.WithDefaults().TableSize, math.MaxUint32)))
	if err != nil {
		return nil, failf(ErrInvalidModule, err, "module %s refused: %v", short, err)
	}
	cm, err := r.wr.CompileModule(ctx, prepared)
	if err != nil {
		return nil, failf(ErrInvalidModule, err, "module %s: compile: %v", short, err)
	}
	if err := r.checkImports(cm); err != nil {
		_ = cm.Close(ctx)
		if !errors.Is(err, ErrABIVersion) {
			err = failf(ErrInvalidModule, err, "%v", err)
		}
		return nil, fmt.Errorf("module %s: %w", short, err)
	}
	start, ok := cm.ExportedFunctions()["_start"]
	if !ok {
		_ = cm.Close(ctx)
		return nil, failf(ErrInvalidModule, nil, "module %s exports no _start function; a task must be a WASI command (a Go main package built with GOOS=wasip1 GOARCH=wasm)", short)
	}
	if len(start.ParamTypes()) > 0 || len(start.ResultTypes()) > 0 {
		_ = cm.Close(ctx)
		return nil, failf(ErrInvalidModule, nil, "module %s exports _start as %s; it must take nothing and return nothing, () -> ()", short, signature(start))
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		_ = cm.Close(ctx)
		return nil, failf(ErrInvalidModule, nil, "module %s exports no memory named \"memory\"; the host reads and writes the task's buffers there (docs/abi.md, section 1)", short)
	}
	return &Module{sha: sha, compiled: cm, minMem: minMem}, nil
}

// checkImports refuses imports the host does not provide, so a mismatch is
// reported by name when the module is loaded, not as a link error later.
func (r *Runtime) checkImports(cm wazero.CompiledModule) error {
	for _, fn := range cm.ImportedFunctions() {
		mod, name, _ := fn.Import()
		if strings.HasPrefix(mod, abi.ModulePrefix) && mod != abi.ModuleName {
			v := strings.TrimPrefix(mod, abi.ModulePrefix)
			if _, err := strconv.Atoi(v); err != nil {
				v = strconv.Quote(v)
			}
			return failf(ErrABIVersion, nil,
				"module imports %s.%s: it was built for host ABI version %s, but this host speaks version %s (%s); build the task with a guest SDK for ABI v%d, or run it on a host that speaks v%s",
				mod, name, v, versionList(), abi.ModuleName, abi.Version, v)
		}
		funcs, ok := r.provided[mod]
		if !ok {
			return fmt.Errorf("module imports %s.%s, but the host provides only the modules %s and %s; build the task as a WASI command (GOOS=wasip1 GOARCH=wasm) against the Glacier guest SDK",
				mod, name, abi.ModuleName, wasi_snapshot_preview1.ModuleName)
		}
		want, ok := funcs[name]
		if !ok {
			if mod == abi.ModuleName {
				return failf(ErrABIVersion, nil,
					"module imports %s.%s, which this host does not provide (it provides %s); the module needs a newer host, or was built with a mismatched guest SDK",
					mod, name, strings.Join(slices.Sorted(maps.Keys(funcs)), ", "))
			}
			return fmt.Errorf("module imports %s.%s, which the host does not provide", mod, name)
		}
		if !slices.Equal(fn.ParamTypes(), want.ParamTypes()) || !slices.Equal(fn.ResultTypes(), want.ResultTypes()) {
			err := fmt.Errorf("module imports %s.%s as %s, but the host's is %s", mod, name, signature(fn), signature(want))
			if mod == abi.ModuleName {
				return failf(ErrABIVersion, nil, "%v; the module was built with a mismatched guest SDK", err)
			}
			return err
		}
	}
	for _, mem := range cm.ImportedMemories() {
		mod, name, _ := mem.Import()
		return fmt.Errorf("module imports memory %s.%s; a task must define its own memory", mod, name)
	}
	return nil
}

func versionList() string {
	vs := Versions()
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

func signature(fn api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ",")
	}
	return "(" + names(fn.ParamTypes()) + ") -> (" + names(fn.ResultTypes()) + ")"
}

// Invocation is one run of a task.
type Invocation struct {
	// Task is the task's name; it is the guest's only argument (os.Args[0]).
	Task string
	// RunID identifies the pipeline run.
	RunID string
	// Params are the task's parameters.
	Params map[string]string
	// Inputs are the datasets the task may read, Outputs those it must
	// write. Names are at most abi.MaxNameLen bytes of UTF-8; a name is an
	// input or an output, not both.
	Inputs, Outputs []string
	// Storage holds the datasets. It may be nil only when the task declares
	// none, and must be a storage.PartedDatasets when Partitioned is set.
	Storage storage.Datasets
	// Part is the key of the part an invocation of a map task runs over:
	// the guest reads it in its task context. The mapped input and the
	// outputs are then that part, in Storage as whole datasets.
	Part string
	// Partitioned names the inputs and outputs the guest reads and writes
	// part by part (docs/abi.md: dataset_parts, dataset_open_part).
	Partitioned []string
	// MemoryLimit caps the task's linear memory in bytes, rounded down to
	// whole 64 KiB pages; zero means DefaultMemoryLimit.
	MemoryLimit uint64
	// Log receives the task's stdout and stderr, interleaved, up to the log
	// limit, and the host's lines about faults and denied access (prefixed
	// "glacier: "). Nil discards them.
	Log io.Writer
	// SkipDigests turns off hashing the outputs as they stream, so
	// Result.Outputs reports their sizes and no SHA256. Hashing runs inline
	// at the speed of SHA-256 (1 to 2 GB/s with SHA instructions), which
	// then bounds how fast a task can write; without it, writes go at the
	// speed of the Storage. Set it when nothing needs the digests.
	SkipDigests bool
	// Contracts holds, by output, the contract its bytes must keep. They
	// are validated as the task writes them; the first violation fails
	// the write and the task (ErrContract), and nothing is committed.
	Contracts map[string]*schema.Contract
}

// Result describes a finished invocation. Run fills in what it knows even when
// it returns an error.
type Result struct {
	// Duration is the time spent instantiating and running the module.
	Duration time.Duration
	// BytesIn and BytesOut are the bytes the task read and wrote.
	BytesIn, BytesOut int64
	// Outputs describes each output written, by dataset name.
	Outputs map[string]Output
	// Parts describes, for each partitioned output, every part written, by
	// key.
	Parts map[string]map[string]Output
	// LogBytes are the log bytes delivered to Invocation.Log, LogDropped
	// those beyond the limit.
	LogBytes, LogDropped int64
}

// Output describes an output dataset as the task wrote it.
type Output struct {
	// Size is the number of bytes.
	Size int64
	// SHA256 is the hex SHA-256 of the bytes, computed while they streamed;
	// empty with Invocation.SkipDigests.
	SHA256 string
}

func (inv *Invocation) validate() error {
	if inv.Task == "" {
		return errors.New("wasmrt: invocation has no task name")
	}
	seen := map[string]string{}
	for _, set := range []struct {
		kind  string
		names []string
	}{{"input", inv.Inputs}, {"output", inv.Outputs}} {
		for _, n := range set.names {
			switch {
			case n == "" || len(n) > abi.MaxNameLen || !utf8.ValidString(n):
				return fmt.Errorf("task %q: %s name %q must be 1 to %d bytes of UTF-8", inv.Task, set.kind, n, abi.MaxNameLen)
			case seen[n] != "":
				return fmt.Errorf("task %q: dataset %q is declared twice (as %s and %s)", inv.Task, n, seen[n], set.kind)
			}
			seen[n] = set.kind
		}
	}
	if inv.Storage == nil && len(seen) > 0 {
		return fmt.Errorf("task %q declares datasets but the invocation has no Storage", inv.Task)
	}
	return nil
}

// Run runs the task in a fresh instance of m and, if it succeeds, commits its
// outputs. It returns an error when the task fails; then nothing the task
// wrote is committed. The error names the task and says what happened:
//   - *ExitError: the task exited with a non-zero code;
//   - ErrTimeout, ErrCanceled: ctx ended (see Config.WithCloseOnContextDone
//     for how a running task notices);
//   - ErrMemoryLimit, ErrFault, ErrTrap, ErrStorage (ErrStorageDenied
//     when no retry can fix it), ErrMissingOutput: see each.
//
// Other errors report a bad Invocation.
func (r *Runtime) Run(ctx context.Context, m *Module, inv Invocation) (Result, error) {
	p, res, err := r.execute(ctx, m, inv)
	if err != nil {
		return res, err
	}
	return res, p.commit(ctx)
}

// pending is a task that succeeded and whose outputs wait to be committed or
// discarded.
type pending struct {
	task  string
	state *hostabi.State
}

func (p *pending) commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		_ = p.discard()
		return stopped(ctx, p.task, 0)
	}
	if err := p.state.Commit(ctx); err != nil {
		return failf(storageFailure(err), err, "task %q succeeded, but its outputs could not be committed: %v", p.task, err)
	}
	return nil
}

func (p *pending) discard() error {
	return p.state.Discard(context.Background())
}

// stopped builds the error for a task stopped by its context.
func stopped(ctx context.Context, task string, after time.Duration) error {
	when := ""
	if after > 0 {
		when = " after " + after.Round(time.Millisecond).String()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failf(ErrTimeout, nil, "task %q timed out%s; it was stopped and nothing was committed (raise the task's compute timeout if it needs longer)", task, when)
	}
	return failf(ErrCanceled, nil, "task %q was canceled%s; nothing was committed", task, when)
}

// eof is an empty stdin.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// execute runs the task. On success it returns the outputs still staged; on
// failure it has discarded them.
func (r *Runtime) execute(ctx context.Context, m *Module, inv Invocation) (*pending, Result, error) {
	var res Result
	if m == nil {
		return nil, res, errors.New("wasmrt: Run needs a Module")
	}
	if r.closed.Load() {
		return nil, res, errors.New("wasmrt: Run on a closed Runtime")
	}
	if err := inv.validate(); err != nil {
		return nil, res, err
	}
	limit := inv.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	alloc := memlimit.New(limit)
	if m.minMem > alloc.Limit() {
		return nil, res, failf(ErrMemoryLimit, nil,
			"task %q needs %s of memory to start, more than its %s limit; nothing ran (raise the task's compute memory)",
			inv.Task, mib(m.minMem), mib(alloc.Limit()))
	}

	log := logcap.New(inv.Log, r.cfg.logLimit)
	cfg := hostabi.Config{
		Task: inv.Task, RunID: inv.RunID, Params: inv.Params,
		Inputs: inv.Inputs, Outputs: inv.Outputs,
		Storage: inv.Storage, Log: log, SkipDigests: inv.SkipDigests,
		Part: inv.Part, Partitioned: inv.Partitioned, Contracts: inv.Contracts,
	}
	state, err := hostabi.NewState(cfg)
	if err != nil {
		return nil, res, fmt.Errorf("task %q: %w", inv.Task, err)
	}

	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous, so instances of one module can run side by side
		WithArgs(inv.Task).
		WithStdin(eof{}).
		WithStdout(log).
		WithStderr(log).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
	ictx := hostabi.WithState(experimental.WithMemoryAllocator(ctx, alloc), state)

	start := time.Now()
	runErr := r.instantiate(ictx, m, mc)
	res.Duration = time.Since(start)
	alloc.Release() // the instance is closed: nothing touches its memory now
	state.CloseInputs()
	if exitedCleanly(runErr) {
		state.CheckContracts()
	}
	log.Finish()
	res.BytesIn, res.BytesOut = state.BytesIn(), state.BytesOut()
	if outs := state.Outputs(); len(outs) > 0 {
		res.Outputs = make(map[string]Output, len(outs))
		for n, o := range outs {
			res.Outputs[n] = Output(o)
		}
	}
	for n, parts := range state.PartOutputs() {
		if res.Parts == nil {
			res.Parts = map[string]map[string]Output{}
		}
		res.Parts[n] = make(map[string]Output, len(parts))
		for k, o := range parts {
			res.Parts[n][k] = Output(o)
		}
	}
	res.LogBytes, res.LogDropped = log.Kept(), log.Dropped()

	if err := r.classify(ctx, inv.Task, state, alloc, log, runErr, res.Duration); err != nil {
		_ = state.Discard(context.WithoutCancel(ctx))
		return nil, res, err
	}
	return &pending{task: inv.Task, state: state}, res, nil
}

// exitedCleanly reports whether the guest ended with exit code 0: only
// then do its outputs' ends need checking against their contracts.
func exitedCleanly(runErr error) bool {
	var exit *sys.ExitError
	return runErr == nil || errors.As(runErr, &exit) && exit.ExitCode() == 0
}

// instantiate runs the module's _start. A panic inside wazero (which guest
// input must never cause, but a memory allocator refusing the initial size
// does) becomes an error instead of taking the host down.
func (r *Runtime) instantiate(ctx context.Context, m *Module, mc wazero.ModuleConfig) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sandbox panic: %v", p)
		}
	}()
	mod, err := r.wr.InstantiateModule(ctx, m.compiled, mc)
	if mod != nil {
		_ = mod.Close(ctx)
	}
	return err
}

// classify turns how the guest ended into the invocation's error, most
// fundamental cause first.
func (r *Runtime) classify(ctx context.Context, task string, state *hostabi.State, alloc *memlimit.Allocator,
	log *logcap.Writer, runErr error, took time.Duration) error {
	if ctx.Err() != nil {
		return stopped(ctx, task, took)
	}
	if bug := state.HostBug(); bug != "" {
		return failf(ErrHostBug, nil,
			"task %q was stopped by a bug in the host, not in the task (%s); nothing was committed (please report it)", task, bug)
	}
	var code uint32
	var trap error
	var exit *sys.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exit):
		code = exit.ExitCode()
	default:
		trap = runErr
	}
	failed := code != 0 || trap != nil
	if failed && alloc.Refused() {
		return failf(ErrMemoryLimit, nil,
			"task %q ran out of memory: it asked for more than its %s limit; nothing was committed (raise the task's compute memory)",
			task, mib(alloc.Limit()))
	}
	if f := state.Fault(); f != "" {
		return failf(ErrFault, nil,
			"task %q passed an invalid argument to the host (%s); nothing was committed (this is a bug in the task or its guest SDK)", task, f)
	}
	if v := state.Violation(); v != nil {
		return failf(ErrContract, v, "task %q wrote an output that breaks its contract: %v; nothing was committed", task, v)
	}
	if name, err := state.StorageError(); err != nil {
		return failf(storageFailure(err), err, "task %q: storage failed on dataset %q: %v; nothing was committed", task, name, err)
	}
	if trap != nil {
		first, rest, _ := strings.Cut(trap.Error(), "\n")
		if rest != "" {
			log.Notef("task %q trapped: %s", task, trap)
		}
		return failf(ErrTrap, nil, "task %q trapped: %s; nothing was committed", task, first)
	}
	if code != 0 {
		return &ExitError{task: task, code: code, message: state.FailMessage()}
	}
	if missing := state.Missing(); len(missing) > 0 {
		return failf(ErrMissingOutput, nil,
			"task %q succeeded but did not write its declared output %s; nothing was committed (open and close the output even when it is empty, or remove it from the task's outputs)",
			task, quoteList(missing))
	}
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func mib(n uint64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
