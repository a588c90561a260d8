package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
)

func TestModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module demo\n\ngo 1.26\n")
	write("tasks/a/main.go", "package main\n\nfunc main() { println(\"a\") }\n")
	write("prebuilt/b.wasm", "\x00asm\x01\x00\x00\x00")
	p := glacier.New("demo")
	for _, d := range []string{"x", "y", "z"} {
		if err := p.AddDataset(glacier.Dataset{Name: d, Storage: glacier.ObjectStorage{}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AddTask(glacier.Task{Name: "a", Build: "./tasks/a", Inputs: []string{"x"}, Outputs: []string{"y"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.AddTask(glacier.Task{Name: "b", Module: "prebuilt/b.wasm", Inputs: []string{"y"}, Outputs: []string{"z"}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mods, err := Modules(ctx, p, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || !mods[0].Built || mods[0].Path != filepath.Join(dir, ".glacier/modules", mods[0].SHA256+".wasm") {
		t.Fatalf("first build: %+v", mods)
	}
	sum := sha256.Sum256([]byte("\x00asm\x01\x00\x00\x00"))
	if mods[1].Size != 8 || mods[1].SHA256 != hex.EncodeToString(sum[:]) || mods[1].Built {
		t.Errorf("prebuilt: %+v", mods[1])
	}
	again, err := Modules(ctx, p, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Built || again[0].SHA256 != mods[0].SHA256 {
		t.Errorf("unchanged sources rebuilt: %+v", again[0])
	}
	// A comment at the end changes the build ID, not the code: the same
	// module, so no task reruns.
	write("tasks/a/main.go", "package main\n\nfunc main() { println(\"a\") }\n\n// a comment\n")
	commented, err := Modules(ctx, p, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if commented[0].Built || commented[0].SHA256 != mods[0].SHA256 {
		t.Errorf("a comment changed the module: %+v, was %+v", commented[0], mods[0])
	}
	wasm, err := os.ReadFile(commented[0].Path)
	require.NoError(t, err)
	assert.Len(t, stripBuildID(wasm), len(wasm), "the kept module has no build ID left to strip")
	write("tasks/a/main.go", "package main\n\nfunc main() { println(\"a2\") }\n")
	changed, err := Modules(ctx, p, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !changed[0].Built || changed[0].SHA256 == mods[0].SHA256 {
		t.Errorf("changed sources not rebuilt: %+v", changed[0])
	}

	write("tasks/a/main.go", "package main\n\nfunc main() { undefined() }\n")
	_, err = Modules(ctx, p, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), `task "a"`) || !strings.Contains(err.Error(), "undefined") {
		t.Errorf("broken build error = %v", err)
	}
}

// TestSharedPackage builds a package that several tasks share once, into
// one content-addressed file, and refuses a package that is not main,
// naming its tasks.
func TestSharedPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("go.mod", "module demo\n\ngo 1.26\n")
	write("tasks/a/main.go", "package main\n\nfunc main() { println(\"a\") }\n")
	write("lib/lib.go", "package lib\n\nfunc F() int { return 1 }\n")
	p := glacier.New("demo")
	for i := range 50 {
		name := fmt.Sprintf("t%d", i)
		require.NoError(t, p.AddDataset(glacier.Dataset{Name: name, Storage: glacier.ObjectStorage{}}))
		require.NoError(t, p.AddTask(glacier.Task{Name: name, Build: "./tasks/a", Outputs: []string{name}}))
	}
	var mu sync.Mutex
	var builds [][]string
	opts := Options{Dir: dir, Building: func(pkg string, tasks []string) {
		mu.Lock()
		builds = append(builds, tasks)
		mu.Unlock()
	}}
	mods, err := Modules(context.Background(), p, opts)
	require.NoError(t, err)
	require.Len(t, builds, 1, "one build for the package")
	assert.Len(t, builds[0], 50)
	for _, m := range mods {
		assert.Equal(t, mods[0].Path, m.Path)
		assert.Equal(t, mods[0].SHA256, m.SHA256)
	}
	wasm, err := filepath.Glob(filepath.Join(dir, ".glacier", "modules", "*.wasm"))
	require.NoError(t, err)
	assert.Len(t, wasm, 1, "one module file for fifty tasks")

	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "l", Storage: glacier.ObjectStorage{}}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "lib", Build: "./lib", Outputs: []string{"l"}}))
	_, err = Modules(context.Background(), p, Options{Dir: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `task "lib": build: `+filepath.Join(dir, "lib")+" is not a main package")
}

func TestStripBuildID(t *testing.T) {
	section := func(id byte, body string) string { return string([]byte{id, byte(len(body))}) + body }
	custom := func(name, data string) string { return section(0, string([]byte{byte(len(name))})+name+data) }
	head := "\x00asm\x01\x00\x00\x00"
	mod := head + custom(goBuildID, "abc") + section(1, "\x00") + custom("name", "xyz") + custom(goBuildID, "")
	assert.Equal(t, head+section(1, "\x00")+custom("name", "xyz"), string(stripBuildID([]byte(mod))))
	for _, bad := range []string{"", "\x00as", head + "\x00\x05ab", head + "\x00\x80", "not wasm at all"} {
		assert.Equal(t, bad, string(stripBuildID([]byte(bad))), "%q is left as it is", bad)
	}
}
