//go:build unix && !linux

package memlimit

// mapNoReserve is Linux's MAP_NORESERVE; elsewhere anonymous mappings are
// not charged until touched anyway, or the flag does not exist.
const mapNoReserve = 0
