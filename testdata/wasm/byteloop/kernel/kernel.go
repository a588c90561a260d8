// Package kernel holds the byte loops the byteloop fixture runs in the
// sandbox; the host's benchmarks run the same functions natively to compare.
package kernel

// Fill fills buf with a fixed pattern.
func Fill(buf []byte) {
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
}

// Hash hashes buf byte by byte (FNV-1a), rounds times over. Each step
// depends on the last, so the multiply's latency bounds it, natively and in
// Wasm alike.
func Hash(buf []byte, rounds int) uint32 {
	h := uint32(2166136261)
	for r := 0; r < rounds; r++ {
		for _, b := range buf {
			h ^= uint32(b)
			h *= 16777619
		}
	}
	return h
}

// Scan counts newlines and sums bytes, rounds times over: the independent
// per-byte work of a parser, bound by how fast each byte is loaded and
// tested.
func Scan(buf []byte, rounds int) uint32 {
	var lines, sum uint32
	for r := 0; r < rounds; r++ {
		for i := 0; i < len(buf); i++ {
			b := buf[i]
			if b == '\n' {
				lines++
			}
			sum += uint32(b)
		}
	}
	return lines ^ sum
}

// Run runs the named loop ("hash" or "scan").
func Run(kind string, buf []byte, rounds int) uint32 {
	if kind == "scan" {
		return Scan(buf, rounds)
	}
	return Hash(buf, rounds)
}
