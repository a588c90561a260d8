//go:build !linux

package wasmrt

// capMemory does nothing here: only the compile budget's time applies.
func capMemory(uint64) (restore func()) { return func() {} }
