package glacier

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier/abi"
)

// MaxPartKey is the longest a part key may be, in bytes: S3 and Cloud
// Storage allow 1,024-byte object names, and a stored part's name also
// holds its pipeline, dataset and version.
const MaxPartKey = abi.MaxKeyLen

// PartKeyRule says what a valid part key looks like.
const PartKeyRule = abi.KeyRule

// CheckPartKey reports whether key follows PartKeyRule. The rule is the
// host ABI's (abi.CheckKey), so the model, the host and the guest SDK
// apply one rule.
func CheckPartKey(key string) error { return abi.CheckKey(key) }

// SourcePart is one part of a partitioned source: its key and the file
// holding it.
type SourcePart struct {
	Key  string
	Path string
}

// SourceParts lists the parts of d's source, a partitioned dataset, for a
// project in dir, sorted by key. The source is a folder, whose every
// regular file below it is a part keyed by its path relative to the folder,
// or a glob ("logs/*.log", "logs/**/*.log": '**' matches any number of
// folders), whose matches are keyed by their path relative to the folder
// before the first wildcard. Parts obey SourcePath's rule: regular files
// inside the project once links are followed, unless SourceOutsideProject.
// Names starting with '.' are left out, as are links to folders.
func SourceParts(dir string, d Dataset) ([]SourcePart, error) {
	if d.Source == "" {
		return nil, fmt.Errorf("dataset %q has no source", d.Name)
	}
	base, pattern := splitGlob(d.Source)
	root, err := folder(dir, base, pattern, d)
	if err != nil {
		return nil, err
	}
	var parts []SourcePart
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case p == root:
			return nil
		case strings.HasPrefix(e.Name(), "."):
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case e.IsDir():
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if pattern != "" && !matchGlob(strings.Split(pattern, "/"), strings.Split(key, "/")) {
			return nil
		}
		real := p
		if !e.Type().IsRegular() {
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				return nil // a link to a folder
			}
			// A link, or something that is not a file: SourcePath decides.
			if real, err = SourcePath(dir, Dataset{Name: d.Name, Source: filepath.Join(base, rel), SourceOutsideProject: d.SourceOutsideProject}); err != nil {
				return err
			}
		}
		if err := CheckPartKey(key); err != nil {
			return fmt.Errorf("source %s: file %s cannot be a part: %w", d.Source, rel, err)
		}
		parts = append(parts, SourcePart{Key: key, Path: real})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(parts, func(a, b SourcePart) int { return strings.Compare(a.Key, b.Key) })
	return parts, nil
}

// folder resolves a partitioned source's folder by SourcePath's rule.
func folder(dir, base, pattern string, d Dataset) (string, error) {
	real, err := resolve(dir, base, "folder", d)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	switch {
	case err != nil:
		return "", fmt.Errorf("source %s: %w", d.Source, unwrapPath(err))
	case !fi.IsDir() && pattern == "":
		return "", fmt.Errorf("source %s is a file, but dataset %q is partitioned; point source: at a folder or a glob such as %s/*, or remove partitioned: true",
			d.Source, d.Name, path.Dir(d.Source))
	case !fi.IsDir():
		return "", fmt.Errorf("source %s: %s is a file, not a folder", d.Source, base)
	}
	return real, nil
}

// splitGlob splits a source into the folder before its first wildcard and
// the pattern after it ("" when the source has none).
func splitGlob(source string) (base, pattern string) {
	segs := strings.Split(strings.TrimSuffix(source, "/"), "/")
	for i, s := range segs {
		if strings.ContainsAny(s, "*?[") {
			base = strings.Join(segs[:i], "/")
			if base == "" {
				base = "."
			}
			return base, strings.Join(segs[i:], "/")
		}
	}
	return strings.TrimSuffix(source, "/"), ""
}

// matchGlob matches path segments against pattern segments, where "**"
// matches any number of segments and every other segment is a path.Match
// pattern.
func matchGlob(pattern, segs []string) bool {
	if len(pattern) == 0 {
		return len(segs) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchGlob(pattern[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(pattern[0], segs[0])
	return err == nil && ok && matchGlob(pattern[1:], segs[1:])
}
