// Package host is the seam between the task SDK and whatever serves the
// Glacier ABI: the real host through Wasm imports (GOOS=wasip1), or the
// in-memory host of package tasktest. Both implement Host, so a task's code
// takes the same path under either.
package host

import (
	"fmt"
	"io"

	"github.com/glacier-pipeline/glacier/abi"
)

// Host mirrors the host functions of the ABI one to one, with Go types in
// place of guest pointers. Errors are abi.Errno values, never wrapped: the
// SDK turns them into messages that name the dataset and the fix.
type Host interface {
	// TaskContext writes the JSON task context into buf and returns its
	// length. If buf is too small it returns the needed length and
	// abi.ErrnoRange.
	TaskContext(buf []byte) (int, abi.Errno)
	// Open opens a dataset in mode abi.ModeRead or abi.ModeWrite.
	Open(name string, mode uint32) (uint32, abi.Errno)
	// Read reads up to len(buf) bytes; 0 with abi.ErrnoSuccess is the end.
	Read(handle uint32, buf []byte) (int, abi.Errno)
	// Write appends buf to a staged output.
	Write(handle uint32, buf []byte) (int, abi.Errno)
	// Close releases a handle.
	Close(handle uint32) abi.Errno
	// Fail records why the task failed.
	Fail(msg string) abi.Errno
	// Parts writes the keys of a partitioned input's parts into buf, sorted,
	// each followed by '\n', and returns their length. If buf is too small
	// it returns the needed length and abi.ErrnoRange.
	Parts(name string, buf []byte) (int, abi.Errno)
	// OpenPart opens the part with the given key of a partitioned dataset
	// in mode abi.ModeRead or abi.ModeWrite.
	OpenPart(name, key string, mode uint32) (uint32, abi.Errno)
	// Stderr is where the task's log lines and failure reports go.
	Stderr() io.Writer
}

// Outcome is how one run of a task function ended.
type Outcome struct {
	// Code is the exit code the task ends with: 0 success, 1 an error,
	// 2 a panic.
	Code int
	// Err is why the task failed, nil on success. When the task function
	// returned an error, Err wraps it.
	Err error
}

// RunTask runs a task function (a func(*task.Context) error, passed as any
// because this package cannot name the type) against h. Package task sets
// it in its init, so package tasktest can run task functions against an
// in-memory Host without task exporting a way to do so.
var RunTask func(h Host, fn any) Outcome

// PanicError is the failure of a task function that panicked.
type PanicError struct {
	// Value is what the function passed to panic.
	Value any
	// Stack is the panicking goroutine's stack.
	Stack []byte
}

// Error returns "panic: " and the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
