//go:build unix && !linux

package memlimit

// mapNoReserve is Linux's MAP_NORESERVE; elsewhere anonymous mappings are
// not charged until touched anyway, or the flag does not exist.
const mapNoReserve = 0

// dropPages reports false: not every system promises that dropped pages
// read as zero, so large memories are unmapped rather than reused.
func dropPages([]byte) bool { return false }
