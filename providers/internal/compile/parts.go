package compile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
	"github.com/glacier-pipeline/glacier/store"
)

// sourcePart is one file of a partitioned source and the part it is.
type sourcePart struct {
	path string
	part fnspec.Part
}

// readSourceParts reads the files of d, a partitioned source of the
// project in dir, and returns them with the bytes of their part list, the
// source's version.
func readSourceParts(dir string, d plan.Dataset) ([]sourcePart, []byte, error) {
	files, err := glacier.SourceParts(dir, d.Dataset)
	if err != nil {
		return nil, nil, err
	}
	parts := make([]sourcePart, len(files))
	list := make([]fnspec.Part, len(files))
	for i, f := range files {
		v, err := digest(f.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("part %q: %w", f.Key, err)
		}
		list[i] = fnspec.Part{Key: f.Key, Version: *v}
		parts[i] = sourcePart{path: f.Path, part: list[i]}
	}
	fnspec.SortParts(list)
	var buf bytes.Buffer
	if err := fnspec.WritePartList(&buf, list); err != nil {
		return nil, nil, err
	}
	return parts, buf.Bytes(), nil
}

// partFiles returns what the project keeps of ds, a partitioned source
// read by readSourceParts: each part's file at its key under
// ds.SourceFile(), the list its stable name holds (ds.PartListFile(),
// naming each part's version in the store, which the program uploads them
// as), and the part list that is its version (ds.VersionFile()).
func (ds *Dataset) partFiles() ([]pulumiproject.File, []pulumiproject.Copy, error) {
	entries := make([]fnspec.PartEntry, len(ds.sourceParts))
	copies := make([]pulumiproject.Copy, len(ds.sourceParts))
	for i, p := range ds.sourceParts {
		entries[i] = fnspec.PartEntry{Key: p.part.Key, Object: store.ObjectName(p.part.Digest), Size: p.part.Size, SHA256: p.part.Digest}
		copies[i] = pulumiproject.Copy{Src: p.path, Name: path.Join(ds.SourceFile(), p.part.Key)}
	}
	stable, err := fnspec.EncodeParts(entries)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	return []pulumiproject.File{{Name: ds.PartListFile(), Data: stable}, {Name: ds.VersionFile(), Data: ds.sourceList}}, copies, nil
}

// digest returns the version of the file at p.
func digest(p string) (*fnspec.Version, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return digestOf(f)
}

// digestOf returns the version of the bytes r yields.
func digestOf(r io.Reader) (*fnspec.Version, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return nil, err
	}
	return &fnspec.Version{Digest: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
