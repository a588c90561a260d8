package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// mapPipeline writes a project whose map task, the concat fixture, appends
// "+x" to each of n files of a partitioned source, and returns its
// directory and the expected output, key → bytes, computed here.
func mapPipeline(t *testing.T, n int) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	mod, err := os.ReadFile(wasmbuild.Build(t, "../../testdata/wasm/concat"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "concat.wasm"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := `name: parts
datasets:
  logs: {source: logs, partitioned: true}
  parsed: {partitioned: true}
tasks:
  parse: {module: concat.wasm, inputs: [logs], outputs: [parsed], map: logs, params: {suffix: "+x"}}
`
	if err := os.WriteFile(filepath.Join(dir, "glacier.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("%02d/%04d.log", i%20, i)
		data := fmt.Sprintf("line %d\n", i)
		p := filepath.Join(dir, "logs", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		want[key] = data + "+x"
	}
	return dir, want
}

// partsOf reads every part of a dataset from the store, key → bytes.
func partsOf(t *testing.T, dir, dataset string) map[string]string {
	t.Helper()
	m, err := manifest.Load(filepath.Join(dir, "glacier.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := store.PartsOf(m.Pipeline, dataset)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range parts {
		r, _, err := store.OpenPart(m.Pipeline, dataset, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[p.Key] = string(b)
	}
	return got
}

// partRuns counts, over every run in the store, the parts of task that
// started: each leaves its log.
func partRuns(t *testing.T, dir, task string) map[string]int {
	t.Helper()
	runs := map[string]int{}
	root := filepath.Join(dir, ".glacier", "runs")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		// <run>/logs/<task>.parts/<key>.log
		segs := strings.SplitN(filepath.ToSlash(rel), "/", 4)
		if len(segs) == 4 && segs[2] == task+".parts" {
			runs[strings.TrimSuffix(segs[3], ".log")]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

var progressLine = regexp.MustCompile(`^parse +running ([\d,]+)/([\d,]+)`)

// TestMapSurvivesSIGKILL kills glacier run with SIGKILL ten times while it
// maps 2,000 parts, each time once a randomly chosen tenth of the parts is
// done, then lets a run finish: the outputs are what an independent
// computation gives, and no part whose result was committed ran again (a
// part runs a second time only if a kill caught it running).
func TestMapSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 2,000 parts about six times over")
	}
	const parts, kills, parallel = 2000, 10, 2
	bin := glacierBin(t)
	dir, want := mapPipeline(t, parts)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	for k := range kills {
		cmd := exec.Command(bin, "-C", dir, "run", "--parallel", strconv.Itoa(parallel))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the progress passes a tenth chosen at random; a run
		// that finds most parts done may finish first, which is fine.
		at := 1 + rng.IntN(9)
		sc := bufio.NewScanner(stderr)
		killed := false
		for sc.Scan() {
			m := progressLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			done, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			if done*10 >= at*parts {
				_ = cmd.Process.Kill()
				killed = true
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		t.Logf("run %d: killed=%v at %d/10", k+1, killed, at)
	}
	if out, errOut, err := glacier(t, bin, "-C", dir, "run", "--parallel", strconv.Itoa(parallel)); err != nil {
		t.Fatalf("the run after the kills failed: %v\n%s%s", err, out, errOut)
	}
	got := partsOf(t, dir, "parsed")
	if len(got) != parts {
		t.Fatalf("parsed has %d parts, want %d", len(got), parts)
	}
	for key, w := range want {
		if got[key] != w {
			t.Fatalf("part %s = %q, want %q", key, got[key], w)
		}
	}
	total := 0
	for key, n := range partRuns(t, dir, "parse") {
		total += n
		if n > 1+kills {
			t.Errorf("part %s ran %d times", key, n)
		}
	}
	// Each kill can catch at most one part per worker running.
	if total > parts+kills*parallel {
		t.Errorf("%d parts ran in all, more than %d parts and %d caught running by the kills", total, parts, kills*parallel)
	}
	t.Logf("%d part runs for %d parts over %d kills", total, parts, kills)
}

var update = flag.Bool("update", false, "rewrite examples/logs/testdata/all_time.csv")

// TestLogsExample runs examples/logs as the README shows it, checks its
// report, then adds a day's file and checks that only that day ran.
func TestLogsExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example")
	}
	bin := glacierBin(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "examples", "logs"), dir)
	if err := cli.VendorSDK(dir, "github.com/glacier-pipeline/glacier/examples/logs"); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "..", "examples", "logs", "testdata", "all_time.csv")
	if _, errOut, err := glacier(t, bin, "run", "-C", dir); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	got, _, _ := glacier(t, bin, "-C", dir, "cat", "all_time")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("all_time:\n%s\nwant (%s; scripts/regen rewrites it):\n%s", got, golden, want)
	}

	day := "203.0.113.9 - - [06/Dec/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 200 100\n"
	if err := os.WriteFile(filepath.Join(dir, "data", "access", "2026-12-06.log"), []byte(day), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := glacier(t, bin, "run", "-C", dir)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	for _, line := range []string{`parse +succeeded 6/6`, `daily +succeeded 6/6`} {
		if !regexp.MustCompile(`(?m)^` + line).MatchString(errOut) {
			t.Errorf("no line %q in:\n%s", line, errOut)
		}
	}
	rec := lastRun(t, dir)
	for _, tr := range rec.Tasks {
		if tr.Parts != nil && tr.Parts.Ran != 1 {
			t.Errorf("task %s ran %d parts, want only the new day's", tr.Task, tr.Parts.Ran)
		}
	}
	got, _, _ = glacier(t, bin, "-C", dir, "cat", "all_time")
	if !strings.Contains(got, "\n2026-12-06,1,0,100\n") {
		t.Errorf("all_time lacks the new day:\n%s", got)
	}
}

// lastRun returns the record of the latest run in the project at dir.
func lastRun(t *testing.T, dir string) local.RunRecord {
	t.Helper()
	store, err := local.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.Runs()
	if err != nil || len(ids) == 0 {
		t.Fatalf("runs: %v, %v", ids, err)
	}
	rec, err := store.Run(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
