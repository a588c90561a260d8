package wasmrt

import (
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
)

// runSlack is how far the Go memory of a worker may grow while a guest
// runs before the garbage collector works to bring it back; see
// collectPromptly.
const runSlack = 64 << 20

// collectPromptly sets a soft memory limit slack bytes above what the Go
// runtime holds now, until restore is called. What a guest makes the host
// allocate outside its linear memory is garbage soon after: the engine
// grows the call stack by copying it to one twice the size, and the old
// ones would otherwise stay until the heap doubled.
func collectPromptly(slack uint64) (restore func()) {
	prev := debug.SetMemoryLimit(int64(min(goMemory()+slack, 1<<62)))
	return func() { debug.SetMemoryLimit(prev) }
}

// goMemory returns the memory the Go runtime holds, as debug.SetMemoryLimit
// counts it.
func goMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// outOfMemory reports whether text says an allocation failed: Go's fatal
// "out of memory", an mmap refused with ENOMEM, or the race detector's
// runtime failing to allocate its shadow memory.
func outOfMemory(text string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "failed to allocate"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

func compileMemoryExceeded(task string, b CompileBudget) error {
	return failf(ErrCompileBudget, nil,
		"task %q: module too costly to compile: reading and compiling it needed more than its compile budget of %s of memory; nothing ran (raise the task's compute compile_memory, or make the module smaller)",
		task, mib(b.Memory))
}

func compileTimeExceeded(task string, b CompileBudget) error {
	return failf(ErrCompileBudget, nil,
		"task %q: module too costly to compile: reading and compiling it took longer than its compile budget of %s; it was stopped and nothing ran (raise the task's compute compile_timeout, or make the module smaller)",
		task, b.Timeout.Round(time.Millisecond))
}
