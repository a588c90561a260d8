package compile

import (
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
)

// sourceParts returns the part list of d, a partitioned source of the
// project in dir, and the copies of its parts the project keeps: each
// part's file at its key under d.SourceFile(), which the program uploads
// to fnspec.SourcePartObject.
func sourceParts(dir string, d plan.Dataset) (pulumiproject.File, []pulumiproject.Copy, error) {
	parts, err := glacier.SourceParts(dir, d.Dataset)
	if err != nil {
		return pulumiproject.File{}, nil, err
	}
	entries := make([]fnspec.PartEntry, len(parts))
	copies := make([]pulumiproject.Copy, len(parts))
	for i, p := range parts {
		size, sum, err := digest(p.Path)
		if err != nil {
			return pulumiproject.File{}, nil, fmt.Errorf("dataset %q: part %q: %w", d.Name, p.Key, err)
		}
		entries[i] = fnspec.PartEntry{Key: p.Key, Object: fnspec.SourcePartObject(d.Name, p.Key), Size: size, SHA256: sum}
		copies[i] = pulumiproject.Copy{Src: p.Path, Name: path.Join(d.SourceFile(), p.Key)}
	}
	list, err := fnspec.EncodeParts(entries)
	if err != nil {
		return pulumiproject.File{}, nil, fmt.Errorf("dataset %q: %w", d.Name, err)
	}
	return pulumiproject.File{Name: d.PartListFile(), Data: list}, copies, nil
}

// digest returns the size and hex SHA-256 of the file at p.
func digest(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
