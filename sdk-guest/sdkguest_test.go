package sdkguest

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os/exec"
	"path"
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
