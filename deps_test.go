package glacier_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/glacier-pipeline/glacier"

// cloud are the SDKs only the providers' runtimes and programs may use.
var cloud = []string{
	"github.com/pulumi",
	"github.com/aws",
	"cloud.google.com",
	"google.golang.org/api",
	"github.com/GoogleCloudPlatform",
}

// engine is the sandbox, its WebAssembly engine and the function runtime
// built on them.
var engine = []string{
	"github.com/tetratelabs/wazero",
	module + "/wasmrt",
	module + "/providers/internal/fnrt",
}

// TestDependencies keeps heavy dependencies where they belong: the core
// model knows no cloud and no engine; the compilers, the packagers and the
// planner build artifacts without linking the sandbox (they check modules
// with a program of their own, see package modcheck); and the contract
// between compilers and function runtimes uses the standard library and
// the host ABI alone.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, tc := range []struct {
		what      string
		pkgs      []string
		forbidden []string // these paths and everything under them
		// only, when set, allows the standard library and these alone.
		only []string
	}{
		{what: "the core", pkgs: []string{module, module + "/manifest"},
			forbidden: slices.Concat(cloud, engine)},
		{what: "the compilers, packagers and planner", pkgs: []string{
			module + "/providers/aws", module + "/providers/gcp", module + "/providers/internal/plan",
			module + "/providers/aws/lambdazip", module + "/providers/gcp/gcfbundle", module + "/providers/internal/modcheck",
		}, forbidden: engine},
		{what: "the function contract", pkgs: []string{module + "/internal/fnspec"},
			only: []string{module + "/internal/fnspec", module + "/abi"}},
	} {
		// Each line: a package outside the standard library and its imports.
		args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{end}}"}, tc.pkgs...)
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		imports := map[string][]string{}
		for line := range strings.Lines(string(out)) {
			if f := strings.Fields(line); len(f) > 0 {
				imports[f[0]] = f[1:]
			}
		}
		bad := func(dep string) bool {
			if _, nonStd := imports[dep]; !nonStd {
				return false
			}
			if tc.only != nil {
				return !slices.Contains(tc.only, dep)
			}
			return slices.ContainsFunc(tc.forbidden, func(f string) bool {
				return dep == f || strings.HasPrefix(dep, f+"/")
			})
		}
		// Report where the graph crosses into what is forbidden, not
		// everything beyond.
		for _, pkg := range slices.Sorted(maps.Keys(imports)) {
			if bad(pkg) {
				continue
			}
			for _, imp := range imports[pkg] {
				if bad(imp) {
					t.Errorf("%s: %s imports %s", tc.what, pkg, imp)
				}
			}
		}
	}
}
