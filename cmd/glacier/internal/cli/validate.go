package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the manifest and the pipeline, reporting every problem at once",
		Long: `Validate reads the manifest and checks the pipeline: unknown keys, bad values,
cycles, datasets with no producer or two, undeclared datasets, tasks without a
module, sources that are missing, not regular files, or outside the project.
It prints every problem with its line, or one OK line.

Exit codes: 0 valid (warnings may be printed), 1 invalid, 2 usage error.`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := g.loadManifest(cmd.Context(), true)
			if err != nil {
				return err
			}
			p := m.Pipeline
			fmt.Fprintf(g.IO.Out, "ok: %s: pipeline %q is valid (%d datasets, %d tasks)\n",
				m.Path, p.Name(), len(p.Datasets()), len(p.Tasks()))
			return nil
		},
	}
}
