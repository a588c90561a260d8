package sdkguest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
)

// TestPartFunctionsImportedOnlyWhenUsed builds tasks for GOOS=wasip1 and
// reads which host functions their modules import. A task that never works
// part by part must not import dataset_parts or dataset_open_part: a
// runtime that predates them refuses a module that imports them, and such
// a task should run there as it did before.
func TestPartFunctionsImportedOnlyWhenUsed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Wasm modules; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	sdkDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tasks := map[string]struct {
		body string
		want []string // the part functions imported
	}{
		"whole": {`in, err := t.Input("in")
	if err != nil {
		return err
	}
	out, err := t.Output("out")
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	var v any
	if err := task.ReadJSON(t, "j", &v); err != nil {
		return err
	}
	t.Logf("%s %s %v", t.Part(), t.Partitioned(), v)
	return task.WriteJSON(t, "k", v)`, nil},
		"list": {`keys, err := t.Parts("in")
	t.Logf("%v", keys)
	_ = io.EOF
	return err`, []string{abi.FuncDatasetParts}},
		"parts": {`in, err := t.InputPart("in", "k")
	if err != nil {
		return err
	}
	out, err := t.OutputPart("out", "k")
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return err`, []string{abi.FuncDatasetParts, abi.FuncDatasetOpenPart}},
	}
	files := map[string]string{
		"go.mod": "module example.com/imports\n\ngo 1.26\n\nrequire " + sdkModule + " v0.0.0\n\nrequire " + abiModule + " v0.0.0 // indirect\n\n" +
			"replace " + sdkModule + " => " + filepath.ToSlash(sdkDir) + "\n\nreplace " + abiModule + " => " + filepath.ToSlash(filepath.Join(sdkDir, "..", "abi")) + "\n",
	}
	for name, tt := range tasks {
		files[name+"/main.go"] = "package main\n\nimport (\n\t\"io\"\n\n\t\"" + sdkModule + "/task\"\n)\n\n" +
			"func main() { task.Run(run) }\n\nfunc run(t *task.Context) error {\n\t" + tt.body + "\n}\n"
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
	for name, tt := range tasks {
		t.Run(name, func(t *testing.T) {
			wasm := filepath.Join(dir, name+".wasm")
			cmd := exec.Command(goCmd, "build", "-o", wasm, "./"+name)
			cmd.Dir = dir
			cmd.Env = append(cmd.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			data, err := os.ReadFile(wasm)
			if err != nil {
				t.Fatal(err)
			}
			imports, err := hostImports(data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(imports, abi.FuncTaskContext) {
				t.Fatalf("the module imports %v from %s, not even %s", imports, abi.ModuleName, abi.FuncTaskContext)
			}
			var got []string
			for _, f := range imports {
				if f == abi.FuncDatasetParts || f == abi.FuncDatasetOpenPart {
					got = append(got, f)
				}
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if !slices.Equal(got, tt.want) {
				t.Errorf("the module imports the part functions %v, want %v (all its imports: %v)", got, tt.want, imports)
			}
		})
	}
}

// hostImports returns the names of the functions a module imports from
// abi.ModuleName, read from its import section.
func hostImports(wasm []byte) ([]string, error) {
	r := bytes.NewReader(wasm)
	head := make([]byte, 8)
	if _, err := r.Read(head); err != nil || string(head[:4]) != "\x00asm" {
		return nil, errors.New("not a Wasm module")
	}
	name := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(r.Len()) {
			return "", fmt.Errorf("bad name at offset %d", r.Size()-int64(r.Len()))
		}
		b := make([]byte, n)
		_, err = r.Read(b)
		return string(b), err
	}
	for r.Len() > 0 {
		id, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		size, err := binary.ReadUvarint(r)
		if err != nil || size > uint64(r.Len()) {
			return nil, errors.New("bad section size")
		}
		if id != 2 { // not the import section
			if _, err := r.Seek(int64(size), 1); err != nil {
				return nil, err
			}
			continue
		}
		count, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		var funcs []string
		for range count {
			mod, err := name()
			if err != nil {
				return nil, err
			}
			field, err := name()
			if err != nil {
				return nil, err
			}
			if kind, err := r.ReadByte(); err != nil || kind != 0 {
				return nil, fmt.Errorf("import %s.%s is not a function", mod, field)
			}
			if _, err := binary.ReadUvarint(r); err != nil { // its type
				return nil, err
			}
			if mod == abi.ModuleName {
				funcs = append(funcs, field)
			}
		}
		return funcs, nil
	}
	return nil, errors.New("the module has no import section")
}

// TestHostImportsReadsTheImportSection checks hostImports on a module
// written out by hand.
func TestHostImportsReadsTheImportSection(t *testing.T) {
	mod := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type section: one () -> ()
		"\x02\x24\x02" + // import section: 36 bytes, two imports
		"\x0aglacier_v1\x09task_fail\x00\x00" +
		"\x04wasi\x04exit\x00\x00")
	got, err := hostImports(mod)
	if err != nil || strings.Join(got, ",") != "task_fail" {
		t.Errorf("hostImports = %v, %v; want [task_fail]", got, err)
	}
	if _, err := hostImports([]byte("\x00asm\x01\x00\x00\x00")); err == nil {
		t.Error("hostImports found imports in a module without an import section")
	}
}
