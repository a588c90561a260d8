package wasmrt

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
	"strconv"
	"strings"
	"time"
)

// StagedSuffix ends the name of every temporary file the file driver stages
// an output in, beside its destination: ".<name>.<random>.glacier-tmp". A
// worker killed mid-task leaves such files behind; SweepStaged removes them.
const StagedSuffix = ".glacier-tmp"

// FileURL returns the file:// URL of path, made absolute.
func FileURL(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// FileURLNoSync returns the file:// URL of path, made absolute, with
// "?sync=false": committing an output staged there renames it into place
// without syncing the file or its directory, so a crash of the machine may
// leave the file short or missing. It is for a caller that makes the file
// durable itself before anything depends on it, as the local store does
// when it moves outputs from its staging area into its objects; the
// worker's commit then costs no disk flush.
func FileURLNoSync(path string) string {
	return FileURL(path) + "?sync=false"
}

// fileDriver serves file:///absolute/path URLs. Stage writes a temporary
// file in the destination's directory (created if needed); Commit syncs it
// and renames it over the destination, so readers see the old bytes or the
// new ones, never a part; Discard removes it. With "?sync=false" (see
// FileURLNoSync) Commit renames without syncing.
type fileDriver struct{}

// filePath returns the path a file URL names and whether commits there
// must be synced.
func filePath(raw string) (path string, sync bool, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, fmt.Errorf("bad file URL %q: %w", raw, err)
	}
	if u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
		return "", false, fmt.Errorf("bad file URL %q: want file:///absolute/path", raw)
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
			return "", false, fmt.Errorf("bad file URL %q: %v; the only parameter a file URL takes is sync=true or sync=false", raw, err)
		}
	}
	return filepath.FromSlash(u.Path), sync, nil
}

func (fileDriver) Open(_ context.Context, u string) (io.ReadCloser, error) {
	path, _, err := filePath(u)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
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

func (fileDriver) Stage(_ context.Context, u string) (Staged, error) {
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
	return &fileStaged{f: f, w: bufio.NewWriterSize(f, 64<<10), dst: path, sync: sync}, nil
}

type fileStaged struct {
	f    *os.File
	w    *bufio.Writer // small writes are batched; large ones go straight through
	dst  string
	sync bool
	done bool
}

func (s *fileStaged) Write(p []byte) (int, error) {
	if s.done {
		return 0, fs.ErrClosed
	}
	return s.w.Write(p)
}

func (s *fileStaged) Commit(context.Context) error {
	if s.done {
		return fs.ErrClosed
	}
	s.done = true
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

func (s *fileStaged) Discard(context.Context) error {
	if s.done {
		return nil
	}
	s.done = true
	s.f.Close()
	return os.Remove(s.f.Name())
}

// SweepStaged removes, under root, the temporary files the file driver
// stages outputs in (see StagedSuffix) that were last modified more than
// olderThan ago, and returns how many it removed. Files of a task still
// running are young; with olderThan zero, call it only when no task writes
// under root (for instance when an executor starts).
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
		name := d.Name()
		if d.IsDir() || !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, StagedSuffix) {
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
