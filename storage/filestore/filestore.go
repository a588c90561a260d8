// Package filestore keeps datasets as files on the local file system: the
// "file" scheme of package storage, which glacier run's workers and the
// tests use.
//
// Importing the package registers "file" on storage.DefaultURLMux; the
// sandbox's worker imports it, so the scheme is always served:
//
//	ds := storage.URLs{"orders": filestore.URL("data/orders.csv")}
//
// # URLs
//
//	file:///absolute/path
//	file:///absolute/path?sync=false
//
// The host is empty (or "localhost") and the path absolute; URL makes one
// from a path. The only parameter is sync (see URLNoSync).
//
// # Guarantees
//
// Stage writes a temporary file beside the destination, in its directory
// (created if needed), named ".<name>.<random>" + StagedSuffix. Commit
// renames it over the destination, so readers see the old bytes or the new
// ones, never a part; it syncs the file first and the directory after, so
// what Commit made survives a crash of the machine (unless sync=false).
// Discard removes it. A process killed
// mid-task leaves its temporary files behind; SweepStaged removes them.
//
// There are no buckets: a missing directory is made on Stage, with the
// permissions of the nearest one above it that exists, and on Open it
// means the dataset has no version. Files are made readable by their
// owner alone.
//
// # Conditional writes
//
// The driver is a storage.Conditional. A file's generation joins its
// inode, size and modification time with a random stamp each commit
// stores in the extended attribute user.glacier.stamp (on Linux, where
// the file system keeps user attributes): a file replaced or edited by
// anyone gets a new generation, and two commits of the driver never share
// one even if the kernel reuses an inode within one tick of its clock.
// Elsewhere the generation is the size and modification time.
//
// A create-only commit (generation "") places the file with link(2),
// which fails if the name exists: atomic, with no lock. A
// compare-and-swap holds flock(2) on the directory's LockName file from
// reading the generation to the rename, as Delete does, so it is atomic
// across processes on one machine (and on network file systems whose
// flock is shared, which NFS's is not always). An unconditional Stage
// commit takes no lock: mixing it with conditional writes of the same
// file lets the last rename win.
package filestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/storage"
)

// Scheme is the URL scheme the driver serves.
const Scheme = "file"

// StagedSuffix ends the name of every temporary file the driver stages an
// output in, beside its destination: ".<name>.<random>.glacier-tmp".
const StagedSuffix = ".glacier-tmp"

// LockName is the file, in a directory, that conditional writes, copies
// and deletes of the files in it lock (flock(2)) while they compare and
// replace. It is created on first use and never removed, as a lock file
// removed while in use would let two writers lock different files.
const LockName = ".glacier-lock"

// URL returns the file:// URL of path, made absolute.
func URL(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return (&url.URL{Scheme: Scheme, Path: filepath.ToSlash(path)}).String()
}

// URLNoSync returns the file:// URL of path, made absolute, with
// "?sync=false": committing an output staged there renames it into place
// without syncing the file or its directory, so a crash of the machine may
// leave the file short or missing. It is for a caller that makes the file
// durable itself before anything depends on it, as the local store does
// with the outputs it moves from its staging area into its objects and
// with the records it syncs in batches; the commit then costs no flush.
func URLNoSync(path string) string {
	return URL(path) + "?sync=false"
}

// driver serves file URLs.
type driver struct{}

// filePath returns the path a file URL names and whether commits there
// must be synced.
func filePath(u *url.URL) (path string, sync bool, err error) {
	if (u.Host != "" && u.Host != "localhost") || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "", false, errors.New("bad file URL: want file:///absolute/path")
	}
	sync = true
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		v := q["sync"]
		if err == nil && (len(q) != 1 || len(v) != 1) {
			err = errors.New("unexpected parameters")
		}
		if err == nil {
			sync, err = strconv.ParseBool(v[0])
		}
		if err != nil {
			return "", false, fmt.Errorf("bad file URL: %v; the only parameter a file URL takes is sync=true or sync=false", err)
		}
	}
	return filepath.FromSlash(u.Path), sync, nil
}

// Open implements storage.Driver.Open.
func (driver) Open(_ context.Context, u *url.URL) (io.ReadCloser, error) {
	path, _, err := filePath(u)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a dataset", path)
	}
	return f, nil
}

// mkdirAll makes dir and its missing parents with the permissions of the
// nearest directory above that exists, less write for group and others, so a tree
// its owner keeps private (a store of mode 0700) stays private, and a
// directory under /tmp is not open to all.
func mkdirAll(dir string) error {
	perm := os.FileMode(0o755)
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				perm = fi.Mode().Perm() & 0o755
			}
			break
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	return os.MkdirAll(dir, perm)
}

// Stage implements storage.Driver.Stage.
func (driver) Stage(_ context.Context, u *url.URL) (storage.Staged, error) {
	return stage(u, false, "")
}

// stage starts an output at u, committed unconditionally or, if cond, only
// while the file's generation is gen ("" for "only if it does not exist").
func stage(u *url.URL, cond bool, gen string) (*staged, error) {
	path, sync, err := filePath(u)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	pattern := "." + filepath.Base(path) + ".*" + StagedSuffix
	f, err := os.CreateTemp(dir, pattern)
	if errors.Is(err, fs.ErrNotExist) { // the first output under dir
		if err = mkdirAll(dir); err == nil {
			f, err = os.CreateTemp(dir, pattern)
		}
	}
	if err != nil {
		return nil, err
	}
	return &staged{f: f, w: bufio.NewWriterSize(f, 64<<10), dst: path, sync: sync, cond: cond, gen: gen}, nil
}

// staged is an output being written to its temporary file.
type staged struct {
	f    *os.File
	w    *bufio.Writer // small writes are batched; large ones go straight through
	dst  string
	sync bool
	cond bool   // commit only if the destination's generation is gen
	gen  string // "": only if the destination does not exist
}

func (s *staged) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s *staged) Commit(context.Context) error {
	err := s.w.Flush()
	if err == nil && s.sync {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// A new stamp for every write, so a generation never comes back.
		setStamp(s.f.Name())
		err = s.place()
	}
	if err != nil {
		_ = os.Remove(s.f.Name())
		return err
	}
	if !s.sync {
		return nil
	}
	// Make the rename itself durable.
	if d, err := os.Open(filepath.Dir(s.dst)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// place puts the closed temporary file at the destination, under the
// output's condition. A link(2) refuses an existing destination
// atomically; a compare-and-swap holds the directory's lock from the
// comparison to the rename.
func (s *staged) place() error {
	tmp := s.f.Name()
	switch {
	case !s.cond:
		return os.Rename(tmp, s.dst)
	case s.gen == "":
		err := os.Link(tmp, s.dst)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s exists", storage.ErrPrecondition, s.dst)
		}
		if err != nil {
			return fmt.Errorf("create %s only if absent needs hard links: %w", s.dst, err)
		}
		return os.Remove(tmp)
	}
	unlock, err := lockDir(filepath.Dir(s.dst))
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := stat(s.dst)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %s no longer exists", storage.ErrPrecondition, s.dst)
	case err != nil:
		return err
	case cur.Generation != s.gen:
		return fmt.Errorf("%w: %s is at generation %s, not %s", storage.ErrPrecondition, s.dst, cur.Generation, s.gen)
	}
	return os.Rename(tmp, s.dst)
}

func (s *staged) Discard(context.Context) error {
	s.f.Close()
	return os.Remove(s.f.Name())
}

// StageIf implements storage.Conditional.StageIf.
func (driver) StageIf(_ context.Context, u *url.URL, generation string) (storage.Staged, error) {
	return stage(u, true, generation)
}

// Stat implements storage.Conditional.Stat.
func (driver) Stat(_ context.Context, u *url.URL) (storage.Attrs, error) {
	path, _, err := filePath(u)
	if err != nil {
		return storage.Attrs{}, err
	}
	return stat(path)
}

// Copy implements storage.Conditional.Copy: the bytes are copied into a
// temporary file beside dst (the kernel copies them where it can) and
// placed as a staged output is.
func (driver) Copy(_ context.Context, dst, src *url.URL, ifAbsent bool) error {
	from, _, err := filePath(src)
	if err != nil {
		return err
	}
	in, err := os.Open(from)
	if errors.Is(err, fs.ErrNotExist) {
		return storage.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer in.Close()
	if st, err := in.Stat(); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory, not a dataset", from)
	}
	s, err := stage(dst, ifAbsent, "")
	if err != nil {
		return err
	}
	if _, err := s.f.ReadFrom(in); err != nil {
		_ = s.Discard(context.Background())
		return err
	}
	return s.Commit(context.Background())
}

// Delete implements storage.Conditional.Delete. It holds the directory's
// lock, so a compare-and-swap in progress never recreates what it removed.
func (driver) Delete(_ context.Context, u *url.URL) error {
	path, sync, err := filePath(u)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory, not a dataset", path)
	}
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && sync {
		if d, err := os.Open(dir); err == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	return err
}

// SweepStaged removes, under root, the temporary files the driver stages
// outputs in (see StagedSuffix) that were last modified more than olderThan
// ago, and returns how many it removed. Files of a task still running are
// young; with olderThan zero, call it only when no task writes under root
// (for instance when an executor starts).
func SweepStaged(root string, olderThan time.Duration) (int, error) {
	removed := 0
	cutoff := time.Now().Add(-olderThan)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !isStaged(d.Name()) {
			return nil
		}
		if info, err := d.Info(); err != nil || info.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep staged files under %s: %w", root, err)
	}
	return removed, nil
}

// List implements storage.Lister: the regular files below the directory u
// names, but not the temporary files outputs are staged in.
func (driver) List(_ context.Context, u *url.URL) ([]storage.Object, error) {
	root, _, err := filePath(u)
	if err != nil {
		return nil, err
	}
	var out []storage.Object
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && p == root && errors.Is(err, fs.ErrNotExist):
			return fs.SkipAll
		case err != nil:
			return err
		case d.IsDir(), !d.Type().IsRegular(), isStaged(d.Name()), d.Name() == LockName:
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out = append(out, storage.Object{Name: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b storage.Object) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// isStaged reports whether a file's name is that of an output being
// staged.
func isStaged(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, StagedSuffix)
}
