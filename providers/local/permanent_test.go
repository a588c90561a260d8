package local_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// TestPermanent: the executor does not retry a task the storage refused
// for good, whether the sandbox reports it or the storage does directly;
// other storage errors, a lost precondition among them, are retried.
func TestPermanent(t *testing.T) {
	denied := fmt.Errorf("commit out: %w", storage.ErrPermanent)
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{denied, true},
		{fmt.Errorf("task t: %w", errors.Join(wasmrt.ErrStorageDenied, denied)), true},
		{wasmrt.ErrStorageDenied, true},
		{wasmrt.ErrStorage, false},
		{fmt.Errorf("commit ref: %w", storage.ErrPrecondition), false},
		{wasmrt.ErrInvalidModule, true},
		{wasmrt.ErrTrap, false},
	} {
		assert.Equal(t, tc.want, local.Permanent(tc.err), "%v", tc.err)
	}
}
