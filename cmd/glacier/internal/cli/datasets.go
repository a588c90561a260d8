package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/schema"
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
	// Schema is the dataset's contract, and SchemaFile the file it is
	// read from; both only with --schema.
	Schema     *schema.Schema `json:"schema,omitempty"`
	SchemaFile string         `json:"schema_file,omitempty"`
}

func newDatasetsCmd(g *Globals) *cobra.Command {
	var asJSON, contracts bool
	var remote string
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "List the datasets with their current version: size, digest, producing run",
		Long: `Datasets lists the datasets with their current version: size, digest,
producing run. With --schema it shows each dataset's contract instead: its
format and, for csv, every column with its type and rules, for jsonl and
json its JSON Schema. With --remote it reads a deployed pipeline's store.`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if remote != "" && !contracts {
				m, s, err := g.openRemote(cmd.Context(), remote)
				if err != nil {
					return err
				}
				infos, err := remoteDatasets(cmd.Context(), s, m)
				if err != nil {
					return err
				}
				return printDatasets(g, infos, asJSON)
			}
			if contracts {
				m, err := g.LoadManifest(cmd.Context())
				if err != nil {
					return err
				}
				return showContracts(g.IO.Out, m.Pipeline.Datasets(), asJSON)
			}
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
			return printDatasets(g, infos, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&contracts, "schema", false, "show each dataset's contract (its schema) instead of its version")
	remoteFlag(cmd, &remote, remoteUsage)
	return cmd
}

// printDatasets prints the rows of glacier datasets.
func printDatasets(g *Globals, infos []DatasetInfo, asJSON bool) error {
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
}

// showContracts prints each dataset's contract: a heading line, then for
// csv a table of its columns, for jsonl and json its JSON Schema.
func showContracts(w io.Writer, ds []glacier.Dataset, asJSON bool) error {
	if asJSON {
		infos := make([]DatasetInfo, len(ds))
		for i, d := range ds {
			infos[i] = DatasetInfo{Name: d.Name, Storage: d.Storage.StorageType(), Partitioned: d.Partitioned, Schema: d.Schema, SchemaFile: d.SchemaFile}
		}
		return writeJSON(w, infos)
	}
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		s := d.Schema
		if s == nil {
			fmt.Fprintf(w, "%s: no contract\n", d.Name)
			continue
		}
		head := fmt.Sprintf("%s: %s", d.Name, s.Format)
		if d.SchemaFile != "" {
			head += " (" + d.SchemaFile + ")"
		}
		if d.Partitioned {
			head += ", every part"
		}
		fmt.Fprintln(w, head)
		switch s.Format {
		case schema.CSV:
			rows := [][]string{{"  COLUMN", "TYPE", "EMPTY", "RULE"}}
			for _, c := range s.Columns {
				empty, rule := "no", "-"
				if c.Nullable {
					empty = "yes"
				}
				switch {
				case c.Pattern != "" && len(c.Enum) > 0:
					rule = "pattern " + c.Pattern + ", one of " + strings.Join(c.Enum, " ")
				case c.Pattern != "":
					rule = "pattern " + c.Pattern
				case len(c.Enum) > 0:
					rule = "one of " + strings.Join(c.Enum, " ")
				}
				rows = append(rows, []string{"  " + c.Name, string(c.Type), empty, rule})
			}
			fmt.Fprint(w, table(rows))
		case schema.JSONL, schema.JSON:
			if len(s.JSONSchema) == 0 {
				fmt.Fprintln(w, "  any JSON value")
				break
			}
			var b bytes.Buffer
			if err := json.Indent(&b, s.JSONSchema, "  ", "  "); err != nil {
				return fmt.Errorf("dataset %q: %w", d.Name, err)
			}
			fmt.Fprintf(w, "  %s\n", b.String())
		}
	}
	return nil
}

func newCatCmd(g *Globals) *cobra.Command {
	var part, remote string
	cmd := &cobra.Command{
		Use:   "cat DATASET",
		Short: "Write the current version of a dataset to stdout",
		Long: `Cat writes the current version of a dataset to stdout. For a partitioned
dataset it lists the keys of its parts, one a line, and with --part KEY
writes that part. With --remote it reads a deployed pipeline's store.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if remote != "" {
				m, s, err := g.openRemote(cmd.Context(), remote)
				if err != nil {
					return err
				}
				return remoteCat(cmd.Context(), s, m, a[0], part, g.IO.Out)
			}
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
	remoteFlag(cmd, &remote, remoteUsage)
	return cmd
}
