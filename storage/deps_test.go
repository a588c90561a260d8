package storage_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps the storage layer free of dependencies: the
// sandbox and every runtime link it, and only driver packages outside it
// may bring in a cloud SDK.
func TestStandardLibraryOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	const self = "github.com/glacier-pipeline/glacier/storage"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", self+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != self && !strings.HasPrefix(pkg, self+"/") {
			t.Errorf("%s/... depends on %s; it may use only the standard library", self, pkg)
		}
	}
}
