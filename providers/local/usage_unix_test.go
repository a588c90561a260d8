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
