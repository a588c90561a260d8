package wasmrt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier/storage"
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&ExitError{task: "t", code: 1}, "TaskFailed"},
		{fmt.Errorf("wrapped: %w", &ExitError{task: "t", code: 2}), "TaskFailed"},
		{failf(ErrTimeout, nil, "late"), "Timeout"},
		{context.DeadlineExceeded, "Timeout"},
		{fmt.Errorf("wasmrt: start worker: %w", context.Canceled), "Canceled"},
		{failf(ErrMemoryLimit, nil, "big"), "MemoryLimit"},
		{failf(ErrMissingOutput, nil, "lazy"), "MissingOutput"},
		{failf(ErrABIVersion, nil, "v2"), "ABIVersion"},
		{failf(ErrFault, nil, "bad pointer"), "Fault"},
		{failf(ErrTrap, nil, "unreachable"), "Trap"},
		{failf(ErrStorage, context.DeadlineExceeded, "slow bucket"), "Storage"},
		{failf(storageFailure(storage.ErrPermanent), storage.ErrPermanent, "no bucket"), "StorageDenied"},
		{failf(storageFailure(storage.ErrPrecondition), storage.ErrPrecondition, "lost a race"), "Storage"},
		{fmt.Errorf("list: %w", storage.ErrPermanent), "StorageDenied"},
		{failf(ErrWorkerCrashed, nil, "died"), "WorkerCrashed"},
		{fmt.Errorf("module x: %w", failf(ErrInvalidModule, failf(ErrABIVersion, nil, "v2"), "refused")), "ABIVersion"}, // the first of the list
		{failf(ErrInvalidModule, nil, "refused"), "InvalidModule"},
		{failf(ErrCompileBudget, nil, "slow"), "CompileBudget"},
		{failf(ErrHostBug, nil, "oops"), "HostBug"},
		{failf(storage.ErrCorrupt, nil, "bad digest"), ""},
		{io.ErrUnexpectedEOF, ""},
		{nil, ""},
	} {
		assert.Equal(t, tc.want, KindOf(tc.err), "%v", tc.err)
	}
}

// TestWireErrorsKeepKinds sends an error of every kind across the pipe's
// encoding and checks it comes back matching the same sentinel, with the
// same kind and message.
func TestWireErrorsKeepKinds(t *testing.T) {
	for _, k := range kinds {
		sent := failf(k.err, nil, "task %q: %s", "t", k.kind)
		got := encodeError(sent).decode()
		assert.ErrorIs(t, got, k.err, "%s", k.kind)
		assert.Equal(t, string(k.kind), KindOf(got))
		assert.Equal(t, sent.Error(), got.Error())
	}
	exit := &ExitError{task: "t", code: 3, message: "bad row"}
	var got *ExitError
	if assert.True(t, errors.As(encodeError(exit).decode(), &got)) {
		assert.Equal(t, *exit, *got)
	}
	denied := encodeError(failf(ErrStorageDenied, storage.ErrPermanent, "no bucket")).decode()
	assert.ErrorIs(t, denied, ErrStorageDenied)
	assert.ErrorIs(t, denied, ErrStorage, "a refusal of the storage is a storage error")
	assert.NotErrorIs(t, failf(ErrStorage, nil, "slow"), ErrStorageDenied)
	corrupt := encodeError(failf(ErrStorage, storage.ErrCorrupt, "digest")).decode()
	assert.ErrorIs(t, corrupt, ErrStorage)
	assert.ErrorIs(t, corrupt, storage.ErrCorrupt)
	assert.Nil(t, encodeError(nil))
}
