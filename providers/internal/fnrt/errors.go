package fnrt

import (
	"context"
	"errors"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

// Kinds of failure an Error reports. Platforms expose them where callers
// can branch on them (Lambda's errorType, for Step Functions retries), so
// they never change.
const (
	KindTaskFailed    = "TaskFailed"    // the task exited with a non-zero code or returned an error
	KindTimeout       = "Timeout"       // the task ran out of time
	KindCanceled      = "Canceled"      // the invocation was canceled
	KindMemoryLimit   = "MemoryLimit"   // the task asked for more memory than its limit
	KindMissingOutput = "MissingOutput" // the task succeeded without writing a declared output
	KindABIVersion    = "ABIVersion"    // the module was built for another host ABI
	KindFault         = "Fault"         // the task passed a bad argument to the host
	KindTrap          = "Trap"          // the module trapped
	KindStorage       = "Storage"       // reading or writing a dataset failed; worth a retry
	KindWorkerCrashed = "WorkerCrashed" // the sandbox process died
	KindInvalidModule = "InvalidModule" // the module was refused before it ran
	KindCompileBudget = "CompileBudget" // compiling the module took too long or too much memory
	KindHostBug       = "HostBug"       // the host failed in a way no task may cause
	KindBadRequest    = "BadRequest"    // the invocation's payload is not a valid Request
	KindError         = "Error"         // anything else, such as a bad deployment
)

// Error is a failed invocation. Its message is the sandbox's description of
// the failure, which names the task and ends by saying nothing was
// committed.
type Error struct {
	// Kind is one of the Kind constants.
	Kind string
	// Task and RunID identify the invocation.
	Task, RunID string
	// Err is the sandbox's error; errors.Is matches wasmrt's sentinels
	// through it.
	Err error
}

// Error returns the underlying failure's message, which names the task.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying failure, so errors.Is finds the sandbox's
// sentinels.
func (e *Error) Unwrap() error { return e.Err }

func kindOf(err error) string {
	var exit *wasmrt.ExitError
	switch {
	case errors.As(err, &exit):
		return KindTaskFailed
	case errors.Is(err, wasmrt.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, wasmrt.ErrCanceled), errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, wasmrt.ErrMemoryLimit):
		return KindMemoryLimit
	case errors.Is(err, wasmrt.ErrMissingOutput):
		return KindMissingOutput
	case errors.Is(err, wasmrt.ErrABIVersion):
		return KindABIVersion
	case errors.Is(err, wasmrt.ErrFault):
		return KindFault
	case errors.Is(err, wasmrt.ErrTrap):
		return KindTrap
	case errors.Is(err, wasmrt.ErrStorage):
		return KindStorage
	case errors.Is(err, wasmrt.ErrWorkerCrashed):
		return KindWorkerCrashed
	case errors.Is(err, wasmrt.ErrInvalidModule):
		return KindInvalidModule
	case errors.Is(err, wasmrt.ErrCompileBudget):
		return KindCompileBudget
	case errors.Is(err, wasmrt.ErrHostBug):
		return KindHostBug
	}
	return KindError
}
