package main

import (
	"bufio"
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
