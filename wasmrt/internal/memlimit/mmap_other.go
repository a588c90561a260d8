//go:build !unix

package memlimit

type mapped struct{}

func (a *Allocator) mapMemory(uint64) *mapped { return nil }

func (m *mapped) Reallocate(uint64) []byte { return nil }
func (m *mapped) Free()                    {}
func (m *mapped) release()                 {}
