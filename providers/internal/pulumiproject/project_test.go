package pulumiproject_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

const marker = "# Written by a test."

func project(files ...pulumiproject.File) pulumiproject.Project {
	return pulumiproject.Project{
		Marker: marker,
		Clear:  []string{"artifacts"},
		Files:  append([]pulumiproject.File{{Name: "Pulumi.yaml", Data: []byte(marker + "\nname: p\n")}}, files...),
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	src := filepath.Join(t.TempDir(), "orders.csv")
	require.NoError(t, os.WriteFile(src, []byte("id\n1\n"), 0o600))
	p := project(pulumiproject.File{Name: "main.go", Data: []byte("package main\n")},
		pulumiproject.File{Name: "artifacts/a.zip", Data: []byte("zip a")})
	p.Copies = []pulumiproject.Copy{{Src: src, Name: "sources/orders/orders.csv"}}
	require.NoError(t, pulumiproject.Write(dir, p))

	assert.Equal(t, "package main\n", read(t, filepath.Join(dir, "main.go")))
	assert.Equal(t, "zip a", read(t, filepath.Join(dir, "artifacts", "a.zip")))
	assert.Equal(t, "id\n1\n", read(t, filepath.Join(dir, "sources", "orders", "orders.csv")))
	for f, mode := range map[string]os.FileMode{"main.go": 0o644, "sources/orders/orders.csv": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, mode, fi.Mode().Perm(), "%s: written files are 0644, copies never wider than their source", f)
	}

	// Writing again clears artifacts/ and keeps files the project does not
	// name; no temporary file is left behind.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte("config: {}\n"), 0o644))
	p = project(pulumiproject.File{Name: "artifacts/b.zip", Data: []byte("zip b")})
	require.NoError(t, pulumiproject.Write(dir, p))
	assert.NoFileExists(t, filepath.Join(dir, "artifacts", "a.zip"))
	assert.FileExists(t, filepath.Join(dir, "artifacts", "b.zip"))
	assert.FileExists(t, filepath.Join(dir, "Pulumi.dev.yaml"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"Pulumi.yaml", "Pulumi.dev.yaml", "main.go", "artifacts", "sources"}, names)
}

func TestWriteClearsPatterns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	p := project(pulumiproject.File{Name: "main.go", Data: []byte("package main\n")},
		pulumiproject.File{Name: "old.go", Data: []byte("package main\n")})
	require.NoError(t, pulumiproject.Write(dir, p))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.md"), []byte("mine"), 0o644))

	p = project(pulumiproject.File{Name: "main.go", Data: []byte("package main // again\n")})
	p.Clear = []string{"*.go"}
	require.NoError(t, pulumiproject.Write(dir, p))
	assert.NoFileExists(t, filepath.Join(dir, "old.go"), "a Go file this compilation does not write is gone")
	assert.Equal(t, "package main // again\n", read(t, filepath.Join(dir, "main.go")))
	assert.FileExists(t, filepath.Join(dir, "notes.md"), "what no pattern matches stays")

	p.Clear = []string{"../*.go"}
	assert.ErrorContains(t, pulumiproject.Write(dir, p), "is not a path inside the project")
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(dir string)
		project pulumiproject.Project
		want    string
	}{
		{"foreign directory", func(dir string) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		}, project(), "is not empty and is not an earlier output"},
		{"another compiler's output", func(dir string) {
			os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("# Written by someone else.\n"), 0o644)
		}, project(), "is not an earlier output"},
		{"no Pulumi.yaml", func(string) {}, pulumiproject.Project{Marker: marker}, "has no Pulumi.yaml"},
		{"Pulumi.yaml without the marker", func(string) {},
			pulumiproject.Project{Marker: marker, Files: []pulumiproject.File{{Name: "Pulumi.yaml", Data: []byte("name: p\n")}}},
			"does not start with the marker"},
		{"path outside", func(string) {}, project(pulumiproject.File{Name: "../evil", Data: nil}), "not a path inside the project"},
		{"absolute path", func(string) {}, project(pulumiproject.File{Name: "/etc/evil", Data: nil}), "not a path inside the project"},
		{"missing copy", func(string) {}, pulumiproject.Project{Marker: marker, Files: project().Files,
			Copies: []pulumiproject.Copy{{Src: "/no/such/file", Name: "sources/x"}}}, "copying /no/such/file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(dir)
			err := pulumiproject.Write(dir, tt.project)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestCheckDir(t *testing.T) {
	assert.ErrorContains(t, pulumiproject.CheckDir("", marker), "Options.Out is empty")
	assert.NoError(t, pulumiproject.CheckDir(filepath.Join(t.TempDir(), "new"), marker), "a missing directory")
	assert.NoError(t, pulumiproject.CheckDir(t.TempDir(), marker), "an empty directory")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(marker+" More.\n"), 0o644))
	assert.NoError(t, pulumiproject.CheckDir(dir, marker), "an earlier output")
}

func TestGoMod(t *testing.T) {
	got, err := pulumiproject.GoMod([]byte("module scratch\n\ngo 1.26.6\n\nrequire x v1.0.0\n"), "etl/gcp")
	require.NoError(t, err)
	assert.Equal(t, "module etl/gcp\n\ngo 1.26.6\n\nrequire x v1.0.0\n", string(got))
	_, err = pulumiproject.GoMod([]byte("go 1.26\n"), "x")
	assert.ErrorContains(t, err, "does not start with a module line")
}

func TestGoDirective(t *testing.T) {
	v, err := pulumiproject.GoDirective([]byte("module m\n\ngo 1.26.0\n\ntoolchain go1.26.8\n"))
	require.NoError(t, err)
	assert.Equal(t, "1.26.0", v)
	_, err = pulumiproject.GoDirective([]byte("module m\n"))
	assert.ErrorContains(t, err, "no go line")
}

func TestModuleFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"templates/go.mod.txt": {Data: []byte("module etl/x\n\ngo 1.26.6\n")},
		"templates/go.sum.txt": {Data: []byte("example.com/m v1.0.0 h1:abc=\n")},
	}
	goMod, goSum, err := pulumiproject.ModuleFiles(fsys, "templates", "orders/aws")
	require.NoError(t, err)
	assert.Equal(t, pulumiproject.File{Name: "go.mod", Data: []byte("module orders/aws\n\ngo 1.26.6\n")}, goMod)
	assert.Equal(t, pulumiproject.File{Name: "go.sum", Data: []byte("example.com/m v1.0.0 h1:abc=\n")}, goSum)

	_, _, err = pulumiproject.ModuleFiles(fsys, "elsewhere", "orders/aws")
	assert.Error(t, err)
}

func TestMarker(t *testing.T) {
	assert.Equal(t, "# Written by glacier compile --target aws.", pulumiproject.Marker("aws"))
}
