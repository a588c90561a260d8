package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/spf13/cobra"
)

// Version returns the glacier module's version, or "devel" in a source tree.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func newVersionCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print glacier's version, Go version and host ABI",
		Args:  args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(g.IO.Out, "glacier %s (%s, %s/%s, host ABI %s)\n",
				Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, abi.ModuleName)
			return err
		},
	}
}
