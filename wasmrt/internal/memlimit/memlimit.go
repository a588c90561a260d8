// Package memlimit caps the linear memory of one module instance. It plugs
// into wazero's experimental.MemoryAllocator, which is chosen per
// instantiation through the context, so every invocation gets its own limit
// while all of them share one compiled module and one wazero runtime.
//
// A memory grown past the limit makes memory.grow return -1 to the guest (a
// Go guest then dies with "out of memory"), and the Allocator remembers it,
// so the host can report the limit rather than a crash.
package memlimit

import (
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// PageSize is the size of a Wasm memory page.
const PageSize = 64 << 10

// MaxLimit is the largest memory a 32-bit Wasm module can address.
const MaxLimit = 1 << 32

// Allocator hands out linear memories that refuse to grow beyond a limit,
// and remembers whether a grow was refused.
type Allocator struct {
	limit   uint64
	refused atomic.Bool

	mu     sync.Mutex
	mapped []*mapped
}

// New returns an Allocator for limit bytes, rounded down to whole pages and
// capped at MaxLimit.
func New(limit uint64) *Allocator {
	limit = min(limit, MaxLimit)
	return &Allocator{limit: limit / PageSize * PageSize}
}

// Limit returns the effective limit in bytes.
func (a *Allocator) Limit() uint64 { return a.limit }

// Refused reports whether the guest asked for more memory than the limit.
func (a *Allocator) Refused() bool { return a.refused.Load() }

// Allocate implements experimental.MemoryAllocator. Where the platform
// allows, the memory is a reservation of address space (see mapped), so it
// never moves or gets copied as it grows and its pages cost nothing until
// the guest touches them; otherwise it is an ordinary slice.
func (a *Allocator) Allocate(_, max uint64) experimental.LinearMemory {
	max = min(max, a.limit)
	if m := a.mapMemory(max); m != nil {
		return m
	}
	return &linear{a: a, max: max}
}

// Release frees the memories this Allocator handed out, zeroed, for later
// instances to reuse. Call it once the module instance is closed and no
// guest or host code can touch its memory.
func (a *Allocator) Release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.mapped {
		m.release()
	}
	a.mapped = nil
}

// linear is a growable []byte. It grows like append, doubling its capacity
// up to the limit, so a guest that grows page by page is not copied over
// and over; the bytes past len are never exposed before a grow asks for
// them, so they are still zero when handed out.
type linear struct {
	a   *Allocator
	max uint64
	buf []byte
}

// Reallocate implements experimental.LinearMemory. It returns nil, which the
// guest sees as memory.grow returning -1, when size exceeds the limit.
func (l *linear) Reallocate(size uint64) []byte {
	if size > l.max {
		l.a.refused.Store(true)
		return nil
	}
	if l.buf != nil && size <= uint64(cap(l.buf)) {
		l.buf = l.buf[:size]
		return l.buf
	}
	newCap := max(size, 2*uint64(cap(l.buf)))
	newCap = min(newCap, l.max)
	buf := make([]byte, size, newCap)
	copy(buf, l.buf)
	l.buf = buf
	return buf
}

// Free implements experimental.LinearMemory.
func (l *linear) Free() { l.buf = nil }
