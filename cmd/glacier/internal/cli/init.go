package cli

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/manifest"
	sdkguest "github.com/glacier-pipeline/glacier/sdk-guest"
	"github.com/spf13/cobra"
)

//go:embed scaffold
var scaffold embed.FS

// The guest SDK's module and the host ABI's, which the SDK requires: what a
// project requires, and what its copies under sdkDir and abiDir declare
// themselves to be.
const (
	sdkModule = "github.com/glacier-pipeline/glacier/sdk-guest"
	abiModule = "github.com/glacier-pipeline/glacier/abi"
)

// Where a project keeps its copies of the SDK and the ABI, which its go.mod
// replaces sdkModule and abiModule with until they are fetched from a proxy.
const (
	sdkDir = "third_party/glacier-sdk"
	abiDir = "third_party/glacier-abi"
)

func newInitCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create a working project: glacier.yaml, a Go task with a test, sample data",
		Long: `Init creates a project in DIR (default: the current directory, or -C): a
glacier.yaml, a go.mod, one task (tasks/wordcount) with a unit test, sample
data, and copies of the Glacier task SDK and of the host ABI it speaks in
third_party/glacier-sdk and third_party/glacier-abi, which go.mod uses in
place of their modules, so the project builds offline and takes other
dependencies with go get as any Go module does.

  glacier init demo && glacier run -C demo`,
		Args: args(0, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir := g.Dir
			if len(a) == 1 {
				dir = a[0]
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(g.Dir, dir)
				}
			}
			return runInit(g, dir)
		},
	}
}

func runInit(g *Globals, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, manifest.DefaultFile)); err == nil {
		return fmt.Errorf("%s already has a %s; init creates new projects only", dir, manifest.DefaultFile)
	}
	name := projectName(filepath.Base(abs))
	version := Version()
	if version == "devel" {
		version = "v0.0.0"
	}
	files := map[string][]byte{}
	data := struct{ Name, Version string }{name, version}
	for tmpl, dst := range map[string]string{
		"glacier.yaml.tmpl": "glacier.yaml",
		"main.go.tmpl":      "tasks/wordcount/main.go",
		"main_test.go.tmpl": "tasks/wordcount/main_test.go",
		"input.txt.tmpl":    "data/input.txt",
		"README.md.tmpl":    "README.md",
		"gitignore.tmpl":    ".gitignore",
	} {
		src, err := scaffold.ReadFile("scaffold/" + tmpl)
		if err != nil {
			return err
		}
		t, err := template.New(tmpl).Parse(string(src))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		files[dst] = b.Bytes()
	}
	if err := vendorSDK(files, name, version); err != nil {
		return err
	}
	if err := writeFiles(abs, files); err != nil {
		return err
	}
	rel := dir
	if r, err := filepath.Rel(g.Dir, abs); err == nil && !strings.HasPrefix(r, "..") {
		rel = r
	}
	self := invokedAs()
	fmt.Fprintf(g.IO.Out, "created pipeline %q in %s\n\nnext:\n  %s run -C %s\n  %s -C %s cat counts\n", name, rel, self, rel, self, rel)
	if self == "go run ./cmd/glacier" {
		fmt.Fprintf(g.IO.Out, "(go install ./cmd/glacier puts glacier on your PATH)\n")
	}
	return nil
}

// invokedAs returns how to run this glacier again from the same directory:
// "glacier" when that is what PATH finds, else "go run ./cmd/glacier" when
// this is a go run build from a checkout, else its path.
func invokedAs() string {
	exe, err := os.Executable()
	if err != nil {
		return "glacier"
	}
	if onPath, err := exec.LookPath("glacier"); err == nil {
		a, _ := filepath.EvalSymlinks(onPath)
		b, _ := filepath.EvalSymlinks(exe)
		if a == b {
			return "glacier"
		}
	}
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		if wd, err := os.Getwd(); err == nil {
			if _, err := os.Stat(filepath.Join(wd, "cmd", "glacier", "main.go")); err == nil {
				return "go run ./cmd/glacier"
			}
		}
	}
	return exe
}

// vendorSDK adds to files a go.mod for module name that requires the SDK
// module (and the ABI module it requires), each replaced by a copy of its
// sources, under sdkDir and abiDir, with a go.mod of its own. The project
// then builds offline, and go get and go mod tidy work in it: nothing asks a
// proxy for the SDK. Once the SDK is published, dropping the replace lines
// fetches it instead.
func vendorSDK(files map[string][]byte, name, version string) error {
	files["go.mod"] = []byte(fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire %s %s\n\nrequire %s %s // indirect\n\n"+
		"// The task SDK and the host ABI it speaks, copied here by glacier init.\n// Drop these lines to use published versions instead.\n"+
		"replace %s => ./%s\n\nreplace %s => ./%s\n",
		name, sdkModule, version, abiModule, version, sdkModule, sdkDir, abiModule, abiDir))
	files[sdkDir+"/go.mod"] = []byte(fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire %s %s\n", sdkModule, abiModule, version))
	files[abiDir+"/go.mod"] = []byte("module " + abiModule + "\n\ngo 1.26\n")
	for dir, src := range map[string]fs.FS{sdkDir: sdkguest.Sources, abiDir: abi.Sources} {
		err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			content, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			files[path.Join(dir, p)] = content
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// VendorSDK makes dir a Go module named name that builds its tasks against
// this glacier's guest SDK, copied in as init does for a new project, for
// tests that copy an example out of this repository.
func VendorSDK(dir, name string) error {
	files := map[string][]byte{}
	if err := vendorSDK(files, name, "v0.0.0"); err != nil {
		return err
	}
	return writeFiles(dir, files)
}

func writeFiles(dir string, files map[string][]byte) error {
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var nonName = regexp.MustCompile(`[^a-z0-9_-]+`)

// projectName turns a directory name into a valid pipeline name.
func projectName(base string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(base), "-"), "-_")
	if len(n) > 40 {
		n = strings.TrimRight(n[:40], "-_")
	}
	if glacier.CheckName(n) != nil {
		n = "pipeline"
	}
	return n
}
