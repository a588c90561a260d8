package fnrt

import (
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// Error is a failed invocation. Its message is the sandbox's description of
// the failure, which names the task and ends by saying nothing was
// committed.
type Error struct {
	// Kind is one of fnspec's Kind constants.
	Kind fnspec.Kind
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

// kindOf names the kind of failure err is, as the sandbox does.
func kindOf(err error) fnspec.Kind {
	if k := wasmrt.KindOf(err); k != "" {
		return fnspec.Kind(k)
	}
	return fnspec.KindError
}
