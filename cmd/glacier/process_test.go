package main

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
)

// glacierBin returns a path that runs this test binary as the glacier
// command (testscript.Main dispatches on the program name).
func glacierBin(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "glacier")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func glacier(t testing.TB, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// copyTree copies a project directory, leaving out its .glacier state.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if info.IsDir() {
			if info.Name() == ".glacier" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// outputs returns every dataset's current bytes, via glacier cat.
func outputs(t *testing.T, bin, dir string, datasets []string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, d := range datasets {
		out, errOut, err := glacier(t, bin, "-C", dir, "cat", d)
		if err != nil {
			t.Fatalf("cat %s: %v\n%s", d, err, errOut)
		}
		got[d] = out
	}
	return got
}

// TestCrashRecovery kills glacier run with SIGKILL at random moments, 20
// times, and checks that each next run completes with outputs identical to
// an uninterrupted run's.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline 40 times")
	}
	bin := glacierBin(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "examples", "etl"), dir)
	if err := cli.VendorSDK(dir, etlModule); err != nil {
		t.Fatal(err)
	}
	datasets := []string{"orders", "customers", "enriched_orders", "daily_revenue", "customer_stats"}

	if _, errOut, err := glacier(t, bin, "run", "-C", dir); err != nil {
		t.Fatalf("baseline run: %v\n%s", err, errOut)
	}
	want := outputs(t, bin, dir, datasets)
	// A forced warm run bounds the window the kills are spread over.
	start := time.Now()
	if _, errOut, err := glacier(t, bin, "run", "-C", dir, "--force"); err != nil {
		t.Fatalf("forced run: %v\n%s", err, errOut)
	}
	window := time.Since(start)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := range 20 {
		cmd := exec.Command(bin, "run", "-C", dir, "--force")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(window)))
		timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		_ = cmd.Wait()
		timer.Stop()

		if _, errOut, err := glacier(t, bin, "run", "-C", dir); err != nil {
			t.Fatalf("run after kill %d (at %v): %v\n%s", i, delay, err, errOut)
		}
		got := outputs(t, bin, dir, datasets)
		for _, d := range datasets {
			if got[d] != want[d] {
				t.Fatalf("after kill %d (at %v), dataset %s differs from the uninterrupted run's", i, delay, d)
			}
		}
	}
}

// TestInterrupt sends SIGINT while a runaway task runs: glacier stops it,
// commits nothing, and exits 130.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	bin := glacierBin(t)
	loop := wasmbuild.Build(t, "../../testdata/wasm/loop")
	dir := t.TempDir()
	manifest := "name: spin\ndatasets:\n  out: {}\ntasks:\n  spin: {module: " + loop + ", outputs: [out], compute: {type: local, timeout: 600}}\n"
	if err := os.WriteFile(filepath.Join(dir, "glacier.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-C", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.HasPrefix(lines.Text(), "spin") && strings.Contains(lines.Text(), "running") {
			break
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		seen = append(seen, lines.Text())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit = %v, want code 130; stderr:\n%s", err, strings.Join(seen, "\n"))
	}
	if !strings.Contains(strings.Join(seen, "\n"), "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", strings.Join(seen, "\n"))
	}
	if _, errOut, err := glacier(t, bin, "-C", dir, "cat", "out"); err == nil || !strings.Contains(errOut, "has no version yet") {
		t.Errorf("the interrupted task's output was committed: %v %s", err, errOut)
	}
}

// etlModule is the module path a copy of examples/etl gets: the example's own
// import path in this repository, so its tasks' imports of the example's
// internal packages resolve inside the copy, with the SDK vendored beside.
const etlModule = "github.com/glacier-pipeline/glacier/examples/etl"

// TestInterruptWhileLoading stops commands with Ctrl-C or SIGTERM while
// they are still reading their manifest: a FIFO the test writes half a
// manifest into, so the command is surely reading when the signal comes.
func TestInterruptWhileLoading(t *testing.T) {
	bin := glacierBin(t)
	for _, tc := range []struct {
		args []string
		sig  os.Signal
	}{
		{[]string{"validate"}, os.Interrupt},
		{[]string{"validate"}, syscall.SIGTERM},
		{[]string{"graph"}, os.Interrupt},
		{[]string{"datasets"}, syscall.SIGTERM},
	} {
		t.Run(tc.args[0]+"/"+tc.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "glacier.yaml")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(bin, append([]string{"-C", dir}, tc.args...)...)
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Opening the FIFO for writing returns once the command has
			// opened it for reading.
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.WriteString("name: half\ndatasets:\n"); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			var werr error
			select {
			case werr = <-exited:
			case <-time.After(time.Minute):
				// The command ignored the signal; end the manifest so it
				// returns, and fail below.
				w.Close()
				werr = <-exited
			}
			var exit *exec.ExitError
			if !errors.As(werr, &exit) || exit.ExitCode() != cli.ExitInterrupted {
				t.Fatalf("exit = %v, want code %d; stderr:\n%s", werr, cli.ExitInterrupted, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say the command was interrupted:\n%s", stderr.String())
			}
		})
	}
}
