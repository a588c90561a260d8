package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// buildModules builds every task's module, printing to w one line per
// task when verbose, or one line per rebuilt module otherwise. A build
// still going after a second (a first build on a fresh Go cache takes tens
// of seconds) is announced on stderr, so a run never sits silent.
func (g *Globals) buildModules(ctx context.Context, m *manifest.Manifest, w io.Writer, verbose bool) ([]build.Module, error) {
	var mu sync.Mutex
	var pkgs []string
	done := make(chan struct{})
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			mu.Lock()
			list := strings.Join(pkgs, ", ")
			mu.Unlock()
			fmt.Fprintf(g.IO.ErrOut, "building %s with the Go toolchain (GOOS=wasip1 GOARCH=wasm)...\n", list)
		}
	}()
	mods, err := build.Modules(ctx, m.Pipeline, build.Options{Dir: m.Dir, Parallel: runtime.NumCPU(),
		Building: func(pkg string, _ []string) {
			if rel, err := filepath.Rel(m.Dir, pkg); err == nil {
				pkg = "./" + filepath.ToSlash(rel)
			}
			mu.Lock()
			pkgs = append(pkgs, pkg)
			mu.Unlock()
		}})
	close(done)
	<-announced
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, mod := range mods {
		if !verbose && (!mod.Built || seen[mod.Path]) {
			continue
		}
		seen[mod.Path] = true
		state := "up to date"
		if mod.Built {
			state = "built"
		}
		fmt.Fprintf(w, "%-20s %8s  sha256:%s  %s\n", mod.Task, humanBytes(mod.Size), mod.SHA256[:12], state)
	}
	return mods, nil
}

// openStore loads the manifest and opens its project's store.
func (g *Globals) openStore() (*manifest.Manifest, *local.Store, error) {
	m, err := g.LoadManifest()
	if err != nil {
		return nil, nil, err
	}
	s, err := local.OpenStore(m.Dir)
	return m, s, err
}

// humanBytes formats a size with a binary unit: 512 B, 3.4 KiB, 2.9 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// short abbreviates a digest for tables.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// table writes rows as left-aligned columns separated by two spaces.
func table(rows [][]string) string {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], visibleLen(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-visibleLen(c)+2))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// visibleLen is the width of s on a terminal: its runes, less color codes.
func visibleLen(s string) int {
	n, inEscape := 0, false
	for _, r := range s {
		switch {
		case inEscape:
			inEscape = r != 'm'
		case r == '\x1b':
			inEscape = true
		default:
			n++
		}
	}
	return n
}

// plural formats a count with its noun: "1 problem", "3 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
