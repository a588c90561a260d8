package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/regfile"
	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/schema"
)

// Part is one part of a partitioned dataset's version: its key and the
// version of its bytes.
type Part = fnspec.Part

// writeParts stores parts as a partitioned version and returns it.
func (s *Store) writeParts(parts []Part) (Version, error) {
	parts = slices.Clone(parts)
	fnspec.SortParts(parts)
	// The list is encoded twice, streaming, rather than held whole: once
	// to hash it, and only if the store lacks it, once more to store it.
	h := newHasher()
	if err := fnspec.WritePartList(h, parts); err != nil {
		return Version{}, err
	}
	if v := h.version(); s.HasObject(v) {
		return v, nil // an unchanged list: most reruns
	}
	r, w := io.Pipe()
	go func() { w.CloseWithError(fnspec.WritePartList(w, parts)) }()
	v, err := s.copyIn(context.Background(), r, nil)
	r.Close()
	if err != nil {
		return Version{}, fmt.Errorf("write partitioned version: %w", err)
	}
	return v, nil
}

// Parts returns the parts of a partitioned version, sorted by key, after
// checking the list against its digest.
func (s *Store) Parts(v Version) ([]Part, error) {
	data, err := os.ReadFile(s.ObjectPath(v.Digest))
	if err != nil {
		return nil, err
	}
	h := newHasher()
	h.Write(data)
	if got := h.version(); got != v {
		return nil, &CorruptError{Path: s.ObjectPath(v.Digest), Want: v, Got: got}
	}
	parts, err := fnspec.ReadPartList(data)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", s.ObjectPath(v.Digest), err)
	}
	return parts, nil
}

// SourcePartRef records one file of a partitioned source as ImportParts
// last read it.
type SourcePartRef struct {
	Key     string    `json:"key"`
	Path    string    `json:"path"`
	Version Version   `json:"version"`
	ModTime time.Time `json:"mod_time"`
	Inode   uint64    `json:"inode,omitempty"`
	Ctime   int64     `json:"ctime_ns,omitempty"`
}

// ImportParts makes the files of a partitioned source (what
// glacier.SourceParts listed) the current version of dataset: each new or
// changed file is copied into the objects, and an unchanged one (same path,
// size, modification time, inode and change time as last recorded) is not
// read again, unless force. A deleted file is simply not in the new version.
func (s *Store) ImportParts(ctx context.Context, pipeline, dataset string, files []glacier.SourcePart, runID string, force bool, check Checked) (Version, error) {
	var prev SourceRef
	// A record made against another contract (or none) is not reused: every
	// file is read, and checked, again.
	if force || s.readJSON(sourceRefPath(pipeline, dataset), &prev) != nil || prev.Schema != check.Digest {
		prev.Parts = nil
	}
	// Both lists are sorted by key, so each file's last record is found by
	// walking them together, with no index of 100,000 entries beside them.
	// (A record written before it was sorted is only searched in vain.)
	if !slices.IsSortedFunc(prev.Parts, func(a, b SourcePartRef) int { return strings.Compare(a.Key, b.Key) }) {
		prev.Parts = nil
	}
	refs := make([]SourcePartRef, 0, len(files))
	parts := make([]Part, 0, len(files))
	next := 0 // the first record of prev.Parts not yet passed
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return Version{}, err
		}
		fi, err := os.Stat(file.Path)
		if err != nil {
			return Version{}, fmt.Errorf("dataset %q: source part %s: %w", dataset, file.Key, unwrapPathError(err))
		}
		ino, ctime := fileIdentity(fi)
		for next < len(prev.Parts) && prev.Parts[next].Key < file.Key {
			next++
		}
		var p SourcePartRef
		ok := next < len(prev.Parts) && prev.Parts[next].Key == file.Key
		if ok {
			p = prev.Parts[next]
		}
		if !ok || p.Path != file.Path || p.Version.Size != fi.Size() || !p.ModTime.Equal(fi.ModTime()) ||
			p.Inode != ino || p.Ctime != ctime || !s.HasObject(p.Version) {
			v, fi2, err := s.importFile(ctx, file.Path, check.validator(dataset, file.Key))
			var vi *schema.Violation
			if errors.As(err, &vi) {
				return Version{}, fmt.Errorf("source %s breaks its contract: %w", file.Path, vi)
			}
			if err != nil {
				return Version{}, fmt.Errorf("dataset %q: source part %s: %w", dataset, file.Key, err)
			}
			ino, ctime = fileIdentity(fi2)
			p = SourcePartRef{Key: file.Key, Path: file.Path, Version: v, ModTime: fi2.ModTime(), Inode: ino, Ctime: ctime}
		}
		refs = append(refs, p)
		parts = append(parts, Part{Key: p.Key, Version: p.Version})
	}
	v, err := s.writeParts(parts)
	if err != nil {
		return Version{}, err
	}
	// Compact: a record of one entry per file is read and written whole on
	// every run, and indenting it would double it. It is encoded entry by
	// entry as it is written, never whole in memory: it is the largest thing
	// planning a map makes.
	head, err := json.Marshal(SourceRef{Dataset: dataset, Version: v, RunID: runID, Schema: check.Digest})
	if err != nil {
		return Version{}, err
	}
	return v, s.writeFileFunc(sourceRefPath(pipeline, dataset), func(w io.Writer) error {
		// head is {...}: reopen it to add the parts.
		if _, err := fmt.Fprintf(w, `%s,"parts":[`, head[:len(head)-1]); err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		for i, r := range refs {
			if i > 0 {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			if err := enc.Encode(r); err != nil { // one entry and a newline
				return err
			}
		}
		_, err := io.WriteString(w, "]}")
		return err
	})
}

// importFile copies the regular file at path into the objects and returns
// its version and what it was when read.
func (s *Store) importFile(ctx context.Context, path string, check *schema.Validator) (Version, os.FileInfo, error) {
	f, fi, err := regfile.Open(path)
	if err != nil {
		return Version{}, nil, unwrapPathError(err)
	}
	defer f.Close()
	v, err := s.copyIn(ctx, f, check)
	return v, fi, err
}

// PartsOf returns the parts of the current version of a partitioned
// dataset, sorted by key.
func (s *Store) PartsOf(p *glacier.Pipeline, dataset string) ([]Part, error) {
	v, err := s.Current(p, dataset)
	if err != nil {
		return nil, err
	}
	if d, _ := p.Dataset(dataset); !d.Partitioned {
		return nil, fmt.Errorf("dataset %q is not partitioned: it has no parts", dataset)
	}
	parts, err := s.Parts(v)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", dataset, err)
	}
	return parts, nil
}

// OpenPart returns a reader of one part of the current version of a
// partitioned dataset, checked as Open checks a whole one.
func (s *Store) OpenPart(p *glacier.Pipeline, dataset, key string) (io.ReadCloser, Version, error) {
	parts, err := s.PartsOf(p, dataset)
	if err != nil {
		return nil, Version{}, err
	}
	i, ok := slices.BinarySearchFunc(parts, key, func(p Part, k string) int { return strings.Compare(p.Key, k) })
	if !ok {
		keys := make([]string, len(parts))
		for i, p := range parts {
			keys[i] = p.Key
		}
		return nil, Version{}, fmt.Errorf("dataset %q has no part %q%s; glacier cat %s lists its parts", dataset, key, suggest.DidYouMean(key, keys), dataset)
	}
	return s.openVersion(fmt.Sprintf("%s part %q", dataset, key), parts[i].Version)
}

// PartEntries returns the memo entries of the parts of map task t of p
// behind e, the memo entry of t's whole invocation: for each part of the
// mapped input's version e names, the entry under the key the run gave
// the part, where the memo has one (a part that failed has none). They
// are what glacier run --push uploads beside e, so that a deployment finds
// each part as glacier run would.
func (s *Store) PartEntries(p *glacier.Pipeline, t glacier.Task, e MemoEntry) ([]MemoEntry, error) {
	if t.Map == "" {
		return nil, fmt.Errorf("task %q maps over nothing: it has no parts", t.Name)
	}
	parts, err := s.Parts(e.Inputs[t.Map])
	if err != nil {
		return nil, fmt.Errorf("input %q of task %q: %w", t.Map, t.Name, err)
	}
	schemas, err := schemasOf(p)
	if err != nil {
		return nil, err
	}
	var out []MemoEntry
	inputs := maps.Clone(e.Inputs)
	for _, part := range parts {
		inputs[t.Map] = part.Version
		if pe, ok := s.Memo(t.Name, memoKey(t, e.Module, inputs, part.Key, schemas)); ok {
			out = append(out, pe)
		}
	}
	return out, nil
}
