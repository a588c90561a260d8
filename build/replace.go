package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// warnReplaces tells warn of each replace directive, in a go.mod governing
// one of pkgs, that points at an absolute path. The go command writes the
// replacement's path into the module's build information, even with
// -trimpath, so the module's digest, and with it every cache key of its
// tasks, then depends on where the project is checked out: a clone
// elsewhere, a colleague's laptop or a deployment never finds what this
// one stored. A go.mod that cannot be read is left to the build to report.
func warnReplaces(pkgs []string, warn func(string)) {
	seen := map[string]bool{}
	for _, pkg := range pkgs {
		gomod := findGoMod(pkg)
		if gomod == "" || seen[gomod] {
			continue
		}
		seen[gomod] = true
		data, err := os.ReadFile(gomod)
		if err != nil {
			continue
		}
		f, err := modfile.Parse(gomod, data, nil)
		if err != nil {
			continue
		}
		for _, r := range f.Replace {
			if r.New.Version == "" && filepath.IsAbs(r.New.Path) {
				warn(fmt.Sprintf("%s:%d replaces %s with the absolute path %s: the go command writes it into every module it builds, so module digests, and every cache key, depend on where the project is checked out, and another clone or a deployment never reuses this one's results; write %s instead",
					gomod, r.Syntax.Start.Line, r.Old.Path, r.New.Path, relativeTo(filepath.Dir(gomod), r.New.Path)))
			}
		}
	}
}

// relativeTo returns path relative to dir as a go.mod replace directive
// writes it, starting with ./ or ../.
func relativeTo(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return "a path relative to go.mod"
	}
	if rel = filepath.ToSlash(rel); rel == ".." || strings.HasPrefix(rel, "../") {
		return rel
	}
	return "./" + rel
}

// findGoMod returns the go.mod governing dir, or "" if none does.
func findGoMod(dir string) string {
	for {
		p := filepath.Join(dir, "go.mod")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
