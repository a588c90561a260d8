package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/glacier-pipeline/glacier/providers/local"
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
	// Partitioned datasets count their parts; Size is then all of them.
	Partitioned bool `json:"partitioned,omitempty"`
	Parts       int  `json:"parts,omitempty"`
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
				info.Partitioned = d.Partitioned
				if d.Partitioned && info.SHA256 != "" {
					// The version found above is the list of parts.
					if parts, err := store.Parts(local.Version{Digest: info.SHA256, Size: info.Size}); err == nil {
						info.Parts, info.Size = len(parts), 0
						for _, p := range parts {
							info.Size += p.Size
						}
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
					if in.Partitioned {
						size += fmt.Sprintf(" in %s parts", thousands(in.Parts))
					}
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
	var part string
	cmd := &cobra.Command{
		Use:   "cat DATASET",
		Short: "Write the current version of a dataset to stdout",
		Long: `Cat writes the current version of a dataset to stdout. For a partitioned
dataset it lists the keys of its parts, one a line, and with --part KEY
writes that part.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, store, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			d, ok := m.Pipeline.Dataset(a[0])
			var r io.ReadCloser
			switch {
			case ok && d.Partitioned && part == "":
				parts, err := store.PartsOf(m.Pipeline, a[0])
				if err != nil {
					return err
				}
				for _, p := range parts {
					fmt.Fprintln(g.IO.Out, p.Key)
				}
				return nil
			case ok && !d.Partitioned && part != "":
				return fmt.Errorf("dataset %q is not partitioned, so it has no parts; leave out --part", a[0])
			case part != "":
				r, _, err = store.OpenPart(m.Pipeline, a[0], part)
			default:
				r, _, err = store.Open(m.Pipeline, a[0])
			}
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(g.IO.Out, r)
			return err
		},
	}
	cmd.Flags().StringVar(&part, "part", "", "the key of the part of a partitioned dataset to write")
	return cmd
}
