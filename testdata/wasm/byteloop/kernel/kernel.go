// Package kernel is the byte loop the byteloop fixture runs in the sandbox;
// the host's benchmarks run the same function natively to compare.
package kernel

// Fill fills buf with a fixed pattern.
func Fill(buf []byte) {
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
}

// Loop hashes buf byte by byte (FNV-1a), rounds times over.
func Loop(buf []byte, rounds int) uint32 {
	h := uint32(2166136261)
	for r := 0; r < rounds; r++ {
		for _, b := range buf {
			h ^= uint32(b)
			h *= 16777619
		}
	}
	return h
}
