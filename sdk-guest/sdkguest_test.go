package sdkguest

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
)

const (
	modulePath = "github.com/glacier-pipeline/glacier"
	sdkModule  = modulePath + "/sdk-guest"
	abiModule  = modulePath + "/abi"
)

// The packages a task and its tests import; Sources must hold what they need.
var vendored = []string{"./task", "./tasktest"}

// listed is the part of go list -json these tests read.
type listed struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct{ Path string }
	GoFiles    []string
}

// goList runs go list -deps -json for pkgs with GOOS/GOARCH set (or the
// native ones when goos is empty).
func goList(t *testing.T, goos, goarch string, pkgs ...string) []listed {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json"}, pkgs...)...)
	if goos != "" {
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH="+goarch)
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var all []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	return all
}

var platforms = []struct{ goos, goarch string }{{"", ""}, {"wasip1", "wasm"}}

// TestTaskDependsOnStdlibOnly checks that building a task pulls in nothing
// but the standard library, this module's SDK packages and the host ABI.
func TestTaskDependsOnStdlibOnly(t *testing.T) {
	for _, p := range platforms {
		for _, dep := range goList(t, p.goos, p.goarch, vendored...) {
			if dep.Standard || dep.ImportPath == abiModule {
				continue
			}
			if !strings.HasPrefix(dep.ImportPath, sdkModule+"/") {
				t.Errorf("GOOS=%s: the guest SDK depends on %s; it may use only the standard library, sdk-guest/ and %s", p.goos, dep.ImportPath, abiModule)
			}
		}
	}
}

// TestSourcesComplete checks that Sources holds every file the SDK packages
// build from on any platform, and no test file; the ABI's files are
// abi.Sources' business.
func TestSourcesComplete(t *testing.T) {
	need := map[string]bool{}
	for _, p := range platforms {
		for _, dep := range goList(t, p.goos, p.goarch, vendored...) {
			if dep.Standard || dep.ImportPath == abiModule {
				continue
			}
			rel, ok := strings.CutPrefix(dep.ImportPath, sdkModule+"/")
			if !ok {
				t.Fatalf("unexpected dependency %s", dep.ImportPath)
			}
			for _, f := range dep.GoFiles {
				need[path.Join(rel, f)] = true
			}
		}
	}
	have := files(t, Sources)
	for f := range need {
		if !slices.Contains(have, f) {
			t.Errorf("Sources lacks %s; add it to the //go:embed lines in sdkguest.go", f)
		}
	}
	for _, f := range have {
		if strings.HasSuffix(f, "_test.go") {
			t.Errorf("Sources holds the test file %s", f)
		}
		if !need[f] {
			t.Errorf("Sources holds %s, which no SDK package builds from", f)
		}
	}
	if len(have) == 0 {
		t.Fatal("Sources is empty")
	}
}

// files lists the files in fsys.
func files(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var have []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			have = append(have, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return have
}

// TestSourcesBuildAsAModule lays Sources and abi.Sources out as glacier init
// does, as modules of their own that a new project's go.mod puts in place of
// the SDK's and the ABI's modules, and builds and tests a task there with
// the network off.
func TestSourcesBuildAsAModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a project; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	dir := t.TempDir()
	for root, fsys := range map[string]fs.FS{"glacier-sdk": Sources, "glacier-abi": abi.Sources} {
		for _, p := range files(t, fsys) {
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "third_party", root, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files := map[string]string{
		"go.mod": "module example.com/etl\n\ngo 1.26\n\nrequire " + sdkModule + " v0.0.0\n\nrequire " + abiModule + " v0.0.0 // indirect\n\n" +
			"replace " + sdkModule + " => ./third_party/glacier-sdk\n\nreplace " + abiModule + " => ./third_party/glacier-abi\n",
		"third_party/glacier-sdk/go.mod": "module " + sdkModule + "\n\ngo 1.26\n\nrequire " + abiModule + " v0.0.0\n",
		"third_party/glacier-abi/go.mod": "module " + abiModule + "\n\ngo 1.26\n",
		"tasks/clean/main.go":            "package main\n\nimport \"" + sdkModule + "/task\"\n\nfunc main() { task.Run(clean) }\n\nfunc clean(t *task.Context) error { return task.WriteJSON(t, \"out\", t.Param(\"p\")) }\n",
		"tasks/clean/main_test.go": "package main\n\nimport (\n\t\"testing\"\n\n\t\"" + sdkModule + "/tasktest\"\n)\n\n" +
			"func TestClean(t *testing.T) {\n\tres, err := tasktest.Run(clean, tasktest.Config{Params: map[string]string{\"p\": \"v\"}, Outputs: []string{\"out\"}})\n" +
			"\tif err != nil || string(res.Outputs[\"out\"]) != \"\\\"v\\\"\\n\" {\n\t\tt.Fatalf(\"%v %v\", res, err)\n\t}\n}\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	offline := []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local"}
	for _, step := range []struct {
		env  []string
		args []string
	}{
		{[]string{"GOOS=wasip1", "GOARCH=wasm"}, []string{"build", "-o", filepath.Join(dir, "clean.wasm"), "./tasks/clean"}},
		{nil, []string{"test", "./..."}},
	} {
		cmd := exec.Command(goCmd, step.args...)
		cmd.Dir = dir
		cmd.Env = append(append(cmd.Environ(), offline...), step.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s go %s in a project with the SDK's copy: %v\n%s", strings.Join(step.env, " "), strings.Join(step.args, " "), err, out)
		}
	}
}
