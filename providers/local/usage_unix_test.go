//go:build unix

package local_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) used so far by this process
// and by its children that have exited, which include the workers of every
// finished run.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) != nil {
		return 0
	}
	total := self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano()
	return time.Duration(total)
}

// maxRSS returns the peak resident memory of this process, in bytes (on
// Linux the kernel counts ru_maxrss in KiB).
func maxRSS() int64 {
	var self syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil {
		return 0
	}
	return self.Maxrss << 10
}
