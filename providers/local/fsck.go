package local

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/glacier-pipeline/glacier/storage/filestore"
)

// FsckReport is what Fsck found.
type FsckReport struct {
	// Objects and Bytes count the objects checked; Records the memo
	// entries and refs.
	Objects int
	Bytes   int64
	Records int
	// Problems are the faults found, in path order.
	Problems []FsckProblem
}

// FsckProblem is one fault in the store.
type FsckProblem struct {
	// Path is the faulty file, relative to the store.
	Path string
	// What says what is wrong with it.
	What string
	// Repaired says the repair removed it; the next glacier run makes
	// what is missing again.
	Repaired bool
}

// Unrepaired returns the problems left.
func (r FsckReport) Unrepaired() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Repaired {
			n++
		}
	}
	return n
}

// Fsck checks the whole store: every object against its name (its bytes
// must hash to it), and every memo entry and ref (each must parse, and name
// objects that exist with the sizes it records). With repair, it removes
// what is corrupt: objects whose bytes differ from their names, records
// that do not parse or name missing objects, and leftover temporary files.
// The store then only lacks things: the next glacier run recomputes
// missing outputs and re-imports missing sources, as after a deletion.
// Repair first moves what a store of an earlier layout keeps to where the
// store keeps it now, as glacier run does.
//
// Call it with the store's lock held.
func (s *Store) Fsck(repair bool) (FsckReport, error) {
	var rep FsckReport
	if repair {
		if err := s.migrate(); err != nil {
			return rep, fmt.Errorf("fsck %s: move it to the current layout: %w", s.root, err)
		}
	}
	problem := func(rel, format string, args ...any) {
		p := FsckProblem{Path: rel, What: fmt.Sprintf(format, args...)}
		if repair {
			if err := os.RemoveAll(filepath.Join(s.root, rel)); err == nil {
				p.Repaired = true
			}
		}
		rep.Problems = append(rep.Problems, p)
	}

	objects := filepath.Join(s.root, "objects")
	err := filepath.WalkDir(objects, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, path)
		if d.IsDir() {
			if path != objects && (len(d.Name()) != 2 || filepath.Dir(path) != objects) {
				problem(rel, "is not an object directory")
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if _, err := hex.DecodeString(name); err != nil || len(name) != 64 || filepath.Base(filepath.Dir(path)) != name[:2] {
			problem(rel, "is not an object: its name is not a SHA-256 under its first two digits")
			return nil
		}
		if !d.Type().IsRegular() {
			problem(rel, "is not a regular file")
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rep.Objects++
		rep.Bytes += fi.Size()
		v := Version{Digest: name, Size: fi.Size()}
		var ce *CorruptError
		switch err := s.verify(v); {
		case errors.As(err, &ce):
			problem(rel, "is corrupt: its %d bytes hash to %s, not to its name", ce.Got.Size, ce.Got.Digest)
		case err != nil:
			problem(rel, "cannot be read: %v", err)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.root, err)
	}

	// Records: memo entries, kept per task, then refs and sources.
	var dirs []string
	memo, err := os.ReadDir(filepath.Join(s.root, "memo"))
	if err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.root, err)
	}
	for _, e := range memo {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("memo", e.Name()))
			continue
		}
		problem(filepath.Join("memo", e.Name()), "is a memo entry of an earlier layout, not kept under its task; glacier run, or glacier fsck --repair, moves it there")
	}
	pipelines, err := os.ReadDir(filepath.Join(s.root, "pipelines"))
	if err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.root, err)
	}
	for _, p := range pipelines {
		dirs = append(dirs, filepath.Join("pipelines", p.Name(), "tasks"), filepath.Join("pipelines", p.Name(), "sources"))
	}
	if _, err := os.Stat(filepath.Join(s.root, "refs")); err == nil {
		problem("refs", "holds refs of an earlier layout, not kept per pipeline; nothing reads them now")
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(filepath.Join(s.root, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("fsck %s: %w", s.root, err)
		}
		for _, e := range entries {
			rel := filepath.Join(dir, e.Name())
			switch {
			case e.Name() == filestore.LockName:
				continue
			case strings.HasSuffix(e.Name(), filestore.StagedSuffix):
				problem(rel, "is a temporary file a killed run left")
				continue
			case !strings.HasSuffix(e.Name(), ".json"):
				problem(rel, "is not a record")
				continue
			}
			rep.Records++
			versions, err := s.recordVersions(rel)
			if err != nil {
				problem(rel, "%v", err)
				continue
			}
			for _, v := range versions {
				if !s.HasObject(v) {
					problem(rel, "names version %s (%d bytes), which is not in the store", short(v.Digest), v.Size)
					break
				}
			}
		}
	}

	for _, sub := range []string{"tmp"} {
		entries, _ := os.ReadDir(filepath.Join(s.root, sub))
		for _, e := range entries {
			problem(filepath.Join(sub, e.Name()), "is a temporary file a killed run left")
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Path < rep.Problems[j].Path })
	return rep, nil
}

// recordVersions reads a memo entry or ref and returns the versions it
// names.
func (s *Store) recordVersions(rel string) ([]Version, error) {
	data, err := os.ReadFile(filepath.Join(s.root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("is a ref to a memo entry that is not in the store")
	}
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	if filepath.Base(filepath.Dir(rel)) == "sources" {
		var r SourceRef
		if err := json.Unmarshal(data, &r); err != nil || !validVersion(r.Version) {
			return nil, errors.New("is not a source ref")
		}
		if r.Parts != nil {
			return s.withParts(r.Version)
		}
		return []Version{r.Version}, nil
	}
	var e MemoEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Key == "" {
		return nil, errors.New("is not a memo entry or ref")
	}
	if e.Lists == nil {
		// A ref: which of its outputs are lists of parts, its entry says.
		if m, ok := s.Memo(e.Task, e.Key); ok {
			e.Lists = m.Lists
		}
	}
	var vs []Version
	for name, v := range e.Outputs {
		if !validVersion(v) {
			return nil, errors.New("names an output that is not a version")
		}
		if !slices.Contains(e.Lists, name) {
			vs = append(vs, v)
			continue
		}
		parts, err := s.withParts(v)
		if err != nil {
			return nil, fmt.Errorf("output %q: %v", name, err)
		}
		vs = append(vs, parts...)
	}
	return vs, nil
}

// withParts returns v, a list of parts, and the version of every part in
// it. A list that is missing is returned alone, for the caller to report.
func (s *Store) withParts(v Version) ([]Version, error) {
	if !s.HasObject(v) {
		return []Version{v}, nil
	}
	parts, err := s.Parts(v)
	if err != nil {
		return nil, fmt.Errorf("names a list of parts that cannot be read: %v", err)
	}
	vs := []Version{v}
	for _, p := range parts {
		vs = append(vs, p.Version)
	}
	return vs, nil
}

func validVersion(v Version) bool {
	_, err := hex.DecodeString(v.Digest)
	return err == nil && len(v.Digest) == 64 && v.Size >= 0
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
