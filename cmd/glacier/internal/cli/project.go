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
			fmt.Fprintf(g.IO.ErrOut, "the Go toolchain is checking %s (GOOS=wasip1 GOARCH=wasm), rebuilding what changed...\n", list)
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
		},
		Warn: func(msg string) { fmt.Fprintf(g.IO.ErrOut, "warning: %s\n", msg) }})
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
func (g *Globals) openStore(ctx context.Context) (*manifest.Manifest, *local.Store, error) {
	m, err := g.LoadManifest(ctx)
	if err != nil {
		return nil, nil, err
	}
	s, err := local.OpenStore(m.Dir)
	return m, s, err
}
