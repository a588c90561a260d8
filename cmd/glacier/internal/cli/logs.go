package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/store"
)

func newLogsCmd(g *Globals) *cobra.Command {
	var part, remote string
	cmd := &cobra.Command{
		Use:   "logs TASK",
		Short: "Print a task's log from the latest run that ran it",
		Long: `Logs prints what the task wrote to stdout and stderr, with the sandbox's own
notes (denied access, faults) prefixed "glacier:", from the latest run in
which the task ran (cached runs do not count). A map task keeps a log per
part: --part KEY prints that part's, and without it every part's log is
printed after a line naming the part.

With --remote, the log is the end of it that the deployed function kept in
the run's record, followed by a link to the cloud's whole log of that
invocation (CloudWatch or Cloud Logging); a map task's part that ran keeps a
record of its own, which --part KEY prints.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if remote != "" {
				m, s, err := g.openRemote(cmd.Context(), remote)
				if err != nil {
					return err
				}
				if err := checkTask(m, a[0]); err != nil {
					return err
				}
				if t, _ := m.Pipeline.Task(a[0]); part != "" && t.Map == "" {
					return fmt.Errorf("task %q is not a map task, so it has no logs by part; leave out --part", a[0])
				}
				return remoteLogs(cmd.Context(), g, s, m, a[0], part, remote)
			}
			m, st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			if err := checkTask(m, a[0]); err != nil {
				return err
			}
			rec, tr, err := st.LatestRunOf(m.Pipeline.Name(), a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(g.IO.ErrOut, "task %s, run %s: %s\n", a[0], rec.RunID, tr.Status)
			if t, _ := m.Pipeline.Task(a[0]); t.Map != "" {
				return partLogs(g, st, tr, part)
			}
			if part != "" {
				return fmt.Errorf("task %q is not a map task, so it has no logs by part; leave out --part", a[0])
			}
			r, err := st.OpenLog(tr)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(g.IO.Out, r)
			return err
		},
	}
	cmd.Flags().StringVar(&part, "part", "", "for a map task, the key of the part whose log to print")
	remoteFlag(cmd, &remote, remoteUsage)
	return cmd
}

// checkTask refuses a task m's pipeline does not have, suggesting one it
// does.
func checkTask(m *manifest.Manifest, task string) error {
	if _, ok := m.Pipeline.Task(task); ok {
		return nil
	}
	var names []string
	for _, t := range m.Pipeline.Tasks() {
		names = append(names, t.Name)
	}
	return fmt.Errorf("no task %q in pipeline %q%s", task, m.Pipeline.Name(), suggest.DidYouMean(task, names))
}

// remoteLogs prints what the deployed store's newest record of a run in
// which task ran (not cached) kept of its log, and where the rest is: the
// task's record, or with part that part's.
func remoteLogs(ctx context.Context, g *Globals, s *store.Store, m *manifest.Manifest, task, part, url string) error {
	ids, err := s.Runs(ctx)
	if err != nil {
		return err
	}
	what := "task " + task
	if part != "" {
		what = fmt.Sprintf("task %s, part %s", task, part)
	}
	for _, id := range ids {
		rt, ok, err := s.RunTaskOf(ctx, id, task)
		if part != "" {
			rt, ok, err = s.RunPartOf(ctx, id, task, part)
		}
		if err != nil {
			return err
		}
		if !ok || rt.Cached {
			continue
		}
		fmt.Fprintf(g.IO.ErrOut, "%s, run %s: %s\n", what, id, rt.Status)
		if _, err := io.WriteString(g.IO.Out, rt.Log); err != nil {
			return err
		}
		if rt.Error != "" && !strings.Contains(rt.Log, rt.Error) {
			fmt.Fprintf(g.IO.ErrOut, "glacier: %s\n", rt.Error)
		}
		if rt.LogDropped > 0 {
			fmt.Fprintf(g.IO.ErrOut, "the record keeps the end of the log; the %s before it are only in the cloud's log\n", humanBytes(rt.LogDropped))
		}
		if rt.LogsURL != "" {
			fmt.Fprintf(g.IO.ErrOut, "the whole log: %s\n", rt.LogsURL)
		}
		return nil
	}
	if part != "" {
		return fmt.Errorf("part %q of task %q has not run in the deployed pipeline %q at %s (a part found in the memo keeps no log; glacier cat --remote %s lists the keys of a dataset)",
			part, task, m.Pipeline.Name(), url, url)
	}
	return fmt.Errorf("task %q has not run in the deployed pipeline %q at %s (cached runs keep no new log)", task, m.Pipeline.Name(), url)
}

// partLogs prints the log of one part of a map task, or of every part
// that ran, each after a line naming it.
func partLogs(g *Globals, st *local.Store, tr local.TaskRecord, part string) error {
	keys := []string{part}
	if part == "" {
		var err error
		if keys, err = st.PartLogs(tr); err != nil {
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
		r, err := st.OpenPartLog(tr, key)
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
