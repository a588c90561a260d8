package fnrt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/glacier-pipeline/glacier/wasmrt"
)

// ServeIfRequested turns this process into a wasmrt.Pool worker if its
// parent started it as one (see wasmrt.ServeWorkerIfRequested), and then
// exits; otherwise it returns at once. A Handler's sandbox runs such
// workers. A program that builds a Handler calls it first thing in main,
// in a program that imports its storage drivers (the worker serves the
// task's datasets through the schemes they register):
//
//	import _ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
//
//	func main() {
//		fnrt.ServeIfRequested()
//		...
//	}
func ServeIfRequested() {
	wasmrt.ServeWorkerIfRequested()
}

// linkCache makes dst a writable compilation cache whose files are symbolic
// links to those under shipped (which may be missing or read-only). wazero
// reads a hit through the link and writes a miss beside it.
func linkCache(shipped, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(shipped); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(shipped, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(shipped, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		return os.Symlink(abs, target)
	})
}
