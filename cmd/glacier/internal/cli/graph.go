package cli

import (
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/graph"
	"github.com/spf13/cobra"
)

func newGraphCmd(g *Globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Print the pipeline's data flow as Mermaid or Graphviz DOT",
		Long: `Graph prints tasks and datasets as nodes, with an edge from each dataset to
the tasks that read it and from each task to the datasets it writes.

  glacier graph > flow.mmd
  glacier graph --format dot | dot -Tsvg > flow.svg`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !contains(graph.Formats, format) {
				return flagErrorf("unknown --format %q; use %s", format, strings.Join(graph.Formats, " or "))
			}
			m, err := g.LoadManifest(cmd.Context())
			if err != nil {
				return err
			}
			return graph.Write(g.IO.Out, m.Pipeline, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "mermaid", "output `FORMAT`: mermaid or dot")
	return cmd
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
