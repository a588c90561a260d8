//go:build unix

package fnrt

import (
	"os"
	"syscall"
)

// openFIFO creates a named pipe at path and opens it for reading and
// writing.
func openFIFO(path string) (*os.File, error) {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return f, nil
}
