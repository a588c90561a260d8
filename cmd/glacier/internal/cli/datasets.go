package cli

import (
	"fmt"
	"io"

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
			m, store, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			var infos []DatasetInfo
			for _, d := range m.Pipeline.Datasets() {
				info := DatasetInfo{Name: d.Name, Storage: d.Storage.StorageType()}
				if d.Source != "" {
					info.From = "source " + d.Source
					if ref, ok := store.SourceRef(m.Pipeline.Name(), d.Name); ok {
						info.Size, info.SHA256, info.RunID = ref.Version.Size, ref.Version.Digest, ref.RunID
					}
				} else if prod, ok := m.Pipeline.Producer(d.Name); ok {
					info.From = "task " + prod.Name
					if ref, ok := store.TaskRef(m.Pipeline.Name(), prod.Name); ok {
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
			m, store, err := g.openStore(cmd.Context())
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
