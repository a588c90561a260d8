package graph

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/glacier-pipeline/glacier/manifest"
)

// TestExampleREADME checks that the graph examples/etl's README shows is
// the one glacier graph prints.
func TestExampleREADME(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "etl")
	m, err := manifest.Load(filepath.Join(dir, manifest.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Write(&want, m.Pipeline, "mermaid"); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```mermaid\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("examples/etl/README.md has no mermaid block")
	}
	if string(block[1]) != want.String() {
		t.Errorf("examples/etl/README.md's graph is not what glacier graph prints; replace it with:\n%s", want.String())
	}
}
