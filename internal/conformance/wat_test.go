package conformance

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// wat2wasm assembles src into a temporary file and returns its bytes. It
// skips the test when wat2wasm is not installed.
func wat2wasm(t *testing.T, src string) []byte {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm is not installed (scripts/install-wabt.sh installs it)")
	}
	out := filepath.Join(t.TempDir(), "out.wasm")
	if msg, err := exec.Command(tool, src, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", src, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWatWasmUpToDate checks that each checked-in module in
// testdata/wasm/wat (copy.wasm, parts.wasm) is what its .wat source
// assembles to, and that every source has its module.
func TestWatWasmUpToDate(t *testing.T) {
	const dir = "../../testdata/wasm/wat"
	srcs, err := filepath.Glob(filepath.Join(dir, "*.wat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) < 2 {
		t.Fatalf("found %d .wat files in %s, want copy.wat and parts.wat at least", len(srcs), dir)
	}
	for _, src := range srcs {
		want := wat2wasm(t, src)
		mod := strings.TrimSuffix(src, ".wat") + ".wasm"
		got, err := os.ReadFile(mod)
		if err != nil {
			t.Errorf("%v; run scripts/regen", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/wasm/wat/%s is not what %s assembles to; run scripts/regen", filepath.Base(mod), filepath.Base(src))
		}
	}
}

var watBlock = regexp.MustCompile("(?s)```wat\n(.*?)```")

// TestDocExampleRuns assembles the WAT example of docs/abi.md and runs it:
// it writes its task context to its output.
func TestDocExampleRuns(t *testing.T) {
	doc, err := os.ReadFile("../../docs/abi.md")
	if err != nil {
		t.Fatal(err)
	}
	m := watBlock.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/abi.md has no ```wat block")
	}
	src := filepath.Join(t.TempDir(), "example.wat")
	if err := os.WriteFile(src, m[1], 0o644); err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(t.TempDir(), "example.wasm")
	if err := os.WriteFile(wasm, wat2wasm(t, src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := tasktest.Config{
		Task: "describe", RunID: "run-1",
		Params:  map[string]string{"currency": "EUR"},
		Inputs:  map[string][]byte{"raw": nil},
		Outputs: []string{"context"},
	}
	res := runWasm(t, wasm, cfg)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.log)
	}
	var got abi.TaskContext
	if err := json.Unmarshal(res.outputs["context"], &got); err != nil {
		t.Fatalf("output %q: %v", res.outputs["context"], err)
	}
	want := abi.TaskContext{ABI: abi.Version, Task: "describe", RunID: "run-1",
		Params: cfg.Params, Inputs: []string{"raw"}, Outputs: []string{"context"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("task context = %+v, want %+v", got, want)
	}
}
