package glacier

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/regfile"
	"github.com/glacier-pipeline/glacier/schema"
)

// SourcePath returns the file d's source names, for a project in dir, after
// checking the rule every command applies to sources (validate, run and
// every compiler alike): the source is a regular file, and it lies inside
// the project directory once symbolic links are followed, so neither
// "../", an absolute path nor a link can make a run read, or a compiler
// upload, a file from elsewhere. SourceOutsideProject lifts the second
// condition. The path returned has its links resolved.
//
// A source that breaks the rule is an error naming it and saying how to
// fix it.
func SourcePath(dir string, d Dataset) (string, error) {
	if d.Source == "" {
		return "", fmt.Errorf("dataset %q has no source", d.Name)
	}
	real, err := resolve(dir, d.Source, "file", d)
	if err != nil {
		return "", err
	}
	if _, err := regfile.Check(real); err != nil {
		var nr *regfile.Error
		if errors.As(err, &nr) && nr.Mode.IsDir() {
			return "", fmt.Errorf("source %s is a directory, not a regular file; point source: at a file, or set partitioned: true to make each file in it a part", d.Source)
		}
		if errors.As(err, &nr) {
			return "", fmt.Errorf("source %s is %s, not a regular file; point source: at a file", d.Source, regfile.Kind(nr.Mode))
		}
		return "", fmt.Errorf("source %s: %w", d.Source, unwrapPath(err))
	}
	return real, nil
}

// resolve returns path, from d's source, with its links resolved, after
// checking that it lies inside the project directory dir unless
// d.SourceOutsideProject; what ("file" or "folder") names it in errors.
func resolve(dir, path, what string, d Dataset) (string, error) {
	src := filepath.FromSlash(path)
	if filepath.IsAbs(src) && !d.SourceOutsideProject {
		return "", fmt.Errorf("source %s is an absolute path, but sources lie inside the project directory %s; move the %s into it and give its relative path, or set source_outside_project: true to read shared data where it is",
			d.Source, dir, what)
	}
	p := src
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, src)
	}
	if !d.SourceOutsideProject && !within(dir, p) {
		return "", outside(d, dir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("source %s does not exist (looked for %s); fix source: or create the %s", d.Source, p, what)
	}
	if err != nil {
		return "", fmt.Errorf("source %s: %w", d.Source, err)
	}
	if !d.SourceOutsideProject {
		root, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", fmt.Errorf("project directory %s: %w", dir, err)
		}
		if !within(root, real) {
			return "", outside(d, dir, real)
		}
	}
	return real, nil
}

// within reports whether path lies in dir.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func outside(d Dataset, dir, to string) error {
	return fmt.Errorf("source %s leads outside the project directory %s (to %s); move it into the project, or set source_outside_project: true to read shared data where it is",
		d.Source, dir, to)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckSource applies the source rule to d in a project in dir: SourcePath
// for a dataset of one file, SourceParts, every part included, for a
// partitioned one.
func CheckSource(dir string, d Dataset) error {
	if d.Partitioned {
		_, err := SourceParts(dir, d)
		return err
	}
	_, err := SourcePath(dir, d)
	return err
}

// CheckSourceContract reads d's source, every file of a partitioned one,
// through its dataset's contract, for a project in dir, as glacier run
// imports them; a compiler checks what it will upload the same way. It
// returns the first violation, naming the file, or nil when d has no
// contract or no source. A source CheckSource refuses, or a contract that
// does not compile, is left to the checks that report them.
func CheckSourceContract(dir string, d Dataset) error {
	if d.Schema == nil || d.Source == "" {
		return nil
	}
	c, err := schema.Compile(d.Schema)
	if err != nil {
		return nil
	}
	var files []SourcePart
	if d.Partitioned {
		if files, err = SourceParts(dir, d); err != nil {
			return nil
		}
	} else {
		path, err := SourcePath(dir, d)
		if err != nil {
			return nil
		}
		files = []SourcePart{{Path: path}}
	}
	for _, f := range files {
		if err := checkFile(c.NewPartValidator(d.Name, f.Key), f.Path); err != nil {
			rel, rerr := filepath.Rel(dir, f.Path)
			if rerr != nil || strings.HasPrefix(rel, "..") {
				rel = f.Path
			}
			return fmt.Errorf("source %s breaks its contract: %w", filepath.ToSlash(rel), err)
		}
	}
	return nil
}

// checkFile streams the file at path through v.
func checkFile(v *schema.Validator, path string) error {
	f, _, err := regfile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(v, f); err != nil {
		return err
	}
	return v.Close()
}
