package wasmrt

import (
	"time"

	"github.com/glacier-pipeline/glacier/wasmcheck"
)

// DefaultLogLimit is the number of bytes of a task's stdout and stderr kept
// per invocation when Config.WithLogLimit is not used.
const DefaultLogLimit = 10 << 20

// DefaultMemoryLimit is the memory a task may use when its Invocation or Job
// sets none.
const DefaultMemoryLimit = 512 << 20

// Config configures a Runtime. It is immutable: each With method returns a
// changed copy, so one Config can seed several runtimes.
//
//	cfg := wasmrt.NewConfig().WithCacheDir(".glacier/cache").WithLogLimit(1 << 20)
//	rt, err := wasmrt.NewRuntimeWithConfig(ctx, cfg)
type Config struct {
	cacheDir       string
	logLimit       int64
	closeOnCtxDone bool
	moduleLimits   wasmcheck.Limits
}

// NewConfig returns the default configuration: no on-disk compilation cache,
// a DefaultLogLimit log cap, the default module limits, and no preemption
// of running guests.
func NewConfig() Config {
	return Config{logLimit: DefaultLogLimit}
}

// WithCacheDir keeps compiled machine code in dir, so the next process that
// loads the same module skips compilation, which takes most of a cold start
// (BenchmarkCompile measures both). Several processes may share dir. An empty
// dir turns the on-disk cache off.
func (c Config) WithCacheDir(dir string) Config {
	c.cacheDir = dir
	return c
}

// WithLogLimit sets how many bytes of each task's stdout and stderr reach
// Invocation.Log; the rest is counted and dropped, and a last line says how
// much. A value below zero is treated as zero.
func (c Config) WithLogLimit(n int64) Config {
	c.logLimit = max(n, 0)
	return c
}

// WithCloseOnContextDone makes compiled guest code check for the end of the
// Run context in every loop and function, so a runaway task stops at its
// deadline inside this process.
//
// # Notes
//
// It is off by default because it is expensive: on byte loops it made guest
// code 6 to 20 times slower. Without it a task only notices its deadline
// at its next host call (which then fails with ErrnoCanceled). To bound
// runaway tasks without that cost, run them through a Pool, which stops a
// task by killing its worker process.
func (c Config) WithCloseOnContextDone(on bool) Config {
	c.closeOnCtxDone = on
	return c
}

// WithModuleLimits sets what a module may declare (see package wasmcheck);
// Load refuses a module beyond them with ErrInvalidModule before the engine
// sees it. Zero fields keep their defaults.
func (c Config) WithModuleLimits(l wasmcheck.Limits) Config {
	c.moduleLimits = l
	return c
}

// Defaults for a CompileBudget's zero fields.
const (
	DefaultCompileTimeout = 60 * time.Second
	DefaultCompileMemory  = 1 << 30
)

// CompileBudget bounds what reading and compiling one module may cost a
// Pool worker. A module beyond it fails with ErrCompileBudget, and the
// worker is stopped and replaced. The budget applies before the task's own
// timeout and memory limit, which start with its first instruction.
type CompileBudget struct {
	// Timeout bounds the time from the worker taking the job to the module
	// being ready to run; zero means DefaultCompileTimeout.
	Timeout time.Duration
	// Memory bounds the memory, in bytes, the worker may add while it
	// reads and compiles the module; zero means DefaultCompileMemory. On
	// Linux it caps the worker's address space for the duration, so it
	// holds however fast the memory is taken; elsewhere only Timeout
	// applies.
	Memory uint64
}

func (b CompileBudget) withDefaults() CompileBudget {
	if b.Timeout <= 0 {
		b.Timeout = DefaultCompileTimeout
	}
	if b.Memory == 0 {
		b.Memory = DefaultCompileMemory
	}
	return b
}
