package wasmcheck

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheck checks that Check never panics, does work linear in its input
// (at most two steps of its loops per byte) and allocates the same small
// amount whatever the input declares.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x07\x06\xff\xff\xff\xff\x0f\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x02\x40\x02\x40\x0b\x0b\x0b"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x00\x0a\x04name\x01\x03\x01\x00\x00"))
	if wat, err := os.ReadFile(filepath.Join("..", "testdata", "wasm", "wat", "copy.wasm")); err == nil {
		f.Add(wat)
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		c := &checker{r: reader{b: wasm, end: len(wasm)}, l: Limits{}.WithDefaults()}
		_ = c.module()
		if c.steps > 2*len(wasm)+16 {
			t.Fatalf("%d steps for %d bytes", c.steps, len(wasm))
		}
		allocs := testing.AllocsPerRun(1, func() { _, _ = Check(wasm, Limits{}) })
		if allocs > 12 {
			t.Fatalf("%v allocations for %d bytes", allocs, len(wasm))
		}
	})
}
