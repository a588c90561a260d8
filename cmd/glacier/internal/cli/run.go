package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/wasmrt"
	"github.com/spf13/cobra"
)

// RunOptions are the flags of glacier run.
type RunOptions struct {
	Parallel       int
	Force          bool
	JSON           bool
	CompileTimeout time.Duration
	CompileMemory  int
	// Remote is a deployed store's state URL whose results the run reuses.
	Remote string
	// Push uploads the run's results to Remote.
	Push bool
}

func newRunCmd(g *Globals) *cobra.Command {
	var opts RunOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Build what is stale and run the pipeline locally, each task in its own sandbox",
		Long: `Run builds every stale task module, imports the source files, and runs the
tasks in dependency order, independent ones in parallel, each in its own
WebAssembly sandbox that sees only its declared datasets and params.

A task whose module, inputs, params and compute settings are unchanged since a
successful run is not run again: its outputs are reused and it shows as
cached. When a task fails, its downstream tasks are skipped and the other
branches finish. A failed or interrupted task commits nothing.

On a terminal, a live line per task; otherwise one line per change. A summary
table at the end, or with --json the run record on stdout.

With --remote URL (a deployed pipeline's state, pulumi stack output state,
or another checkout's store, file:///path/to/.glacier), a task .glacier/
has no result for is looked up in that store too: an invocation it ran
with the same module, inputs, params and settings is reused, its outputs
copied in and checked by digest, and shows as cached (remote). That store
is only read, unless --push: then every task's result is uploaded to it
after the run (its outputs and memo entry, never its refs), so the next
execution there finds them cached. --push is refused when a task's module
is not the one that store's pipeline last ran.

` + exitCodesHelp,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRun(cmd, g, opts) },
	}
	cmd.Flags().IntVar(&opts.Parallel, "parallel", runtime.NumCPU(), "run up to `N` tasks at once")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "rerun every task, ignoring cached results")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the run record as JSON on stdout")
	cmd.Flags().DurationVar(&opts.CompileTimeout, "compile-timeout", wasmrt.DefaultCompileTimeout,
		"how long reading and compiling a module may take, for tasks whose compute sets no compile_timeout")
	cmd.Flags().IntVar(&opts.CompileMemory, "compile-memory", wasmrt.DefaultCompileMemory>>20,
		"`MiB` that reading and compiling a module may take, for tasks whose compute sets no compile_memory")
	remoteFlag(cmd, &opts.Remote, "reuse what the store at `URL` computed: a deployed pipeline's (s3://... or gs://..., from pulumi stack output state) or another checkout's (file:///path/to/.glacier); it is only read, unless --push")
	cmd.Flags().BoolVar(&opts.Push, "push", false, "upload the run's results to the --remote store, for the next execution in the cloud")
	return cmd
}

func runRun(cmd *cobra.Command, g *Globals, opts RunOptions) error {
	if opts.Parallel < 1 {
		return flagErrorf("--parallel must be at least 1, got %d", opts.Parallel)
	}
	if opts.CompileTimeout <= 0 {
		return flagErrorf("--compile-timeout must be positive, got %v", opts.CompileTimeout)
	}
	if opts.CompileMemory < 1 {
		return flagErrorf("--compile-memory must be at least 1 MiB, got %d", opts.CompileMemory)
	}
	ctx := cmd.Context()
	m, err := g.LoadManifest(ctx)
	if err != nil {
		return err
	}
	if opts.Push && opts.Remote == "" {
		return flagErrorf("--push needs --remote URL: the deployed store to push to")
	}
	var remote *store.Store
	var eo local.Options
	if opts.Remote != "" {
		if remote, err = store.Open(ctx, nil, opts.Remote, m.Pipeline.Name()); err != nil {
			return fmt.Errorf("--remote %s: %w", opts.Remote, err)
		}
		eo.Remote = remote
	}
	// Progress goes to stderr, so it shows with --json too.
	prog := newProgress(g.IO, m.Pipeline)
	eo.Dir, eo.Parallel, eo.Force = m.Dir, opts.Parallel, opts.Force
	// The executor builds under the store's lock: a run the lock refuses
	// must not rewrite the modules another run is using.
	eo.Build = func(ctx context.Context, _ *glacier.Pipeline) ([]build.Module, error) {
		mods, err := g.buildModules(ctx, m, g.IO.ErrOut, false)
		if err == nil && opts.Push {
			err = checkPush(mods, remote.Modules())
		}
		return mods, err
	}
	eo.Compile = wasmrt.CompileBudget{Timeout: opts.CompileTimeout, Memory: uint64(opts.CompileMemory) << 20}
	eo.Events = prog.event
	exec := local.New(eo)
	started := time.Now()
	report, runErr := m.Pipeline.Run(ctx, exec)
	prog.stop()
	if report == nil {
		return runErr
	}
	rec := exec.LastRun()
	if opts.Push {
		n, err := push(ctx, m, rec, remote)
		if err != nil {
			return fmt.Errorf("--push %s: %w", opts.Remote, err)
		}
		fmt.Fprintf(g.IO.ErrOut, "pushed the results of %d tasks to %s\n", n, opts.Remote)
	}
	if opts.JSON {
		enc := json.NewEncoder(g.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rec); err != nil {
			return err
		}
	} else {
		printSummary(g, rec, time.Since(started))
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return runErr
		}
		return SilentError{Err: runErr}
	}
	return nil
}

// printSummary prints the table of tasks and the failures. A map task's
// row says how many of its parts ran, were found in the memo or failed.
func printSummary(g *Globals, rec local.RunRecord, wall time.Duration) {
	header := []string{"TASK", "STATUS", "TIME", "IN", "OUT", "ATTEMPTS"}
	mapped := slices.ContainsFunc(rec.Tasks, func(t local.TaskRecord) bool { return t.Parts != nil })
	if mapped {
		header = append(header, "PARTS")
	}
	rows := [][]string{header}
	counts := map[glacier.TaskStatus]int{}
	for _, t := range rec.Tasks {
		counts[t.Status]++
		dur, in, out, attempts := "-", "-", "-", "-"
		if t.Attempts > 0 {
			dur = t.Duration.Round(time.Millisecond).String()
			in, out = humanBytes(t.BytesIn), humanBytes(t.BytesOut)
			attempts = fmt.Sprint(t.Attempts)
		}
		status := g.IO.paint(t.Status)
		if t.Remote {
			status += " (remote)"
		}
		row := []string{t.Task, status, dur, in, out, attempts}
		if mapped {
			row = append(row, partsSummary(t.Parts))
		}
		rows = append(rows, row)
	}
	fmt.Fprint(g.IO.Out, table(rows))
	canceled := ""
	if n := counts[glacier.StatusCanceled]; n > 0 {
		canceled = fmt.Sprintf(", %d canceled", n)
	}
	fmt.Fprintf(g.IO.Out, "\nrun %s %s in %s: %d succeeded, %d cached, %d failed, %d skipped%s\n",
		rec.RunID, rec.Status, wall.Round(time.Millisecond), counts[glacier.StatusSucceeded], counts[glacier.StatusCached],
		counts[glacier.StatusFailed], counts[glacier.StatusSkipped], canceled)
	for _, t := range rec.Tasks {
		switch {
		case t.Status == glacier.StatusFailed:
			fmt.Fprintf(g.IO.ErrOut, "\n%s\n  see its log: %s\n", t.Error, logsCommand(t))
		case t.Error != "" && t.Parts != nil:
			// A map task committed without the parts it tolerates to fail.
			fmt.Fprintf(g.IO.ErrOut, "\ntask %q committed without the parts that failed: %s\n  see a part's log: %s\n", t.Task, t.Error, logsCommand(t))
		}
	}
}

// partsSummary says what became of a map task's parts: "2 ran, 198
// cached, 1 failed"; "-" for a task that does not map.
func partsSummary(c *local.PartCounts) string {
	if c == nil {
		return "-"
	}
	var out []string
	for _, n := range []struct {
		n    int
		what string
	}{{c.Ran, "ran"}, {c.Cached, "cached"}, {c.Failed, "failed"}} {
		if n.n > 0 {
			out = append(out, thousands(n.n)+" "+n.what)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// logsCommand is the command that shows t's log: a failed part's, for a
// map task.
func logsCommand(t local.TaskRecord) string {
	if t.Parts != nil && len(t.Parts.FailedKeys) > 0 {
		return fmt.Sprintf("glacier logs %s --part %s", t.Task, shellQuote(t.Parts.FailedKeys[0].Key))
	}
	return "glacier logs " + t.Task
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// statusColor is the terminal color of each status word.
var statusColor = map[glacier.TaskStatus]string{
	glacier.StatusSucceeded: "32", glacier.StatusCached: "36", glacier.StatusFailed: "31", glacier.StatusSkipped: "33",
	glacier.StatusCanceled: "33", glacier.StatusRunning: "34", glacier.StatusRetrying: "35",
}

// paint colors a status word when color is on.
func (io *IO) paint(status glacier.TaskStatus) string {
	code := statusColor[status]
	if !io.Color || code == "" {
		return string(status)
	}
	return "\x1b[" + code + "m" + string(status) + "\x1b[0m"
}
