package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/spf13/cobra"
)

func newLineageCmd(g *Globals) *cobra.Command {
	var asJSON bool
	var remote string
	cmd := &cobra.Command{
		Use:   "lineage DATASET",
		Short: "Show what produced a dataset's current version, down to the sources",
		Long: `Lineage shows the task, module digest and input versions that produced the
dataset's current version, and recursively what produced those inputs, down to
the source files. With --remote it reads a deployed pipeline's store.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			var node *local.LineageNode
			if remote != "" {
				m, s, err := g.openRemote(cmd.Context(), remote)
				if err != nil {
					return err
				}
				if node, err = remoteLineage(cmd.Context(), s, m, a[0]); err != nil {
					return err
				}
			} else {
				m, store, err := g.openStore(cmd.Context())
				if err != nil {
					return err
				}
				if node, err = store.Lineage(m.Pipeline, a[0]); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(g.IO.Out, node)
			}
			printLineage(g.IO.Out, node, "", "")
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	remoteFlag(cmd, &remote, remoteUsage)
	return cmd
}

func printLineage(w io.Writer, n *local.LineageNode, first, rest string) {
	what := ""
	switch {
	case n.Source != "":
		what = "source " + n.Source
	case n.Task != "":
		what = fmt.Sprintf("task %s, module sha256:%s, run %s", n.Task, short(n.Module), n.RunID)
		if len(n.Params) > 0 {
			var ps []string
			for _, k := range slices.Sorted(maps.Keys(n.Params)) {
				ps = append(ps, k+"="+strconv.Quote(n.Params[k]))
			}
			what += ", params " + strings.Join(ps, " ")
		}
	default:
		what = "origin unknown: " + n.Note
	}
	size := humanBytes(n.Version.Size)
	if n.Parts > 0 {
		size = fmt.Sprintf("%s in %s parts", humanBytes(n.PartsSize), thousands(n.Parts))
	}
	fmt.Fprintf(w, "%s%s  sha256:%s  %s  (%s)\n", first, n.Dataset, short(n.Version.Digest), size, what)
	for i, in := range n.Inputs {
		if i == len(n.Inputs)-1 {
			printLineage(w, in, rest+"└── ", rest+"    ")
		} else {
			printLineage(w, in, rest+"├── ", rest+"│   ")
		}
	}
}
