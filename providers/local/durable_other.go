//go:build !linux

package local

import (
	"errors"
	"io/fs"
)

// syncDeferred makes durable every file written to the store without a
// sync: where there is no syncfs(2), each one. A file gone since (replaced
// by rename under another path) has nothing left to sync.
func syncDeferred(_ string, paths []string) error {
	for _, p := range paths {
		if err := syncFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// deferredPaths says whether syncDeferred needs the paths it makes
// durable.
const deferredPaths = true
