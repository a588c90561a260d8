package filestore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/glacier-pipeline/glacier/storage"
)

// stampAttr is the extended attribute holding the random stamp every
// commit gives its file.
const stampAttr = "user.glacier.stamp"

// setStamp gives the file at path a fresh random stamp. A file system
// without user extended attributes keeps none; the generation is then
// the file's identity and times alone.
func setStamp(path string) {
	_ = syscall.Setxattr(path, stampAttr, []byte(rand.Text()), 0)
}

// stat returns the size and generation of the file at path. The
// generation joins the file's inode, size, modification and change times
// (so a file replaced or edited in place by anyone gets a new one) with
// the stamp the driver's commit gave it (so two of the driver's commits
// never share one, even when the kernel reuses an inode within one tick
// of its clock). Both are read through one open file, so they belong to
// the same version.
func stat(path string) (storage.Attrs, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return storage.Attrs{}, storage.ErrNotFound
	}
	if err != nil {
		return storage.Attrs{}, err
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return storage.Attrs{}, err
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return storage.Attrs{}, fmt.Errorf("%s is a directory, not a dataset", path)
	}
	buf := make([]byte, 64)
	n, err := syscall.Getxattr(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), stampAttr, buf)
	if err != nil {
		n = 0
	}
	gen := fmt.Sprintf("%x-%x-%x.%x-%s", st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, buf[:n])
	return storage.Attrs{Size: st.Size, Generation: gen}, nil
}
