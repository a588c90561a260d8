package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/spf13/cobra"
)

// DatasetInfo is one row of glacier datasets.
type DatasetInfo struct {
	Name    string `json:"name"`
	Storage string `json:"storage"`
	// From is "source PATH" or "task NAME".
	From   string `json:"from"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// RunID is the run that produced (or imported) the current version.
	RunID string `json:"run_id,omitempty"`
}

func newDatasetsCmd(g *Globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "List the datasets with their current version: size, digest, producing run",
		Args:  args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, store, err := g.openStore()
			if err != nil {
				return err
			}
			var infos []DatasetInfo
			for _, d := range m.Pipeline.Datasets() {
				info := DatasetInfo{Name: d.Name, Storage: d.Storage.StorageType()}
				if d.Source != "" {
					info.From = "source " + d.Source
					if ref, ok := store.SourceRef(d.Name); ok {
						info.Size, info.SHA256, info.RunID = ref.Version.Size, ref.Version.Digest, ref.RunID
					}
				} else if prod, ok := m.Pipeline.Producer(d.Name); ok {
					info.From = "task " + prod.Name
					if ref, ok := store.TaskRef(prod.Name); ok {
						v := ref.Outputs[d.Name]
						info.Size, info.SHA256, info.RunID = v.Size, v.Digest, ref.RunID
					}
				}
				infos = append(infos, info)
			}
			if asJSON {
				return writeJSON(g.IO.Out, infos)
			}
			rows := [][]string{{"DATASET", "FROM", "SIZE", "SHA256", "RUN"}}
			for _, in := range infos {
				size, sum, run := "-", "(none yet)", "-"
				if in.SHA256 != "" {
					size, sum, run = humanBytes(in.Size), short(in.SHA256), in.RunID
				}
				rows = append(rows, []string{in.Name, in.From, size, sum, run})
			}
			fmt.Fprint(g.IO.Out, table(rows))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCatCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cat DATASET",
		Short: "Write the current version of a dataset to stdout",
		Args:  args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, store, err := g.openStore()
			if err != nil {
				return err
			}
			r, _, err := store.Open(m.Pipeline, a[0])
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(g.IO.Out, r)
			return err
		},
	}
}

func newLogsCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logs TASK",
		Short: "Print a task's log from the latest run that ran it",
		Long: `Logs prints what the task wrote to stdout and stderr, with the sandbox's own
notes (denied access, faults) prefixed "glacier:", from the latest run in
which the task ran (cached runs do not count).`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, store, err := g.openStore()
			if err != nil {
				return err
			}
			if _, ok := m.Pipeline.Task(a[0]); !ok {
				var names []string
				for _, t := range m.Pipeline.Tasks() {
					names = append(names, t.Name)
				}
				return fmt.Errorf("no task %q in pipeline %q%s", a[0], m.Pipeline.Name(), suggest.DidYouMean(a[0], names))
			}
			rec, tr, err := store.LatestRunOf(a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(g.IO.ErrOut, "task %s, run %s: %s\n", a[0], rec.RunID, tr.Status)
			r, err := store.OpenLog(tr)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(g.IO.Out, r)
			return err
		},
	}
}

func newLineageCmd(g *Globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "lineage DATASET",
		Short: "Show what produced a dataset's current version, down to the sources",
		Long: `Lineage shows the task, module digest and input versions that produced the
dataset's current version, and recursively what produced those inputs, down to
the source files.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, store, err := g.openStore()
			if err != nil {
				return err
			}
			node, err := store.Lineage(m.Pipeline, a[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.IO.Out, node)
			}
			printLineage(g.IO.Out, node, "", "")
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
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
	fmt.Fprintf(w, "%s%s  sha256:%s  %s  (%s)\n", first, n.Dataset, short(n.Version.Digest), humanBytes(n.Version.Size), what)
	for i, in := range n.Inputs {
		if i == len(n.Inputs)-1 {
			printLineage(w, in, rest+"└── ", rest+"    ")
		} else {
			printLineage(w, in, rest+"├── ", rest+"│   ")
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
