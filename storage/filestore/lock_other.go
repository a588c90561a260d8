//go:build !unix

package filestore

import "errors"

// lockDir fails: compare-and-swap on files needs flock(2).
func lockDir(string) (func(), error) {
	return nil, errors.New("conditional writes to files need flock(2), which this system lacks; create-only writes (generation \"\") work")
}
