package cli

import (
	"os"
	"testing"

	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// TestMain lets the local executor's workers be this test program, as
// they are glacier itself.
func TestMain(m *testing.M) {
	wasmrt.ServeWorkerIfRequested()
	code := m.Run()
	wasmbuild.Cleanup()
	os.Exit(code)
}
