//go:build unix

package wasmrt_test

import (
	"syscall"
	"time"
)

// usage returns the page faults this process has taken and the CPU time
// (user and system) it has used so far.
func usage() (faults int64, cpu time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return ru.Minflt, time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
