package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// nativeCopies are copy.wat's task written in C (wasi-libc) and in Rust
// (std), checked in as binaries that testdata/wasm/build-native.sh builds.
var nativeCopies = []struct{ lang, path string }{
	{"C", "../../testdata/wasm/c/copy.wasm"},
	{"Rust", "../../testdata/wasm/rust/copy.wasm"},
}

// TestNativeCopyWasmUpToDate checks that the checked-in C and Rust modules
// are what their sources build to. It skips unless the exact compilers the
// script names are installed (scripts/test does not install them, and
// another compiler version builds other bytes).
func TestNativeCopyWasmUpToDate(t *testing.T) {
	for _, tool := range []string{"clang-16", "wasm-ld-16", "/usr/bin/rustc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (see testdata/wasm/build-native.sh)", tool)
		}
	}
	if msg, err := exec.Command("sh", "../../testdata/wasm/build-native.sh", "--check").CombinedOutput(); err != nil {
		t.Errorf("build-native.sh --check: %v\n%s", err, msg)
	}
}

// copyLogLine is the one line the C and Rust copies write to stdout.
var copyLogLine = regexp.MustCompile(`^copy \((C|Rust)\): copied (\d+) bytes; task context (\{.*\})\n$`)

// TestNativeCopy runs the C and Rust modules next to the WAT one: all copy
// "in" to "out", so their outputs must be the same bytes as the input. Each
// also logs the byte count and its task context, which must be the
// invocation's.
func TestNativeCopy(t *testing.T) {
	for _, size := range []int{0, 1, 65536, 65537, 5<<20 + 3} {
		data := random(size)
		cfg := tasktest.Config{
			Task: "copy", RunID: "r", Params: map[string]string{"k": "v"},
			Inputs: map[string][]byte{"in": data}, Outputs: []string{"out"},
		}
		wat := runWasm(t, "../../testdata/wasm/wat/copy.wasm", cfg)
		if wat.err != nil {
			t.Fatalf("WAT copy: %v\n%s", wat.err, wat.log)
		}
		for _, m := range nativeCopies {
			t.Run(fmt.Sprintf("%s/%d", m.lang, size), func(t *testing.T) {
				res := runWasm(t, m.path, cfg)
				if res.err != nil {
					t.Fatalf("%s copy: %v\n%s", m.lang, res.err, res.log)
				}
				if got := res.outputs["out"]; !bytes.Equal(got, data) || !bytes.Equal(got, wat.outputs["out"]) {
					t.Errorf("out has %d bytes, not the %d bytes of in (WAT's out: %d bytes)", len(got), len(data), len(wat.outputs["out"]))
				}
				line := copyLogLine.FindStringSubmatch(taskLines(res.log))
				if line == nil || line[1] != m.lang || line[2] != strconv.Itoa(size) {
					t.Fatalf("log = %q, want one line %q with the byte count and task context", res.log,
						fmt.Sprintf("copy (%s): copied %d bytes; task context {...}", m.lang, size))
				}
				var got abi.TaskContext
				if err := json.Unmarshal([]byte(line[3]), &got); err != nil {
					t.Fatalf("logged task context %q: %v", line[3], err)
				}
				want := abi.TaskContext{ABI: abi.Version, Task: "copy", RunID: "r",
					Params: cfg.Params, Inputs: []string{"in"}, Outputs: []string{"out"}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("task context = %+v, want %+v", got, want)
				}
			})
		}
	}
}

// TestNativeCopyFailures checks the C and Rust modules' failure path, as
// TestWATCopyFailures does the WAT one's: task_fail with the same message,
// then exit code 1, nothing committed and nothing logged by the task.
func TestNativeCopyFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  tasktest.Config
		msg  string
	}{
		{"input without a version", tasktest.Config{Task: "copy", MissingInputs: []string{"in"}, Outputs: []string{"out"}},
			`copy: cannot open input "in"`},
		{"output not declared", tasktest.Config{Task: "copy", Inputs: map[string][]byte{"in": []byte("x")}, Outputs: []string{"other"}},
			`copy: cannot open output "out"`},
	}
	for _, tt := range tests {
		for _, m := range nativeCopies {
			t.Run(m.lang+"/"+tt.name, func(t *testing.T) {
				res := runWasm(t, m.path, tt.cfg)
				var we *wasmrt.ExitError
				if !errors.As(res.err, &we) || we.ExitCode() != 1 || we.Message() != tt.msg {
					t.Fatalf("error = %v, want exit code 1 with message %q\n%s", res.err, tt.msg, res.log)
				}
				if len(res.outputs) != 0 {
					t.Errorf("outputs committed: %q", res.outputs)
				}
				if l := taskLines(res.log); l != "" {
					t.Errorf("task logged %q, want nothing", l)
				}
			})
		}
	}
}
