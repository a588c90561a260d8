package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/providers/local"
)

func newLogsCmd(g *Globals) *cobra.Command {
	var part string
	cmd := &cobra.Command{
		Use:   "logs TASK",
		Short: "Print a task's log from the latest run that ran it",
		Long: `Logs prints what the task wrote to stdout and stderr, with the sandbox's own
notes (denied access, faults) prefixed "glacier:", from the latest run in
which the task ran (cached runs do not count). A map task keeps a log per
part: --part KEY prints that part's, and without it every part's log is
printed after a line naming the part.`,
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
			if t, _ := m.Pipeline.Task(a[0]); t.Map != "" {
				return partLogs(g, store, tr, part)
			}
			if part != "" {
				return fmt.Errorf("task %q is not a map task, so it has no logs by part; leave out --part", a[0])
			}
			r, err := store.OpenLog(tr)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(g.IO.Out, r)
			return err
		},
	}
	cmd.Flags().StringVar(&part, "part", "", "for a map task, the key of the part whose log to print")
	return cmd
}

// partLogs prints the log of one part of a map task, or of every part
// that ran, each after a line naming it.
func partLogs(g *Globals, store *local.Store, tr local.TaskRecord, part string) error {
	keys := []string{part}
	if part == "" {
		var err error
		if keys, err = store.PartLogs(tr); err != nil {
			return err
		}
		if len(keys) == 0 {
			// Say why there is nothing, rather than print nothing.
			fmt.Fprintf(g.IO.ErrOut, "no part left a log in that run: %s; a part that ran and wrote nothing to stdout or stderr leaves none\n",
				partsSummary(tr.Parts))
			return nil
		}
	}
	for _, key := range keys {
		r, err := store.OpenPartLog(tr, key)
		if err != nil {
			return err
		}
		if part == "" {
			fmt.Fprintf(g.IO.Out, "--- part %s\n", key)
		}
		_, err = io.Copy(g.IO.Out, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
