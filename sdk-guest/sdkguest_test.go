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
)

const modulePath = "github.com/glacier-pipeline/glacier"

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
// but the standard library and this module's SDK packages.
func TestTaskDependsOnStdlibOnly(t *testing.T) {
	for _, p := range platforms {
		for _, dep := range goList(t, p.goos, p.goarch, vendored...) {
			if dep.Standard {
				continue
			}
			if !strings.HasPrefix(dep.ImportPath, modulePath+"/sdk-guest/") {
				t.Errorf("GOOS=%s: the guest SDK depends on %s; it may use only the standard library and sdk-guest/", p.goos, dep.ImportPath)
			}
		}
	}
}

// TestSourcesComplete checks that Sources holds every file the SDK packages
// build from on any platform, and no test file.
func TestSourcesComplete(t *testing.T) {
	need := map[string]bool{}
	for _, p := range platforms {
		for _, dep := range goList(t, p.goos, p.goarch, vendored...) {
			if dep.Standard {
				continue
			}
			rel, ok := strings.CutPrefix(dep.ImportPath, modulePath+"/sdk-guest/")
			if !ok {
				t.Fatalf("unexpected dependency %s", dep.ImportPath)
			}
			for _, f := range dep.GoFiles {
				need[path.Join(rel, f)] = true
			}
		}
	}
	var have []string
	err := fs.WalkDir(Sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			have = append(have, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
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

// TestSourcesBuildAsAModule lays Sources out as glacier init does, as a
// module of its own that a new project's go.mod puts in place of the SDK
// module, and builds and tests a task there with the network off.
func TestSourcesBuildAsAModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a project; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const sdkModule = modulePath + "/sdk-guest"
	dir := t.TempDir()
	sdkRoot := filepath.Join(dir, "third_party", "glacier-sdk")
	err = fs.WalkDir(Sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(Sources, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(sdkRoot, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":                         "module example.com/etl\n\ngo 1.26\n\nrequire " + sdkModule + " v0.0.0\n\nreplace " + sdkModule + " => ./third_party/glacier-sdk\n",
		"third_party/glacier-sdk/go.mod": "module " + sdkModule + "\n\ngo 1.26\n",
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
