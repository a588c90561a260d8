package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/spf13/cobra"
)

func newRunsCmd(g *Globals) *cobra.Command {
	var (
		asJSON bool
		limit  int
		remote string
	)
	cmd := &cobra.Command{
		Use:   "runs [RUN_ID]",
		Short: "List the pipeline's recent runs, or what each task did in one",
		Long: `Runs lists the pipeline's recent runs, newest first: when each started, how
long it took, its status and what became of its tasks. With a run id, it shows
each task of that run: its status (cached when its outputs came from the memo
and nothing ran), time, attempts and, for a map task, its parts. With
--remote it reads a deployed pipeline's store, where each task's function
recorded what it did.`,
		Args: args(0, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if limit < 1 {
				return flagErrorf("-n must be at least 1, got %d", limit)
			}
			if remote != "" {
				m, s, err := g.openRemote(cmd.Context(), remote)
				if err != nil {
					return err
				}
				id := ""
				if len(a) == 1 {
					id = a[0]
				}
				runs, err := remoteRuns(cmd.Context(), s, m, id, limit)
				switch {
				case err != nil:
					return err
				case id != "" && len(runs) == 0:
					return fmt.Errorf("no run %q in the deployed store; glacier runs --remote %s lists them", id, remote)
				case asJSON:
					return writeJSON(g.IO.Out, runs)
				case len(runs) == 0:
					fmt.Fprintf(g.IO.ErrOut, "pipeline %q has no runs in the deployed store yet\n", m.Pipeline.Name())
					return nil
				}
				printRemoteRuns(g, runs, id != "")
				return nil
			}
			m, store, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			if len(a) == 1 {
				rec, err := store.Run(a[0])
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("no run %q in the store; glacier runs lists them", a[0])
				}
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(g.IO.Out, rec)
				}
				printRun(g, rec)
				return nil
			}
			ids, err := store.Runs()
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			var recs []local.RunRecord
			for _, id := range ids {
				rec, err := store.Run(id)
				if err != nil || rec.Pipeline != m.Pipeline.Name() {
					continue // another pipeline's, or a run killed before its record
				}
				if recs = append(recs, rec); len(recs) == limit {
					break
				}
			}
			if asJSON {
				return writeJSON(g.IO.Out, recs)
			}
			if len(recs) == 0 {
				fmt.Fprintf(g.IO.ErrOut, "pipeline %q has no runs yet; glacier run makes one\n", m.Pipeline.Name())
				return nil
			}
			rows := [][]string{{"RUN", "STATUS", "STARTED", "TIME", "TASKS"}}
			for _, r := range recs {
				dur := "-"
				if !r.Finished.IsZero() {
					dur = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
				}
				rows = append(rows, []string{r.RunID, string(r.Status), r.Started.Local().Format("2006-01-02 15:04:05"), dur, taskCounts(r)})
			}
			fmt.Fprint(g.IO.Out, table(rows))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVarP(&limit, "n", "n", 20, "list at most `N` runs")
	remoteFlag(cmd, &remote, remoteUsage)
	return cmd
}

// taskCounts says what became of a run's tasks: "3 succeeded, 2 cached".
func taskCounts(r local.RunRecord) string {
	counts := map[glacier.TaskStatus]int{}
	for _, t := range r.Tasks {
		counts[t.Status]++
	}
	out := ""
	for _, st := range []glacier.TaskStatus{glacier.StatusSucceeded, glacier.StatusCached, glacier.StatusFailed,
		glacier.StatusSkipped, glacier.StatusCanceled, glacier.StatusRunning} {
		if counts[st] > 0 {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%d %s", counts[st], st)
		}
	}
	if out == "" {
		return "none"
	}
	return out
}

// printRun prints what each task did in one run.
func printRun(g *Globals, r local.RunRecord) {
	fmt.Fprintf(g.IO.ErrOut, "run %s of pipeline %s, started %s: %s\n", r.RunID, r.Pipeline, r.Started.Local().Format("2006-01-02 15:04:05"), r.Status)
	rows := [][]string{{"TASK", "STATUS", "TIME", "ATTEMPTS", "PARTS"}}
	for _, t := range r.Tasks {
		dur, attempts := "-", "-"
		if t.Attempts > 0 {
			dur, attempts = t.Duration.Round(time.Millisecond).String(), fmt.Sprint(t.Attempts)
		}
		rows = append(rows, []string{t.Task, g.IO.paint(t.Status), dur, attempts, partsSummary(t.Parts)})
	}
	fmt.Fprint(g.IO.Out, table(rows))
}
