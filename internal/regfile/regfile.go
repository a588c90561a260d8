// Package regfile opens files that must be regular files, such as task
// modules and dataset sources. The open never blocks (a FIFO without a
// writer would hang it forever) and the kind of file is checked on the
// open descriptor before anything is read, so a device such as /dev/zero,
// a FIFO or a directory is refused however the path leads to it.
package regfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Error reports a path that is not a regular file.
type Error struct {
	// Path is the path as given; Target what it links to, if it is a
	// symbolic link.
	Path, Target string
	// Mode is the file's type.
	Mode fs.FileMode
}

// Error says what the path is: "in.csv (a link to /dev/zero) is a
// character device, not a regular file".
func (e *Error) Error() string {
	name := e.Path
	if e.Target != "" {
		name = fmt.Sprintf("%s (a link to %s)", e.Path, e.Target)
	}
	return fmt.Sprintf("%s is %s, not a regular file", name, Kind(e.Mode))
}

// Open opens path for reading, following symbolic links, and returns it
// with its information. Anything but a regular file is refused with an
// *Error before a byte is read.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := openNonblocking(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, fi.Mode())
	}
	return f, fi, nil
}

// Check reports, without opening it, whether path (links followed) is a
// regular file: nil, an *Error, or the error of stat.
func Check(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	return fi, nil
}

func notRegular(path string, mode fs.FileMode) error {
	e := &Error{Path: path, Mode: mode.Type()}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(path); err == nil {
			e.Target = target
		}
	}
	return e
}

// Kind names a file type: "a directory", "a named pipe (FIFO)", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}
