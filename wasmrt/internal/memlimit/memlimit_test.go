package memlimit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero/experimental"
)

// memories returns each kind of linear memory an Allocator can hand out.
func memories(a *Allocator, max uint64) map[string]experimental.LinearMemory {
	ms := map[string]experimental.LinearMemory{"slice": &linear{a: a, max: min(max, a.limit)}}
	if m := a.mapMemory(min(max, a.limit)); m != nil {
		ms["mapped"] = m
	}
	return ms
}

func TestLinearMemoryGrowsToTheLimit(t *testing.T) {
	a := New(10*PageSize + 123) // rounded down to 10 pages
	assert.EqualValues(t, 10*PageSize, a.Limit())
	for name, m := range memories(a, 1<<32) {
		t.Run(name, func(t *testing.T) {
			a.refused.Store(false)
			buf := m.Reallocate(PageSize)
			require.Len(t, buf, PageSize)
			buf[0] = 42
			for pages := uint64(2); pages <= 10; pages++ {
				buf = m.Reallocate(pages * PageSize)
				require.Len(t, buf, int(pages*PageSize))
				assert.EqualValues(t, 42, buf[0], "contents survive a grow")
				assert.Zero(t, buf[len(buf)-1], "new pages are zero")
				assert.LessOrEqual(t, cap(buf), 10*PageSize)
				buf[len(buf)-1] = 1 // touch the new page
			}
			assert.False(t, a.Refused())
			assert.Nil(t, m.Reallocate(11*PageSize))
			assert.True(t, a.Refused())
			m.Free()
		})
	}
	a.Release()
}

func TestModuleMaximumWins(t *testing.T) {
	a := New(100 * PageSize)
	for name, m := range memories(a, 2*PageSize) {
		t.Run(name, func(t *testing.T) {
			assert.NotNil(t, m.Reallocate(0), "an empty memory is not a failure")
			assert.NotNil(t, m.Reallocate(2*PageSize))
			assert.Nil(t, m.Reallocate(3*PageSize))
		})
	}
	a.Release()
}

func TestAllocateAndRelease(t *testing.T) {
	a := New(4 * PageSize)
	m := a.Allocate(PageSize, 1<<32)
	buf := m.Reallocate(4 * PageSize)
	require.Len(t, buf, 4*PageSize)
	buf[len(buf)-1] = 7
	m.Free()
	a.Release()
	a.Release() // idempotent
}

func TestLimitCappedAt4GiB(t *testing.T) {
	assert.EqualValues(t, MaxLimit, New(1<<40).Limit())
}
