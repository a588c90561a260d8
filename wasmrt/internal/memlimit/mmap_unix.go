//go:build unix

package memlimit

import (
	"sync"
	"syscall"
)

// mapped is a linear memory backed by an anonymous mapping of its largest
// size, reserved up front without committing memory (MAP_NORESERVE). Growing
// it only lengthens the slice: nothing is copied or cleared, and the kernel
// supplies zeroed pages as the guest first touches them (or, in a reused
// mapping, they are there already, zeroed by release). It lives outside the
// Go heap, so large guests add no garbage collection work.
type mapped struct {
	a    *Allocator
	mem  []byte // the whole reservation
	max  uint64 // the most the memory may grow to; at most len(mem)
	size uint64 // the current size: nothing past it was written
}

func (a *Allocator) mapMemory(max uint64) *mapped {
	if max == 0 || max > uint64(^uint(0)>>1) {
		return nil
	}
	m := spares.take(max)
	if m == nil {
		mem, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
		if err != nil {
			return nil
		}
		m = &mapped{mem: mem}
	}
	m.a, m.max = a, max
	a.mu.Lock()
	a.mapped = append(a.mapped, m)
	a.mu.Unlock()
	return m
}

// Reallocate implements experimental.LinearMemory.
func (m *mapped) Reallocate(size uint64) []byte {
	if m.mem == nil || size > m.max {
		m.a.refused.Store(true)
		return nil
	}
	m.size = size
	return m.mem[:size:size]
}

// Free implements experimental.LinearMemory. It does nothing: wazero calls
// it when the module closes, which with WithCloseOnContextDone can happen on
// another goroutine while guest code still runs. Allocator.Release releases
// the memory once the guest is certainly done.
func (m *mapped) Free() {}

// release zeroes the memory and keeps it for the next instance, or unmaps it.
func (m *mapped) release() {
	if m.mem == nil {
		return
	}
	if m.reset() && spares.put(m) {
		return
	}
	_ = syscall.Munmap(m.mem)
	m.mem = nil
}

// Reusing memories.
//
// Supplying a page the first time it is touched costs the kernel about 2µs
// here (a fault, a zeroed page, accounting): some 1.5 ms for the few MB a
// small Go task touches while it starts, more than the task's own work. So
// released memories are zeroed and kept for the next instance instead of
// unmapped. Zeroing a page that is already there costs a tenth of supplying
// it; past clearMax the pages are handed back to the kernel instead
// (MADV_DONTNEED), which makes them read as zero again, so a task that grew
// large does not make the next one pay to clear all of it.
const (
	clearMax  = 16 << 20 // bytes zeroed in place; beyond, pages are dropped
	maxSpares = 4        // memories kept per process
)

var spares spareList

type spareList struct {
	mu   sync.Mutex
	list []*mapped
}

// take returns a kept memory whose reservation is at least max bytes.
func (s *spareList) take(max uint64) *mapped {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.list {
		if uint64(len(m.mem)) >= max {
			s.list = append(s.list[:i], s.list[i+1:]...)
			return m
		}
	}
	return nil
}

// put keeps m if there is room.
func (s *spareList) put(m *mapped) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) >= maxSpares {
		return false
	}
	m.a = nil
	s.list = append(s.list, m)
	return true
}

// reset makes every byte of the memory zero again, as in a fresh mapping.
// Only bytes below size can have been written.
func (m *mapped) reset() bool {
	keep := min(m.size, clearMax)
	if m.size > keep && !dropPages(m.mem[keep:m.size]) {
		return false
	}
	clear(m.mem[:keep])
	m.size = 0
	return true
}
