//go:build unix

package memlimit

import "syscall"

// mapped is a linear memory backed by an anonymous mapping of its largest
// size, reserved up front without committing memory (MAP_NORESERVE). Growing
// it only lengthens the slice: nothing is copied or cleared, and the kernel
// supplies zeroed pages as the guest first touches them. It lives outside the
// Go heap, so large guests add no garbage collection work.
type mapped struct {
	a    *Allocator
	mem  []byte // the whole reservation
	size uint64
}

func (a *Allocator) mapMemory(max uint64) *mapped {
	if max == 0 || max > uint64(^uint(0)>>1) {
		return nil
	}
	mem, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil
	}
	m := &mapped{a: a, mem: mem}
	a.mu.Lock()
	a.mapped = append(a.mapped, m)
	a.mu.Unlock()
	return m
}

// Reallocate implements experimental.LinearMemory.
func (m *mapped) Reallocate(size uint64) []byte {
	if m.mem == nil || size > uint64(len(m.mem)) {
		m.a.refused.Store(true)
		return nil
	}
	m.size = size
	return m.mem[:size:size]
}

// Free implements experimental.LinearMemory. It does nothing: wazero calls
// it when the module closes, which with WithCloseOnContextDone can happen on
// another goroutine while guest code still runs. Allocator.Release unmaps
// the memory once the guest is certainly done.
func (m *mapped) Free() {}

func (m *mapped) unmap() {
	if m.mem != nil {
		_ = syscall.Munmap(m.mem)
		m.mem = nil
	}
}
