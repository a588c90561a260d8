//go:build !wasip1

package host

// Wasm returns nil: outside GOOS=wasip1 there is no Glacier runtime to
// import host functions from.
func Wasm() Host { return nil }
