package cli

import (
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/build"
)

// TestCheckPush: results are pushed only for the modules the deployment
// runs, and a refusal names every task that differs.
func TestCheckPush(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	mods := []build.Module{{Task: "clean", SHA256: a}, {Task: "report", SHA256: b}}
	if err := checkPush(mods, map[string]string{"clean": a, "report": b}); err != nil {
		t.Errorf("the deployed modules: %v", err)
	}
	err := checkPush(mods, map[string]string{"clean": b})
	if err == nil {
		t.Fatal("pushing other modules' results was not refused")
	}
	for _, want := range []string{`task "clean": the module built here is sha256:aaaaaaaaaaaa, the deployed one sha256:bbbbbbbbbbbb`,
		`task "report" is not deployed`, "compile and deploy this project again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
