package memlimit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinearMemoryGrowsToTheLimit(t *testing.T) {
	a := New(10*PageSize + 123) // rounded down to 10 pages
	assert.EqualValues(t, 10*PageSize, a.Limit())
	m := a.Allocate(PageSize, 1<<32)

	buf := m.Reallocate(PageSize)
	require.Len(t, buf, PageSize)
	buf[0] = 42
	for pages := uint64(2); pages <= 10; pages++ {
		buf = m.Reallocate(pages * PageSize)
		require.Len(t, buf, int(pages*PageSize))
		assert.EqualValues(t, 42, buf[0], "contents survive a grow")
		assert.Zero(t, buf[len(buf)-1], "new pages are zero")
		assert.LessOrEqual(t, cap(buf), 10*PageSize)
	}
	assert.False(t, a.Refused())
	assert.Nil(t, m.Reallocate(11*PageSize))
	assert.True(t, a.Refused())
	m.Free()
}

func TestModuleMaximumWins(t *testing.T) {
	a := New(100 * PageSize)
	m := a.Allocate(0, 2*PageSize)
	assert.NotNil(t, m.Reallocate(0), "an empty memory is not a failure")
	assert.NotNil(t, m.Reallocate(2*PageSize))
	assert.Nil(t, m.Reallocate(3*PageSize))
}

func TestLimitCappedAt4GiB(t *testing.T) {
	assert.EqualValues(t, MaxLimit, New(1<<40).Limit())
}
