package wasmrt

import (
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
)

// capMemory caps this process's address space at its present size plus n
// bytes until restore is called, and asks the garbage collector to keep the
// heap well inside that. Past the cap every allocation fails: in Go code
// that is the fatal "out of memory" that ends the worker, in an mmap an
// ENOMEM error. The address space bounds resident memory from above, so
// the cap holds however quickly memory is taken, with no sampling.
func capMemory(n uint64) (restore func()) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err != nil {
		return func() {}
	}
	size, err := addressSpace()
	if err != nil {
		return func() {}
	}
	capped := old
	capped.Cur = min(size+n, old.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &capped); err != nil {
		return func() {}
	}
	prevGC := debug.SetMemoryLimit(int64(min(goMemory()+n*3/4, 1<<62)))
	return func() {
		_ = syscall.Setrlimit(syscall.RLIMIT_AS, &old)
		debug.SetMemoryLimit(prevGC)
	}
}

// addressSpace returns the size of this process's address space in bytes.
func addressSpace() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	pages, _, _ := bytes.Cut(b, []byte(" "))
	n, err := strconv.ParseUint(string(pages), 10, 64)
	if err != nil {
		return 0, err
	}
	return n * uint64(os.Getpagesize()), nil
}
