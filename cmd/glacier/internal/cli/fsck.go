package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newFsckCmd(g *Globals) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "fsck [--repair]",
		Short: "Check every object and record in the local store; --repair removes what is corrupt",
		Long: `Fsck checks the local store in .glacier: every object's bytes must hash to
its name, and every memo entry and ref must parse and name objects that are
there. Reads check objects already (cat, and every task's inputs, fail on a
corrupt one); fsck checks them all at once, including what nothing reads.

With --repair it removes what is corrupt: objects whose bytes differ from
their names, records that name missing objects, leftover temporary files.
The store then only lacks things, as if they had been deleted: the next
glacier run makes them again.

Exit codes: 0 the store is sound (or was repaired), 1 problems remain.`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, store, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			unlock, err := store.Lock()
			if err != nil {
				return err
			}
			defer unlock()
			rep, err := store.Fsck(repair)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.IO.Out, "checked %d objects (%s) and %d records in %s\n",
				rep.Objects, humanBytes(rep.Bytes), rep.Records, store.Root())
			for _, p := range rep.Problems {
				done := ""
				if p.Repaired {
					done = " (removed)"
				}
				fmt.Fprintf(g.IO.Out, "%s: %s%s\n", p.Path, p.What, done)
			}
			switch left := rep.Unrepaired(); {
			case len(rep.Problems) == 0:
				fmt.Fprintln(g.IO.Out, "ok: no problems")
			case left == 0:
				fmt.Fprintf(g.IO.Out, "repaired %s; glacier run makes what is missing again\n", plural(len(rep.Problems), "problem"))
			default:
				err := fmt.Errorf("%s; run glacier fsck --repair, then glacier run", plural(left, "problem"))
				fmt.Fprintf(g.IO.ErrOut, "error: %v\n", err)
				return SilentError{Err: err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "remove corrupt objects and records, so the next run makes them again")
	return cmd
}
