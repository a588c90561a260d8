package pulumiproject_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

func TestProgramFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"program/b.go": {Data: []byte("//go:build glacier_program\n\npackage main\n\nfunc b() {}\n")},
		"program/a.go": {Data: []byte("//go:build glacier_program\n\npackage main\n\nvar a = 1\n")},
		"program/x.md": {Data: []byte("not Go")},
	}
	files, err := pulumiproject.ProgramFiles(fsys, "program")
	require.NoError(t, err)
	assert.Equal(t, []pulumiproject.File{
		{Name: "a.go", Data: []byte("package main\n\nvar a = 1\n")},
		{Name: "b.go", Data: []byte("package main\n\nfunc b() {}\n")},
	}, files, "sorted, without their build constraint")

	// A file the repository would build is refused.
	fsys["program/c.go"] = &fstest.MapFile{Data: []byte("package main\n")}
	_, err = pulumiproject.ProgramFiles(fsys, "program")
	assert.ErrorContains(t, err, `program/c.go does not start with "//go:build glacier_program\n"`)

	_, err = pulumiproject.ProgramFiles(fsys, "none")
	assert.ErrorContains(t, err, "no program files in none")
}

func TestDeclared(t *testing.T) {
	files := []pulumiproject.File{
		{Name: "a.go", Data: []byte(`package main

import (
	_ "embed"
	"strings"

	s3x "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type dataset struct{ Name string }

func (d *dataset) URL() string { return d.Name }

var tags, labels = map[string]string{}, 1

const region = "us-east-1"

func newDataset() {}
`)},
		{Name: "b.go", Data: []byte("package main\n\nimport \"strings\"\n\nfunc newTask() {}\n")},
	}
	names, err := pulumiproject.Declared(files)
	require.NoError(t, err)
	assert.Equal(t, []string{"dataset", "labels", "newDataset", "newTask", "pulumi", "region", "s3x", "strings", "tags"}, names,
		"package-level names and imports, once each; no methods, no blank imports")

	_, err = pulumiproject.Declared([]pulumiproject.File{{Name: "bad.go", Data: []byte("package")}})
	assert.Error(t, err)
}
