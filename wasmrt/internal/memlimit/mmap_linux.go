package memlimit

import "syscall"

const mapNoReserve = syscall.MAP_NORESERVE

// dropPages hands the pages of b back to the kernel; a private anonymous
// mapping reads as zero there afterwards.
func dropPages(b []byte) bool {
	return syscall.Madvise(b, syscall.MADV_DONTNEED) == nil
}
