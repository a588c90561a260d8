//go:build unix

package memlimit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReusedMemoryIsZero dirties memories of several sizes, releases them,
// and checks that the next instances get the same mappings back, all zero.
func TestReusedMemoryIsZero(t *testing.T) {
	for _, size := range []uint64{PageSize, 40 * PageSize, clearMax, clearMax + 3*PageSize} {
		a := New(clearMax + 8*PageSize)
		m := a.Allocate(0, MaxLimit).(*mapped)
		buf := m.Reallocate(size)
		for i := range buf {
			buf[i] = byte(i) | 1
		}
		first := &buf[0]
		a.Release()

		b := New(clearMax + 4*PageSize) // a smaller limit may reuse a larger mapping
		m2 := b.Allocate(0, MaxLimit).(*mapped)
		buf2 := m2.Reallocate(clearMax + 4*PageSize)
		require.Same(t, first, &buf2[0], "size %d: the memory was not reused", size)
		for i, c := range buf2 {
			if c != 0 {
				t.Fatalf("size %d: byte %d of a reused memory is %d, not zero", size, i, c)
			}
		}
		require.Nil(t, m2.Reallocate(clearMax+5*PageSize), "a reused memory keeps the new limit")
		require.True(t, b.Refused())
		b.Release()
	}
}

// TestSparesAreBounded releases more memories than are kept and checks that
// the rest are unmapped.
func TestSparesAreBounded(t *testing.T) {
	a := New(4 * PageSize)
	var ms []*mapped
	for range maxSpares + 3 {
		m := a.Allocate(0, MaxLimit).(*mapped)
		m.Reallocate(PageSize)[0] = 1
		ms = append(ms, m)
	}
	a.Release()
	kept := 0
	for _, m := range ms {
		if m.mem != nil {
			kept++
		}
	}
	require.LessOrEqual(t, kept, maxSpares)
	require.Greater(t, kept, 0)
	a.Release() // idempotent
}
