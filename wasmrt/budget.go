package wasmrt

import (
	"strings"
	"time"
)

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
