package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier"
)

// TestAbsoluteReplace builds one project in two places: with an absolute
// replace directive the two checkouts get different modules, which is
// why Modules warns of it, naming the line and the relative path to
// write; with that relative path they get the same module and no warning.
func TestAbsoluteReplace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	p := glacier.New("demo")
	for _, d := range []string{"x", "y"} {
		if err := p.AddDataset(glacier.Dataset{Name: d, Storage: glacier.ObjectStorage{}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AddTask(glacier.Task{Name: "a", Build: "./tasks/a", Inputs: []string{"x"}, Outputs: []string{"y"}}); err != nil {
		t.Fatal(err)
	}
	// checkout writes the project under a new directory, its go.mod
	// replacing lib with what replacement returns for that directory.
	checkout := func(replacement func(dir string) string) string {
		dir := t.TempDir()
		files := map[string]string{
			"go.mod":          "module demo\n\ngo 1.26\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => " + replacement(dir) + "\n",
			"lib/go.mod":      "module example.com/lib\n\ngo 1.26\n",
			"lib/lib.go":      "package lib\n\nfunc Name() string { return \"lib\" }\n",
			"tasks/a/main.go": "package main\n\nimport \"example.com/lib\"\n\nfunc main() { println(lib.Name()) }\n",
		}
		for rel, content := range files {
			path := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	build := func(dir string) (string, []string) {
		t.Helper()
		var warns []string
		mods, err := Modules(context.Background(), p, Options{Dir: dir, Warn: func(m string) { warns = append(warns, m) }})
		if err != nil {
			t.Fatal(err)
		}
		return mods[0].SHA256, warns
	}

	abs := func(dir string) string { return filepath.Join(dir, "lib") }
	dir1, dir2 := checkout(abs), checkout(abs)
	sum1, warns := build(dir1)
	sum2, _ := build(dir2)
	if sum1 == sum2 {
		t.Errorf("an absolute replace gave two checkouts the same module %s; the warning is needless", sum1)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], filepath.Join(dir1, "go.mod")+":7") ||
		!strings.Contains(warns[0], "example.com/lib") || !strings.Contains(warns[0], "write ./lib instead") {
		t.Errorf("warnings = %q, want one naming go.mod:7, the module and ./lib", warns)
	}

	rel := func(string) string { return "./lib" }
	dir1, dir2 = checkout(rel), checkout(rel)
	sum1, warns = build(dir1)
	sum2, _ = build(dir2)
	if sum1 != sum2 || len(warns) != 0 {
		t.Errorf("relative replace: modules %s and %s, warnings %q; want one module, no warning", sum1, sum2, warns)
	}
}
