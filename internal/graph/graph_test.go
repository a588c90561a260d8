package graph

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/manifest"
)

// TestExampleREADME checks that the graph each example's README shows is
// the one glacier graph prints.
func TestExampleREADME(t *testing.T) {
	for _, example := range []string{"etl", "logs"} {
		dir := filepath.Join("..", "..", "examples", example)
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
			t.Fatalf("examples/%s/README.md has no mermaid block", example)
		}
		if string(block[1]) != want.String() {
			t.Errorf("examples/%s/README.md's graph is not what glacier graph prints; replace it with:\n%s", example, want.String())
		}
	}
}

// TestPartitions checks how both formats show a partitioned dataset and
// the edge a map task maps over.
func TestPartitions(t *testing.T) {
	p := glacier.New("p")
	for _, d := range []glacier.Dataset{{Name: "logs", Source: "logs", Partitioned: true}, {Name: "x"}, {Name: "out", Partitioned: true}} {
		d.Storage = glacier.ObjectStorage{}
		if err := p.AddDataset(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AddTask(glacier.Task{Name: "parse", Module: "p.wasm", Inputs: []string{"logs", "x"}, Outputs: []string{"out"}, Map: "logs"}); err != nil {
		t.Fatal(err)
	}
	for format, want := range map[string][]string{
		"mermaid": {`d_logs[("logs (parts)<br/><i>logs</i>")]`, `d_out[("out (parts)")]`, "d_logs -->|map| t_parse\n", "d_x --> t_parse\n"},
		"dot":     {`"dataset:logs" [label="logs (parts)\nlogs"`, `"dataset:logs" -> "task:parse" [label="map"];`, `"dataset:x" -> "task:parse";`},
	} {
		var b bytes.Buffer
		if err := Write(&b, p, format); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !bytes.Contains(b.Bytes(), []byte(w)) {
				t.Errorf("%s lacks %q:\n%s", format, w, b.String())
			}
		}
	}
}
