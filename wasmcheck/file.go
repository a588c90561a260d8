package wasmcheck

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/glacier-pipeline/glacier/internal/regfile"
)

// ErrNotRegular matches errors for a module path that is not a regular file
// (a directory, device, FIFO or socket), and ErrTooBig those for a module
// file over its size limit.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooBig     = errors.New("module file too big")
)

// fileError is a refused module file; it matches its kind.
type fileError struct {
	kind error
	msg  string
}

func (e *fileError) Error() string        { return e.msg }
func (e *fileError) Is(target error) bool { return target == e.kind }

// Open opens the module file at path for reading, following symbolic
// links, and returns it with its size. It refuses, before reading anything,
// a path that is not a regular file (so a FIFO cannot block it and
// /dev/zero cannot feed it forever) and a file over maxSize bytes (zero
// means DefaultSize).
//
// Read the file through io.LimitReader(f, size): it may still grow.
func Open(path string, maxSize int64) (*os.File, int64, error) {
	if maxSize <= 0 {
		maxSize = DefaultSize
	}
	f, fi, err := regfile.Open(path)
	var notReg *regfile.Error
	switch {
	case errors.As(err, &notReg):
		return nil, 0, &fileError{ErrNotRegular, "module " + notReg.Error() + "; a module must be a .wasm file"}
	case err != nil:
		return nil, 0, fmt.Errorf("read module: %w", err)
	}
	if fi.Size() > maxSize {
		f.Close()
		return nil, 0, &fileError{ErrTooBig, fmt.Sprintf("module %s is %d bytes; a task module may be at most %d bytes", path, fi.Size(), maxSize)}
	}
	return f, fi.Size(), nil
}

// ReadFile reads the module file at path, refusing what Open refuses.
func ReadFile(path string, maxSize int64) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultSize
	}
	f, size, err := Open(path, maxSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, size)
	// One byte past the limit tells a file that grew from one that did not.
	b, err = readAll(io.LimitReader(f, maxSize+1), b)
	if err != nil {
		return nil, fmt.Errorf("read module %s: %w", path, err)
	}
	if int64(len(b)) > maxSize {
		return nil, &fileError{ErrTooBig, fmt.Sprintf("module %s grew past %d bytes while it was read; a task module may be at most %d bytes", path, maxSize, maxSize)}
	}
	return b, nil
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
