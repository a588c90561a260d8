package cli

import "github.com/spf13/cobra"

func newBuildCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "build",
		Short: "Build every task's WebAssembly module",
		Long: `Build compiles each task with build: using GOOS=wasip1 GOARCH=wasm go build, in
parallel, into .glacier/modules/. The go command's cache makes an unchanged
task cheap; each module is printed with its size and sha256, which is the
identity every target (local, AWS, GCP) runs.`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := g.LoadManifest(cmd.Context())
			if err != nil {
				return err
			}
			_, err = g.buildModules(cmd.Context(), m, g.IO.Out, true)
			return err
		},
	}
}
