// Package pulumiproject writes the Pulumi Go projects that the cloud
// compilers produce, the same way for every cloud: into a directory that is
// empty or an earlier output of the same compiler, with fixed file modes,
// each file replaced whole, and the directories of per-compilation files
// (artifacts, source copies) cleared first so nothing stale lingers.
//
// It also handles the projects' go.mod and go.sum, which each compiler
// embeds as checked-in templates (ModuleFiles), the static files of the
// written programs, which the repository keeps as Go under a build tag
// (ProgramFiles), renders the rest of a project from its own templates
// (Templates) and names the written program's variables so they take no
// name the program uses (Idents, Declared). Package projecttest builds and
// mock-runs the written projects in tests, and regenerates the go.mod and
// go.sum templates.
package pulumiproject

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/regfile"
)

// PulumiSDKPath and PulumiSDKVersion are the module of Pulumi's Go SDK
// that every written program depends on, beside its cloud's provider SDK.
const (
	PulumiSDKPath    = "github.com/pulumi/pulumi/sdk/v3"
	PulumiSDKVersion = "v3.274.1"
)

// Marker returns the first line of the Pulumi.yaml that the compiler of
// target ("aws", "gcp") writes; see Project.Marker.
func Marker(target string) string { return "# Written by glacier compile --target " + target + "." }

// File is one file of a project, given whole.
type File struct {
	// Name is the file's slash-separated path in the project.
	Name string
	Data []byte
}

// Copy is one file of a project copied from elsewhere, such as a source
// dataset, streamed so a large file is never held in memory.
type Copy struct {
	// Src is the file to copy, in the local file system.
	Src string
	// Name is the copy's slash-separated path in the project.
	Name string
}

// Project is everything a compiler writes.
type Project struct {
	// Marker is the first line of the project's Pulumi.yaml. A directory
	// whose Pulumi.yaml starts with it is an earlier output of the same
	// compiler, and may be written over.
	Marker string
	// Clear are slash-separated paths, or patterns of path.Match, of what
	// is removed before writing, so that files of an earlier compilation
	// that this one does not write again (an artifact of a task since
	// removed) disappear.
	Clear []string
	// Files and Copies are written in order. Pulumi.yaml must be among
	// Files.
	Files  []File
	Copies []Copy
}

// File and directory modes of everything written: the same on every
// machine, whatever the umask, so two compilations give identical trees.
const (
	fileMode = 0o644
	dirMode  = 0o755
)

// CheckDir reports whether a project may be written into dir: dir is
// given, and missing, empty, or holds a Pulumi.yaml that starts with
// marker. Compilers
// call it before packaging anything, so a wrong --out fails fast.
func CheckDir(dir, marker string) error {
	if dir == "" {
		return errors.New("Options.Out is empty; say where to write the project (glacier compile --out DIR)")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	head, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil || !bytes.HasPrefix(head, []byte(marker)) {
		return fmt.Errorf("output directory %s is not empty and is not an earlier output of this compiler "+
			"(its Pulumi.yaml does not start with %q); choose an empty or new directory for --out", dir, marker)
	}
	return nil
}

// Write writes p into dir, after checking dir with CheckDir. Files not named
// by p and outside p.Clear, such as a stack's Pulumi.<stack>.yaml, are left
// alone.
func Write(dir string, p Project) error {
	if !hasFile(p.Files, "Pulumi.yaml") {
		return errors.New("pulumiproject: the project has no Pulumi.yaml")
	}
	for _, f := range p.Files {
		if f.Name == "Pulumi.yaml" && !bytes.HasPrefix(f.Data, []byte(p.Marker)) {
			return fmt.Errorf("pulumiproject: Pulumi.yaml does not start with the marker %q", p.Marker)
		}
	}
	if err := CheckDir(dir, p.Marker); err != nil {
		return err
	}
	for _, pattern := range p.Clear {
		full, err := inside(dir, pattern)
		if err != nil {
			return err
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			return fmt.Errorf("pulumiproject: clearing %q: %w", pattern, err)
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("clearing %s: %w", m, err)
			}
		}
	}
	for _, f := range p.Files {
		full, err := inside(dir, f.Name)
		if err != nil {
			return err
		}
		if err := writeFile(full, bytes.NewReader(f.Data), fileMode); err != nil {
			return err
		}
	}
	for _, c := range p.Copies {
		full, err := inside(dir, c.Name)
		if err != nil {
			return err
		}
		if err := copyFile(c.Src, full); err != nil {
			return err
		}
	}
	return nil
}

func hasFile(files []File, name string) bool {
	for _, f := range files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// inside joins dir and a slash-separated relative name, refusing names that
// would leave dir.
func inside(dir, name string) (string, error) {
	clean := path.Clean(name)
	if name == "" || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("pulumiproject: %q is not a path inside the project", name)
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// writeFile writes r to path through a temporary file in the same
// directory, so an interrupted write never leaves half a file behind.
func writeFile(path string, r io.Reader, mode fs.FileMode) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// copyFile copies the regular file src to dst, never with more permissions
// than src has: a source readable only by its owner stays so.
func copyFile(src, dst string) error {
	in, fi, err := regfile.Open(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	defer in.Close()
	if err := writeFile(dst, io.LimitReader(in, fi.Size()), fileMode&fi.Mode().Perm()); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return nil
}

// ModuleFiles returns a project's go.mod and go.sum from a compiler's
// templates in fsys: dir/go.mod.txt with its module line naming
// modulePath, and dir/go.sum.txt as it is.
func ModuleFiles(fsys fs.FS, dir, modulePath string) (goMod, goSum File, err error) {
	mod, err := fs.ReadFile(fsys, path.Join(dir, "go.mod.txt"))
	if err != nil {
		return File{}, File{}, err
	}
	sum, err := fs.ReadFile(fsys, path.Join(dir, "go.sum.txt"))
	if err != nil {
		return File{}, File{}, err
	}
	named, err := GoMod(mod, modulePath)
	if err != nil {
		return File{}, File{}, err
	}
	return File{Name: "go.mod", Data: named}, File{Name: "go.sum", Data: sum}, nil
}

// GoMod returns the go.mod template with its module line naming
// modulePath. The template's first line must be its module line.
func GoMod(template []byte, modulePath string) ([]byte, error) {
	first, rest, _ := bytes.Cut(template, []byte("\n"))
	if !bytes.HasPrefix(first, []byte("module ")) {
		return nil, errors.New("pulumiproject: the go.mod template does not start with a module line")
	}
	return append([]byte("module "+modulePath+"\n"), rest...), nil
}

// GoDirective returns the version in a go.mod's go line ("1.26.0"), or an
// error if it has none.
func GoDirective(goMod []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(goMod))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "go" {
			return fields[1], nil
		}
	}
	return "", errors.New("go.mod has no go line")
}
