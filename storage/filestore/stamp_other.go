//go:build !linux

package filestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/glacier-pipeline/glacier/storage"
)

// setStamp does nothing: the stamp is kept in a Linux extended attribute.
func setStamp(string) {}

// stat returns the size and generation of the file at path: its size and
// modification time, all this system offers portably.
func stat(path string) (storage.Attrs, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return storage.Attrs{}, storage.ErrNotFound
	}
	if err != nil {
		return storage.Attrs{}, err
	}
	if st.IsDir() {
		return storage.Attrs{}, fmt.Errorf("%s is a directory, not a dataset", path)
	}
	return storage.Attrs{Size: st.Size(), Generation: fmt.Sprintf("%x-%x", st.Size(), st.ModTime().UnixNano())}, nil
}
