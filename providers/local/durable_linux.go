package local

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS makes durable everything written to the file system that holds
// root, with one syncfs(2). It reports false where there is no such call.
func syncFS(root string) (bool, error) {
	d, err := os.Open(root)
	if err != nil {
		return true, err
	}
	defer d.Close()
	return true, unix.Syncfs(int(d.Fd()))
}
