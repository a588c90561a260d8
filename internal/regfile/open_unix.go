//go:build unix

package regfile

import (
	"os"
	"syscall"
)

// openNonblocking opens path without blocking on a FIFO that has no
// writer; for a regular file the flag changes nothing.
func openNonblocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
