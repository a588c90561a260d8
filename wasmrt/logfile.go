package wasmrt

import (
	"os"
	"path/filepath"
)

// logFile is a task's log, made (with its directory) only when something is
// first written to it: a map task's thousands of silent parts then leave
// no thousands of empty files, nor the system calls that make them.
type logFile struct {
	path string
	f    *os.File
	err  error
}

func (l *logFile) Write(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = openLog(l.path)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

// Close closes the file, if it was made.
func (l *logFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// openLog opens path for appending, making it and its directory if needed,
// readable by its owner only.
func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}
