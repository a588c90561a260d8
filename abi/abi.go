// Package abi is the contract between the Glacier host and a task module: the
// import module name, the host function names, the errno values and the task
// context record. Both the host (wasmrt) and the guest SDK import it, so it
// uses only the standard library and must never import either of them.
//
// The normative description lives in docs/abi.md; this package and that
// document change together.
package abi

// Version is the ABI version this package describes. A host speaks a set of
// versions; a module built against another version is refused before it runs.
const Version = 1

// ModuleName is the Wasm import module that holds the host functions of
// this ABI version. A guest imports every function below from it.
const ModuleName = "glacier_v1"

// ModulePrefix starts the import module name of every ABI version, so a host
// can recognise a module built for a version it does not speak.
const ModulePrefix = "glacier_v"

// Host function names, all imported from ModuleName. Every one returns an
// Errno as an i32; out-parameters are little-endian u32 values written to
// guest memory.
const (
	// FuncTaskContext is
	//   task_context(buf_ptr, buf_cap, len_ptr u32) errno
	// It writes the task context (a JSON TaskContext) into buf and its length
	// to len_ptr. When buf_cap is too small it writes only the length and
	// returns ErrnoRange, so the guest can retry with a larger buffer.
	FuncTaskContext = "task_context"

	// FuncDatasetOpen is
	//   dataset_open(name_ptr, name_len, mode, handle_ptr u32) errno
	// It opens a declared input for reading (ModeRead) or a declared output
	// for writing (ModeWrite) and writes the new handle to handle_ptr.
	FuncDatasetOpen = "dataset_open"

	// FuncDatasetRead is
	//   dataset_read(handle, buf_ptr, buf_len, n_ptr u32) errno
	// It reads up to buf_len bytes into buf and writes the count to n_ptr.
	// A count of zero with ErrnoSuccess means the end of the dataset.
	FuncDatasetRead = "dataset_read"

	// FuncDatasetWrite is
	//   dataset_write(handle, buf_ptr, buf_len, n_ptr u32) errno
	// It appends buf to a staged output and writes the count (always buf_len
	// on success) to n_ptr.
	FuncDatasetWrite = "dataset_write"

	// FuncDatasetClose is
	//   dataset_close(handle u32) errno
	// It releases a handle. Closing an output ends its stream; its bytes are
	// committed only when the whole task succeeds.
	FuncDatasetClose = "dataset_close"

	// FuncTaskFail is
	//   task_fail(msg_ptr, msg_len u32) errno
	// It records why the task failed (at most MaxFailMessage bytes are kept).
	// The task still has to exit with a non-zero code; the message is what
	// the host reports instead of a bare exit code.
	FuncTaskFail = "task_fail"

	// FuncDatasetParts is
	//   dataset_parts(name_ptr, name_len, buf_ptr, buf_cap, len_ptr u32) errno
	// It writes the keys of a partitioned input's parts into buf, sorted,
	// each followed by '\n', and their length to len_ptr. Given too small a
	// buf_cap, it writes only the length and returns ErrnoRange.
	FuncDatasetParts = "dataset_parts"

	// FuncDatasetOpenPart is
	//   dataset_open_part(name_ptr, name_len, key_ptr, key_len, mode, handle_ptr u32) errno
	// It opens the part with the given key of a partitioned input for
	// reading (ModeRead), or starts the part with that key of a partitioned
	// output (ModeWrite), and writes the new handle to handle_ptr. Handles
	// are read, written and closed as dataset_open's are.
	FuncDatasetOpenPart = "dataset_open_part"
)

// Modes for FuncDatasetOpen.
const (
	ModeRead  uint32 = 0
	ModeWrite uint32 = 1
)

// Limits every host enforces.
const (
	// MaxNameLen bounds a dataset name passed to dataset_open.
	MaxNameLen = 256
	// MaxHandles bounds the handles a task may hold open at once.
	MaxHandles = 64
	// MaxFailMessage bounds the message kept from task_fail.
	MaxFailMessage = 4096
	// MaxKeyLen bounds a part key passed to dataset_open_part (the rule
	// for keys is glacier.CheckPartKey's).
	MaxKeyLen = 512
)

// Errno is the result of every host function. Zero is success.
// Values are stable: never renumber one.
type Errno uint32

// Errno values.
const (
	ErrnoSuccess Errno = 0
	// ErrnoBadf: the handle is not open, or not open in the mode the call needs.
	ErrnoBadf Errno = 1
	// ErrnoFault: a pointer or length lies outside guest memory.
	ErrnoFault Errno = 2
	// ErrnoAcces: the dataset is not a declared input (for reading) or a
	// declared output (for writing) of this task.
	ErrnoAcces Errno = 3
	// ErrnoNoent: the dataset is declared but has no version to read.
	ErrnoNoent Errno = 4
	// ErrnoInval: a bad mode, a name that is empty, too long or not UTF-8,
	// or a zero-length dataset_read buffer.
	ErrnoInval Errno = 5
	// ErrnoRange: the buffer is too small; the needed length was written.
	ErrnoRange Errno = 6
	// ErrnoIO: the storage behind the dataset failed; the task should fail.
	ErrnoIO Errno = 7
	// ErrnoBusy: the output is already open, or was already written.
	ErrnoBusy Errno = 8
	// ErrnoMfile: the task holds MaxHandles handles already.
	ErrnoMfile Errno = 9
	// ErrnoCanceled: the invocation is being stopped (timeout or cancellation).
	ErrnoCanceled Errno = 10
	// ErrnoPartitioned: the dataset is partitioned, so it is read and
	// written part by part (dataset_parts, dataset_open_part), not whole.
	ErrnoPartitioned Errno = 11
	// ErrnoNotPartitioned: the dataset is not partitioned, so it has no
	// parts; open it whole with dataset_open.
	ErrnoNotPartitioned Errno = 12
)

var errnoNames = [...]string{
	ErrnoSuccess:  "success",
	ErrnoBadf:     "bad handle",
	ErrnoFault:    "pointer or length outside guest memory",
	ErrnoAcces:    "dataset not declared for this access",
	ErrnoNoent:    "dataset has no version",
	ErrnoInval:    "invalid argument",
	ErrnoRange:    "buffer too small",
	ErrnoIO:       "storage error",
	ErrnoBusy:     "output already opened",
	ErrnoMfile:    "too many open handles",
	ErrnoCanceled: "invocation canceled",

	ErrnoPartitioned:    "dataset is partitioned",
	ErrnoNotPartitioned: "dataset is not partitioned",
}

// Error returns a short description, so an Errno can be returned as an error.
func (e Errno) Error() string {
	if int(e) < len(errnoNames) {
		return errnoNames[e]
	}
	return "unknown errno"
}

// TaskContext is what task_context returns, encoded as JSON.
type TaskContext struct {
	// ABI is the version the host speaks for this invocation.
	ABI int `json:"abi"`
	// Task is the task's name in the pipeline.
	Task string `json:"task"`
	// RunID identifies the pipeline run this invocation belongs to.
	RunID string `json:"run_id"`
	// Params are the task's params from the manifest.
	Params map[string]string `json:"params,omitempty"`
	// Inputs and Outputs are the declared dataset names, sorted.
	Inputs  []string `json:"inputs,omitempty"`
	Outputs []string `json:"outputs,omitempty"`
	// Part is the key of the part this invocation of a map task runs
	// over; empty for other tasks. The mapped input and every output are
	// then that part: the guest opens them whole, with dataset_open.
	Part string `json:"part,omitempty"`
	// Partitioned lists, sorted, the declared inputs and outputs the guest
	// reads and writes part by part (dataset_parts, dataset_open_part).
	Partitioned []string `json:"partitioned,omitempty"`
}
