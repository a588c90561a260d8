package cli

import (
	"fmt"
	"io"

	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/spf13/cobra"
)

func newLogsCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logs TASK",
		Short: "Print a task's log from the latest run that ran it",
		Long: `Logs prints what the task wrote to stdout and stderr, with the sandbox's own
notes (denied access, faults) prefixed "glacier:", from the latest run in
which the task ran (cached runs do not count).`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, store, err := g.openStore(cmd.Context())
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
			rec, tr, err := store.LatestRunOf(m.Pipeline.Name(), a[0])
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
