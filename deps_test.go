package glacier_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCloudDependencies keeps the core free of providers: neither the
// core package nor the manifest reader may pull in wazero, Pulumi, AWS or
// Google Cloud.
func TestNoCloudDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/glacier-pipeline/glacier", "github.com/glacier-pipeline/glacier/manifest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/tetratelabs/wazero",
		"github.com/pulumi/",
		"github.com/aws/",
		"cloud.google.com/",
		"google.golang.org/api",
		"github.com/GoogleCloudPlatform/",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("the core depends on %s; keep cloud and engine imports in providers/ and wasmrt/", pkg)
			}
		}
	}
}
