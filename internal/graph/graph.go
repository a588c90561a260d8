// Package graph renders a pipeline's data flow as Mermaid or Graphviz DOT:
// tasks and datasets are nodes, and edges run from each dataset to the tasks
// that read it and from each task to the datasets it writes. A partitioned
// dataset says so in its label, and the edge a map task maps over is
// labelled "map".
package graph

import (
	"fmt"
	"io"
	"strings"

	"github.com/glacier-pipeline/glacier"
)

// Formats lists the formats Write accepts.
var Formats = []string{"mermaid", "dot"}

// Write renders p in the given format.
func Write(w io.Writer, p *glacier.Pipeline, format string) error {
	switch format {
	case "mermaid":
		return mermaid(w, p)
	case "dot":
		return dot(w, p)
	default:
		return fmt.Errorf("unknown graph format %q; use %s", format, strings.Join(Formats, " or "))
	}
}

func mermaid(w io.Writer, p *glacier.Pipeline) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, d := range p.Datasets() {
		label := d.Name
		if d.Partitioned {
			label += " (parts)"
		}
		if d.Source != "" {
			label += "<br/><i>" + d.Source + "</i>"
		}
		fmt.Fprintf(&b, "  d_%s[(\"%s\")]\n", mermaidID(d.Name), label)
	}
	for _, t := range p.Tasks() {
		fmt.Fprintf(&b, "  t_%s[\"%s\"]\n", mermaidID(t.Name), t.Name)
	}
	for _, t := range p.Tasks() {
		for _, in := range t.Inputs {
			arrow := "-->"
			if in == t.Map {
				arrow = "-->|map|"
			}
			fmt.Fprintf(&b, "  d_%s %s t_%s\n", mermaidID(in), arrow, mermaidID(t.Name))
		}
		for _, out := range t.Outputs {
			fmt.Fprintf(&b, "  t_%s --> d_%s\n", mermaidID(t.Name), mermaidID(out))
		}
	}
	b.WriteString("  classDef dataset fill:#e8f1fb,stroke:#4a7ab5\n  classDef task fill:#fff4e0,stroke:#b5834a\n")
	for _, d := range p.Datasets() {
		fmt.Fprintf(&b, "  class d_%s dataset\n", mermaidID(d.Name))
	}
	for _, t := range p.Tasks() {
		fmt.Fprintf(&b, "  class t_%s task\n", mermaidID(t.Name))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidID keeps ids to letters, digits and '_' (names may contain '-').
func mermaidID(name string) string { return strings.ReplaceAll(name, "-", "__") }

func dot(w io.Writer, p *glacier.Pipeline) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=LR;\n", p.Name())
	for _, d := range p.Datasets() {
		label := d.Name
		if d.Partitioned {
			label += " (parts)"
		}
		if d.Source != "" {
			label += "\n" + d.Source // %q below writes it as DOT's \n
		}
		fmt.Fprintf(&b, "  %q [label=%q, shape=cylinder];\n", "dataset:"+d.Name, label)
	}
	for _, t := range p.Tasks() {
		fmt.Fprintf(&b, "  %q [label=%q, shape=box, style=rounded];\n", "task:"+t.Name, t.Name)
	}
	for _, t := range p.Tasks() {
		for _, in := range t.Inputs {
			attrs := ""
			if in == t.Map {
				attrs = ` [label="map"]`
			}
			fmt.Fprintf(&b, "  %q -> %q%s;\n", "dataset:"+in, "task:"+t.Name, attrs)
		}
		for _, out := range t.Outputs {
			fmt.Fprintf(&b, "  %q -> %q;\n", "task:"+t.Name, "dataset:"+out)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
