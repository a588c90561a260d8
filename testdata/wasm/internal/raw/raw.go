//go:build wasip1

// Package raw calls the glacier_v1 host functions directly, without the guest
// SDK, so fixtures can exercise the ABI exactly (including with bad
// arguments).
package raw

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"

	"github.com/glacier-pipeline/glacier/abi"
)

//go:wasmimport glacier_v1 task_context
func taskContext(bufPtr, bufCap, lenPtr uint32) uint32

//go:wasmimport glacier_v1 dataset_open
func datasetOpen(namePtr, nameLen, mode, handlePtr uint32) uint32

//go:wasmimport glacier_v1 dataset_read
func datasetRead(handle, bufPtr, bufLen, nPtr uint32) uint32

//go:wasmimport glacier_v1 dataset_write
func datasetWrite(handle, bufPtr, bufLen, nPtr uint32) uint32

//go:wasmimport glacier_v1 dataset_close
func datasetClose(handle uint32) uint32

//go:wasmimport glacier_v1 task_fail
func taskFail(msgPtr, msgLen uint32) uint32

// The raw entry points take every argument as a plain u32, so a fixture can
// pass anything at all.

// TaskContextRaw calls task_context with the given arguments.
func TaskContextRaw(bufPtr, bufCap, lenPtr uint32) abi.Errno {
	return abi.Errno(taskContext(bufPtr, bufCap, lenPtr))
}

// OpenRaw calls dataset_open with the given arguments.
func OpenRaw(namePtr, nameLen, mode, handlePtr uint32) abi.Errno {
	return abi.Errno(datasetOpen(namePtr, nameLen, mode, handlePtr))
}

// ReadRaw calls dataset_read with the given arguments.
func ReadRaw(handle, bufPtr, bufLen, nPtr uint32) abi.Errno {
	return abi.Errno(datasetRead(handle, bufPtr, bufLen, nPtr))
}

// WriteRaw calls dataset_write with the given arguments.
func WriteRaw(handle, bufPtr, bufLen, nPtr uint32) abi.Errno {
	return abi.Errno(datasetWrite(handle, bufPtr, bufLen, nPtr))
}

// CloseRaw calls dataset_close with the given handle.
func CloseRaw(handle uint32) abi.Errno { return abi.Errno(datasetClose(handle)) }

// FailRaw calls task_fail with the given arguments.
func FailRaw(msgPtr, msgLen uint32) abi.Errno { return abi.Errno(taskFail(msgPtr, msgLen)) }

// Ptr returns the guest address of b's first byte (0 for an empty slice).
func Ptr(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func u32Ptr(v *uint32) uint32 { return uint32(uintptr(unsafe.Pointer(v))) }

// Context returns the task context.
func Context() (abi.TaskContext, error) {
	var tc abi.TaskContext
	var n uint32
	buf := make([]byte, 256)
	e := abi.Errno(taskContext(Ptr(buf), uint32(len(buf)), u32Ptr(&n)))
	if e == abi.ErrnoRange {
		buf = make([]byte, n)
		e = abi.Errno(taskContext(Ptr(buf), uint32(len(buf)), u32Ptr(&n)))
	}
	if e != abi.ErrnoSuccess {
		return tc, fmt.Errorf("task_context: %w", e)
	}
	return tc, json.Unmarshal(buf[:n], &tc)
}

// Open opens a dataset in the given mode and returns its handle.
func Open(name string, mode uint32) (uint32, error) {
	b := []byte(name)
	var h uint32
	if e := abi.Errno(datasetOpen(Ptr(b), uint32(len(b)), mode, u32Ptr(&h))); e != abi.ErrnoSuccess {
		return 0, fmt.Errorf("open %q: %w", name, e)
	}
	return h, nil
}

// Read reads into buf; n == 0 with a nil error is the end of the dataset.
func Read(h uint32, buf []byte) (int, error) {
	var n uint32
	if e := abi.Errno(datasetRead(h, Ptr(buf), uint32(len(buf)), u32Ptr(&n))); e != abi.ErrnoSuccess {
		return 0, fmt.Errorf("read: %w", e)
	}
	return int(n), nil
}

// Write writes buf in full.
func Write(h uint32, buf []byte) error {
	var n uint32
	if e := abi.Errno(datasetWrite(h, Ptr(buf), uint32(len(buf)), u32Ptr(&n))); e != abi.ErrnoSuccess {
		return fmt.Errorf("write: %w", e)
	}
	if int(n) != len(buf) {
		return fmt.Errorf("write: short write %d of %d", n, len(buf))
	}
	return nil
}

// Close closes a handle.
func Close(h uint32) error {
	if e := abi.Errno(datasetClose(h)); e != abi.ErrnoSuccess {
		return fmt.Errorf("close: %w", e)
	}
	return nil
}

// Fail records msg with task_fail and exits with code 1.
func Fail(msg string) {
	b := []byte(msg)
	taskFail(Ptr(b), uint32(len(b)))
	os.Exit(1)
}

// Check calls Fail with err's text if err is not nil.
func Check(err error) {
	if err != nil {
		Fail(err.Error())
	}
}
