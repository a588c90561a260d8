// Package cli implements the glacier command: one file per command, each a
// constructor that fills an options struct from flags and a function that
// acts on it. Main turns errors into the documented exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, documented in the root help.
const (
	ExitOK          = 0
	ExitFailure     = 1 // a task failed or the pipeline is invalid
	ExitUsage       = 2 // bad flags or arguments
	ExitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    the pipeline is invalid, or a task failed
  2    bad flags or arguments
  130  interrupted (Ctrl-C or SIGTERM); nothing partial was committed`

// IO holds the streams a command reads and writes, so tests can capture them.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// TTY reports whether Out and ErrOut are terminals: color.
	TTY bool
	// ErrTTY reports whether ErrOut is a terminal: live progress, which
	// goes there, also under --json.
	ErrTTY bool
	// Color is TTY without NO_COLOR.
	Color bool
	// Height returns the terminal's height in lines, or 0 if unknown.
	Height func() int
}

// SystemIO returns the process's standard streams.
func SystemIO() *IO {
	errTTY := isTerminal(os.Stderr)
	tty := isTerminal(os.Stdout) && errTTY
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, TTY: tty, ErrTTY: errTTY, Color: tty && !noColor,
		Height: func() int {
			_, h, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0
			}
			return h
		}}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Globals are the flags every command shares.
type Globals struct {
	IO *IO
	// Dir is -C: the directory to work in, like git -C and make -C.
	Dir string
	// File is -f: the manifest, relative to Dir unless absolute.
	File string
}

// ManifestPath returns the manifest's path.
func (g *Globals) ManifestPath() string {
	f := g.File
	if f == "" {
		f = manifest.DefaultFile
	}
	if filepath.IsAbs(f) {
		return f
	}
	return filepath.Join(g.Dir, f)
}

// LoadManifest loads the manifest and fails on structural or validation
// errors, printing every problem and every warning first. It returns
// ctx's error as soon as ctx is done, however far reading, parsing and
// validating got: none of them writes anything, so nothing is left half
// done.
func (g *Globals) LoadManifest(ctx context.Context) (*manifest.Manifest, error) {
	return g.loadManifest(ctx, false)
}

// loadManifest is LoadManifest; with files, the files the manifest names
// are checked too (see manifest.FileDiagnostics).
func (g *Globals) loadManifest(ctx context.Context, files bool) (*manifest.Manifest, error) {
	type loaded struct {
		m           *manifest.Manifest
		err         error
		errs, warns []string
	}
	done := make(chan loaded, 1)
	go func() {
		var l loaded
		l.m, l.err = manifest.Load(g.ManifestPath())
		if l.m != nil {
			l.errs, l.warns = l.m.Diagnostics()
			if files {
				l.errs = append(l.errs, l.m.FileDiagnostics()...)
			}
		}
		done <- l
	}()
	var l loaded
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case l = <-done:
	}
	m, err, errs, warns := l.m, l.err, l.errs, l.warns
	if m == nil {
		return nil, err
	}
	for _, w := range warns {
		fmt.Fprintf(g.IO.ErrOut, "warning: %s\n", w)
	}
	var merr *manifest.Error
	if errors.As(err, &merr) || len(errs) > 0 {
		if merr != nil {
			fmt.Fprintln(g.IO.ErrOut, merr.Error())
		}
		for _, e := range errs {
			fmt.Fprintln(g.IO.ErrOut, e)
		}
		n := len(errs)
		if merr != nil {
			n += len(merr.Issues)
		}
		them := "them"
		if n == 1 {
			them = "it"
		}
		fmt.Fprintf(g.IO.ErrOut, "%s: %s; fix %s and run glacier validate again\n", g.ManifestPath(), plural(n, "problem"), them)
		return nil, SilentError{Err: fmt.Errorf("%s: %s", g.ManifestPath(), plural(n, "problem"))}
	}
	return m, err
}

// SilentError is an error whose message was already shown to the user.
type SilentError struct{ Err error }

// Error returns the wrapped error's message.
func (e SilentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e SilentError) Unwrap() error { return e.Err }

// FlagError is a usage mistake: Main prints the usage hint and exits 2.
type FlagError struct{ Err error }

// Error returns the wrapped error's message.
func (e FlagError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e FlagError) Unwrap() error { return e.Err }

// flagErrorf returns a FlagError.
func flagErrorf(format string, args ...any) error {
	return FlagError{Err: fmt.Errorf(format, args...)}
}

// Main runs the glacier command with the process's arguments and streams and
// returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, SystemIO(), os.Args[1:])
}

// Run runs the glacier command with the given arguments and returns the exit
// code.
func Run(ctx context.Context, io *IO, args []string) int {
	g := &Globals{IO: io}
	root := NewRoot(g)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var silent SilentError
	var flagErr FlagError
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		fmt.Fprintln(io.ErrOut, "interrupted; nothing partial was committed")
		return ExitInterrupted
	case errors.As(err, &silent):
		return ExitFailure
	case errors.As(err, &flagErr) || isCobraUsageError(err):
		fmt.Fprintf(io.ErrOut, "error: %v\nRun 'glacier help' for usage.\n", err)
		return ExitUsage
	default:
		fmt.Fprintf(io.ErrOut, "error: %v\n", err)
		return ExitFailure
	}
}

// NewRoot builds the command tree.
func NewRoot(g *Globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "glacier",
		Short: "Declare, run and compile data pipelines whose tasks run in a WebAssembly sandbox",
		Long: `Glacier runs data pipelines declared in glacier.yaml. Each task is a WASI
module (ordinary Go built with GOOS=wasip1 GOARCH=wasm) that sees only the
datasets it declares. The same module runs locally and, compiled, in AWS
Lambda and Google Cloud Functions.

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVarP(&g.Dir, "dir", "C", ".", "run as if glacier was started in `DIR`")
	root.PersistentFlags().StringVarP(&g.File, "file", "f", "", "the manifest `FILE` (default glacier.yaml in DIR)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return FlagError{Err: err} })
	root.AddCommand(
		newVersionCmd(g),
		newInitCmd(g),
		newValidateCmd(g),
		newBuildCmd(g),
		newRunCmd(g),
		newDatasetsCmd(g),
		newCatCmd(g),
		newLogsCmd(g),
		newLineageCmd(g),
		newRunsCmd(g),
		newGraphCmd(g),
		newCompileCmd(g),
		newFsckCmd(g),
	)
	return root
}

// isCobraUsageError spots cobra's unknown-command error, which it does not type.
func isCobraUsageError(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}

// args returns a cobra argument check that reports a FlagError naming the
// command's usage.
func args(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) < min || (max >= 0 && len(a) > max) {
			return flagErrorf("%s: wrong number of arguments; usage: %s", cmd.Name(), cmd.UseLine())
		}
		return nil
	}
}
