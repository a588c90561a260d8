//go:build wasip1

package host

import (
	"io"
	"os"
	"unsafe"

	"github.com/glacier-pipeline/glacier/abi"
)

// The imports below must match abi's function names and signatures;
// docs/abi.md is the normative description.

//go:wasmimport glacier_v1 task_context
//go:noescape
func taskContext(buf unsafe.Pointer, bufCap uint32, length *uint32) uint32

//go:wasmimport glacier_v1 dataset_open
//go:noescape
func datasetOpen(name string, mode uint32, handle *uint32) uint32

//go:wasmimport glacier_v1 dataset_read
//go:noescape
func datasetRead(handle uint32, buf unsafe.Pointer, bufLen uint32, n *uint32) uint32

//go:wasmimport glacier_v1 dataset_write
//go:noescape
func datasetWrite(handle uint32, buf unsafe.Pointer, bufLen uint32, n *uint32) uint32

//go:wasmimport glacier_v1 dataset_close
func datasetClose(handle uint32) uint32

//go:wasmimport glacier_v1 task_fail
//go:noescape
func taskFail(msg string) uint32

//go:wasmimport glacier_v1 dataset_parts
//go:noescape
func datasetParts(name string, buf unsafe.Pointer, bufCap uint32, length *uint32) uint32

//go:wasmimport glacier_v1 dataset_open_part
//go:noescape
func datasetOpenPart(name, key string, mode uint32, handle *uint32) uint32

// Wasm returns the Host served by the Glacier runtime through Wasm imports.
func Wasm() Host { return wasmHost{} }

type wasmHost struct{}

// maxChunk keeps a length within the u32 the ABI passes.
const maxChunk = 1 << 30

func clip(buf []byte) []byte {
	if len(buf) > maxChunk {
		return buf[:maxChunk]
	}
	return buf
}

func (wasmHost) TaskContext(buf []byte) (int, abi.Errno) {
	buf = clip(buf)
	var n uint32
	e := taskContext(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)), &n)
	return int(n), abi.Errno(e)
}

func (wasmHost) Open(name string, mode uint32) (uint32, abi.Errno) {
	var h uint32
	e := datasetOpen(name, mode, &h)
	return h, abi.Errno(e)
}

func (wasmHost) Read(handle uint32, buf []byte) (int, abi.Errno) {
	buf = clip(buf)
	var n uint32
	e := datasetRead(handle, unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)), &n)
	return int(n), abi.Errno(e)
}

func (wasmHost) Write(handle uint32, buf []byte) (int, abi.Errno) {
	buf = clip(buf)
	var n uint32
	e := datasetWrite(handle, unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)), &n)
	return int(n), abi.Errno(e)
}

func (wasmHost) Close(handle uint32) abi.Errno { return abi.Errno(datasetClose(handle)) }

func (wasmHost) Fail(msg string) abi.Errno { return abi.Errno(taskFail(msg)) }

func (wasmHost) Parts(name string, buf []byte) (int, abi.Errno) {
	buf = clip(buf)
	var n uint32
	e := datasetParts(name, unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)), &n)
	return int(n), abi.Errno(e)
}

func (wasmHost) OpenPart(name, key string, mode uint32) (uint32, abi.Errno) {
	var h uint32
	e := datasetOpenPart(name, key, mode, &h)
	return h, abi.Errno(e)
}

func (wasmHost) Stderr() io.Writer { return os.Stderr }
