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
// There are no buckets: a missing directory is made on Stage, and on Open
// it means the dataset has no version.
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
// when it moves outputs from its staging area into its objects; the
// worker's commit then costs no disk flush.
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

// Stage implements storage.Driver.Stage.
func (driver) Stage(_ context.Context, u *url.URL) (storage.Staged, error) {
	path, sync, err := filePath(u)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+StagedSuffix)
	if err != nil {
		return nil, err
	}
	return &staged{f: f, w: bufio.NewWriterSize(f, 64<<10), dst: path, sync: sync}, nil
}

// staged is an output being written to its temporary file.
type staged struct {
	f    *os.File
	w    *bufio.Writer // small writes are batched; large ones go straight through
	dst  string
	sync bool
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
		err = os.Rename(s.f.Name(), s.dst)
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

func (s *staged) Discard(context.Context) error {
	s.f.Close()
	return os.Remove(s.f.Name())
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
		case d.IsDir(), !d.Type().IsRegular(), isStaged(d.Name()):
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
