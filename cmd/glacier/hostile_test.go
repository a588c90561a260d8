package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier/internal/testutil/hostile"
)

// TestRunRefusesHostileModules runs glacier run on a task whose module is
// each hostile module in turn, with the compile budget on the command line,
// and checks that it exits 1 naming the reason, within a bound on time and
// on the peak memory of glacier and its workers.
func TestRunRefusesHostileModules(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	bin := glacierBin(t)
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := c.WriteTo(filepath.Join(dir, "t.wasm")); err != nil {
				t.Fatal(err)
			}
			manifest := fmt.Sprintf("name: hostile\ndatasets:\n  out: {}\ntasks:\n  t: {module: t.wasm, outputs: [out], compute: {type: local, memory: %d, timeout: %d}}\n",
				hostile.MemoryMiB, hostile.TimeoutSeconds)
			if err := os.WriteFile(filepath.Join(dir, "glacier.yaml"), []byte(manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd := exec.Command(bin, "-C", dir, "run", "--parallel", "1",
				"--compile-timeout", fmt.Sprint(c.CompileTimeoutSeconds(), "s"), "--compile-memory", fmt.Sprint(hostile.CompileMemoryMiB))
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tree := hostile.WatchTree(cmd.Process.Pid)
			err := cmd.Wait()
			took := time.Since(start)
			treePeak := tree.Stop()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit = %v, want code 1; output:\n%s", err, &out)
			}
			if !bytes.Contains(out.Bytes(), []byte(c.Says)) {
				t.Errorf("output does not say %q:\n%s", c.Says, &out)
			}
			if took > hostileBound {
				t.Errorf("took %v, more than %v", took, hostileBound)
			}
			peak, ok := hostile.PeakRSS(cmd)
			if !ok {
				t.Fatal("no resource usage for the glacier process")
			}
			if peak > hostile.PeakBound {
				t.Errorf("peak RSS %d MiB, more than %d MiB", peak>>20, hostile.PeakBound>>20)
			}
			if treePeak > hostile.TreeBound {
				t.Errorf("the process tree's RSS peaked at %d MiB, more than %d MiB", treePeak>>20, hostile.TreeBound>>20)
			}
			t.Logf("refused in %v; peak RSS %d MiB (largest process), %d MiB (tree, sampled)", took.Round(time.Millisecond), peak>>20, treePeak>>20)
		})
	}
}

// hostileBound is how long glacier may take to refuse any hostile module
// however slow the machine: the compile budget's 2 s, and a lot of room.
const hostileBound = 30 * time.Second

// TestRunBoundsHostileGuests runs glacier run on tasks whose guests, once
// loaded, drive the host to allocate outside their linear memory (a table
// grown by a billion bytes' worth of entries, a recursion with no end), or
// write what breaks their output's contract (a bad value, a truncated last
// record, a record that never ends), and checks that each fails as it should with the peak memory of glacier
// and its worker within the task's limit and the documented overhead.
func TestRunBoundsHostileGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	bin := glacierBin(t)
	for _, c := range hostile.RunCases() {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "t.wasm"), c.Wasm, 0o644); err != nil {
				t.Fatal(err)
			}
			manifest := fmt.Sprintf("name: hostile\ndatasets:\n  out: {%s}\ntasks:\n  t: {module: t.wasm, outputs: [out], compute: {type: local, memory: %d, timeout: 60}}\n",
				c.Manifest(), hostile.RunMemoryMiB)
			if err := os.WriteFile(filepath.Join(dir, "glacier.yaml"), []byte(manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd := exec.Command(bin, "-C", dir, "run", "--parallel", "1")
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit = %v, want code 1; output:\n%s", err, &out)
			}
			if !bytes.Contains(out.Bytes(), []byte(c.Says)) {
				t.Errorf("output does not say %q:\n%s", c.Says, &out)
			}
			peak, ok := hostile.PeakRSS(cmd)
			if !ok {
				t.Fatal("no resource usage for the glacier process")
			}
			if peak > hostile.RunPeakBound {
				t.Errorf("peak RSS %d MiB, more than %d MiB", peak>>20, hostile.RunPeakBound>>20)
			}
			t.Logf("peak RSS %d MiB (largest process)", peak>>20)
		})
	}
}
