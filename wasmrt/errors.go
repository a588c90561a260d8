package wasmrt

import (
	"context"
	"errors"
	"fmt"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
)

// Sentinel errors a failed invocation matches with errors.Is. The error
// returned by Runtime.Run and Pool.Run carries the full story (the task, what
// happened, what to do); the sentinel is only what callers branch on. A task
// that exits with a non-zero code returns an *ExitError instead.
var (
	// ErrTimeout: the task ran past its deadline and was stopped. It also
	// matches context.DeadlineExceeded.
	ErrTimeout error = &sentinel{"task timed out", context.DeadlineExceeded}

	// ErrCanceled: the invocation was canceled. It also matches
	// context.Canceled.
	ErrCanceled error = &sentinel{"task canceled", context.Canceled}

	// ErrMemoryLimit: the task asked for more memory than its limit.
	ErrMemoryLimit error = &sentinel{msg: "task exceeded its memory limit"}

	// ErrMissingOutput: the task succeeded without opening one of its
	// declared outputs for writing.
	ErrMissingOutput error = &sentinel{msg: "task did not write a declared output"}

	// ErrABIVersion: the module was built for a host ABI this host does not
	// speak: another glacier_vN version, or a glacier_v1 function or
	// signature v1 does not have.
	ErrABIVersion error = &sentinel{msg: "module built for another host ABI"}

	// ErrFault: the task passed a bad pointer, length or handle to a host
	// function. The task fails even if it then exits with code 0.
	ErrFault error = &sentinel{msg: "task passed an invalid argument to the host"}

	// ErrTrap: the module trapped (unreachable, out-of-bounds access,
	// division by zero, stack exhaustion). A panic in a Go task is an
	// *ExitError with code 2, not a trap.
	ErrTrap error = &sentinel{msg: "task trapped"}

	// ErrStorage: the storage behind a dataset failed while the task read or
	// wrote it, or while its outputs were committed. Such errors may be worth
	// a retry; the others are not.
	ErrStorage error = &sentinel{msg: "storage error"}

	// ErrStorageDenied: the storage refused in a way no retry fixes (the
	// bucket does not exist, access is denied; see storage.ErrPermanent).
	// It also matches ErrStorage.
	ErrStorageDenied error = &sentinel{msg: "storage refused", also: ErrStorage}

	// ErrWorkerCrashed: the Pool's worker process died while it ran the
	// task (not through a timeout or cancellation). The worker is replaced.
	ErrWorkerCrashed error = &sentinel{msg: "sandbox worker crashed"}

	// ErrInvalidModule: the module was refused before any of it ran: its
	// file is not a regular file or is too big, it is not well-formed
	// WebAssembly, or it declares more than a task module may (see
	// package wasmcheck). Retrying cannot help.
	ErrInvalidModule error = &sentinel{msg: "invalid module"}

	// ErrCompileBudget: loading and compiling the module in a Pool worker
	// took longer than its CompileBudget's time or needed more than its
	// memory; the worker was stopped and is replaced.
	ErrCompileBudget error = &sentinel{msg: "module too costly to compile"}

	// ErrHostBug: a host function failed in a way guest input must never
	// cause. The task fails; please report it.
	ErrHostBug error = &sentinel{msg: "host bug"}

	// ErrContract: the task wrote an output that breaks its dataset's
	// contract (Invocation.Contracts). The error also matches the
	// *schema.Violation, which says where and how. Retrying cannot help.
	ErrContract error = &sentinel{msg: "output breaks its contract"}
)

// kinds pairs each sentinel with the name of its kind of failure, in the
// order KindOf tries them. It is the one table of failure kinds: a Pool and
// its workers send these names across their pipe, and the function
// runtimes report them to their callers.
var kinds = []struct {
	kind fnspec.Kind
	err  error
}{
	{fnspec.KindTimeout, ErrTimeout},
	{fnspec.KindCanceled, ErrCanceled},
	{fnspec.KindMemoryLimit, ErrMemoryLimit},
	{fnspec.KindMissingOutput, ErrMissingOutput},
	{fnspec.KindABIVersion, ErrABIVersion},
	{fnspec.KindFault, ErrFault},
	{fnspec.KindTrap, ErrTrap},
	{fnspec.KindStorageDenied, ErrStorageDenied},
	{fnspec.KindStorage, ErrStorage},
	{fnspec.KindWorkerCrashed, ErrWorkerCrashed},
	{fnspec.KindInvalidModule, ErrInvalidModule},
	{fnspec.KindCompileBudget, ErrCompileBudget},
	{fnspec.KindHostBug, ErrHostBug},
	{fnspec.KindContract, ErrContract},
}

// KindOf names the kind of failure err reports, for callers that pass it
// on as a string rather than branch on it: "TaskFailed" for an
// *ExitError, "Timeout" for ErrTimeout (or a bare context deadline),
// "Canceled" for ErrCanceled (or a bare context cancellation), and for the
// other sentinels "MemoryLimit", "MissingOutput", "ABIVersion", "Fault",
// "Trap", "StorageDenied", "Storage", "WorkerCrashed", "InvalidModule",
// "CompileBudget", "HostBug" and "Contract". An error matching several gets the first
// of that list; one matching none gets "StorageDenied" if it matches
// storage.ErrPermanent, and otherwise "". The names never change: Glacier's function
// runtimes report them to Lambda and Cloud Functions callers.
func KindOf(err error) string {
	var exit *ExitError
	if errors.As(err, &exit) {
		return string(fnspec.KindTaskFailed)
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return string(k.kind)
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return string(fnspec.KindTimeout)
	case errors.Is(err, context.Canceled):
		return string(fnspec.KindCanceled)
	case errors.Is(err, storage.ErrPermanent):
		return string(fnspec.KindStorageDenied)
	}
	return ""
}

// storageFailure is the sentinel of a storage error: ErrStorageDenied if
// no retry can fix it, else ErrStorage.
func storageFailure(err error) error {
	if errors.Is(err, storage.ErrPermanent) {
		return ErrStorageDenied
	}
	return ErrStorage
}

// sentinel is the type of the Err values; also, when set, is the error
// (a context error, or a broader sentinel) the sentinel also matches.
type sentinel struct {
	msg  string
	also error
}

func (s *sentinel) Error() string { return s.msg }

func (s *sentinel) Is(target error) bool { return s.also != nil && target == s.also }

// taskError is a failed invocation: kind is one of the sentinels, cause the
// underlying error if there is one.
type taskError struct {
	kind  error
	msg   string
	cause error
}

func (e *taskError) Error() string { return e.msg }

func (e *taskError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func failf(kind, cause error, format string, args ...any) error {
	return &taskError{kind: kind, cause: cause, msg: fmt.Sprintf(format, args...)}
}

// ExitError is returned when a task exits with a non-zero code. A task built
// with the guest SDK exits with 1 when its function returns an error and with
// 2 when it panics; Message then holds what it passed to task_fail.
type ExitError struct {
	task    string
	code    uint32
	message string
}

// Task returns the name of the task that exited.
func (e *ExitError) Task() string { return e.task }

// ExitCode returns the task's exit code, never 0.
func (e *ExitError) ExitCode() int { return int(e.code) }

// Message returns what the task passed to task_fail, or "".
func (e *ExitError) Message() string { return e.message }

// Error describes the failure, with the task's own message when it gave one.
func (e *ExitError) Error() string {
	switch {
	case e.message != "":
		return fmt.Sprintf("task %q failed: %s (exit code %d); nothing was committed", e.task, e.message, e.code)
	case e.code == 2:
		return fmt.Sprintf("task %q exited with code 2 (a Go panic or fatal runtime error); nothing was committed; its log has the details", e.task)
	default:
		return fmt.Sprintf("task %q exited with code %d; nothing was committed; its log may say why", e.task, e.code)
	}
}
