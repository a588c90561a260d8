package wasmrt

import (
	"strings"
	"time"
)

// outOfMemory reports whether text says an allocation failed: Go's fatal
// "out of memory", or an mmap refused with ENOMEM.
func outOfMemory(text string) bool {
	return strings.Contains(text, "out of memory") || strings.Contains(text, "cannot allocate memory")
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
