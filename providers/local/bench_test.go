package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// BenchmarkScheduler runs a generated DAG of 1,000 concat tasks (20 waves
// of 50; each task reads two outputs of the wave before) with --force, and
// reports tasks per second and the CPU time each task took, in this process
// and its workers (cpu-ms/task, which unlike tasks/s barely changes when
// other work shares the machine):
//
//	go test ./providers/local -run '^$' -bench Scheduler -benchtime 3x
//
// In "tiny" every output is at most 64 bytes, so the figure is the per-task
// cost of scheduling, sandboxing and committing; each run produces the
// same outputs as the last, so the store already has them. "tiny-changed"
// changes the source before each run, so every task stores a new object, a
// memo entry and its ref. In "doubling" each output is the whole of both
// inputs, so outputs double with every wave (5.8 MB each in the last) and a
// run moves 556 MB through the sandbox and the store.
func BenchmarkScheduler(b *testing.B) {
	b.Run("tiny", func(b *testing.B) { benchScheduler(b, "64", false) })
	b.Run("tiny-changed", func(b *testing.B) { benchScheduler(b, "64", true) })
	b.Run("doubling", func(b *testing.B) { benchScheduler(b, "", false) })
}

func benchScheduler(b *testing.B, limit string, changeSource bool) {
	const waves, width = 20, 50
	pr := &project{t: b, dir: b.TempDir(), p: glacier.New("bench"), module: wasmbuild.Build(b, "../../testdata/wasm/concat")}
	pr.writeSource("seed", "x")
	if err := pr.p.AddDataset(glacier.Dataset{Name: "seed", Storage: glacier.ObjectStorage{}, Source: "data/seed"}); err != nil {
		b.Fatal(err)
	}
	for w := range waves {
		for i := range width {
			inputs := []string{"seed"}
			if w > 0 {
				inputs = []string{fmt.Sprintf("d%d-%d", w-1, i), fmt.Sprintf("d%d-%d", w-1, (i+1)%width)}
			}
			out := fmt.Sprintf("d%d-%d", w, i)
			if err := pr.p.AddDataset(glacier.Dataset{Name: out, Storage: glacier.ObjectStorage{}}); err != nil {
				b.Fatal(err)
			}
			params := map[string]string{"suffix": out}
			if limit != "" {
				params["limit"] = limit
			}
			if err := pr.p.AddTask(glacier.Task{Name: fmt.Sprintf("t%d-%d", w, i), Module: pr.module,
				Inputs: inputs, Outputs: []string{out}, Params: params}); err != nil {
				b.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	mods, err := build.Modules(ctx, pr.p, build.Options{Dir: pr.dir})
	if err != nil {
		b.Fatal(err)
	}
	exec := local.New(local.Options{Dir: pr.dir, Modules: mods, Force: true})
	// One untimed run warms the compilation cache, as any second run would.
	if _, err := pr.p.Run(ctx, exec); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; b.Loop(); i++ {
		if changeSource {
			pr.writeSource("seed", fmt.Sprintf("x%d", i))
		}
		if _, err := pr.p.Run(ctx, exec); err != nil {
			b.Fatal(err)
		}
	}
	tasks := float64(waves * width * b.N)
	b.ReportMetric(tasks/time.Since(start).Seconds(), "tasks/s")
	b.ReportMetric((cpuTime()-cpu).Seconds()*1000/tasks, "cpu-ms/task")
}

// BenchmarkMap runs a map task, the concat fixture, over a source of
// 10,000 one-line files, and reports parts per second:
//
//	go test ./providers/local -run '^$' -bench Map -benchtime 2x
//
// "cold" runs every part (the memo is cleared before each run, the
// compilation cache is warm); "one-changed" changes one file before each
// run, so one part runs and 9,999 are found in the memo; its figure is the
// time of the whole run. "one-invocation" makes the same parts, cold, with
// a task that does not map: one invocation of the partsum fixture reads
// every part and writes each one's output, so its figure is what the parts
// cost without a module started for each (see docs/local.md). The cold
// cases also report the CPU time a part took, in this process and its
// workers (cpu-ms/part), which unlike parts/s barely changes when other
// work shares the machine; two idle cores run at most 2,000 over it parts
// a second.
func BenchmarkMap(b *testing.B) {
	const n = 10_000
	setup := func(b *testing.B, mapped bool) (*project, *local.Executor) {
		fixture, task := "concat", glacier.Task{Name: "parse", Inputs: []string{"logs"}, Outputs: []string{"parsed"},
			Map: "logs", Params: map[string]string{"suffix": "+x"}}
		if !mapped {
			fixture, task.Map, task.Params["mode"] = "partsum", "", "each"
		}
		pr := &project{t: b, dir: b.TempDir(), p: glacier.New("bench"), module: wasmbuild.Build(b, "../../testdata/wasm/"+fixture)}
		task.Module = pr.module
		for i := range n {
			pr.writeSource(fmt.Sprintf("logs/%03d/%05d.log", i/100, i), fmt.Sprintf("line %d\n", i))
		}
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		must(pr.p.AddDataset(glacier.Dataset{Name: "logs", Storage: glacier.ObjectStorage{}, Source: "data/logs", Partitioned: true}))
		must(pr.p.AddDataset(glacier.Dataset{Name: "parsed", Storage: glacier.ObjectStorage{}, Partitioned: true}))
		must(pr.p.AddTask(task))
		mods, err := build.Modules(context.Background(), pr.p, build.Options{Dir: pr.dir})
		must(err)
		exec := local.New(local.Options{Dir: pr.dir, Modules: mods})
		_, err = pr.p.Run(context.Background(), exec) // imports the source, warms the caches
		must(err)
		return pr, exec
	}
	cold := func(b *testing.B, mapped bool) {
		pr, exec := setup(b, mapped)
		var ran, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			if err := os.RemoveAll(filepath.Join(pr.dir, local.StateDir, "memo")); err != nil {
				b.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(pr.dir, local.StateDir, "memo"), 0o700); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, used := time.Now(), cpuTime()
			if _, err := pr.p.Run(context.Background(), exec); err != nil {
				b.Fatal(err)
			}
			ran += time.Since(start)
			cpu += cpuTime() - used
		}
		b.ReportMetric(float64(n*b.N)/ran.Seconds(), "parts/s")
		b.ReportMetric(cpu.Seconds()*1000/float64(n*b.N), "cpu-ms/part")
	}
	b.Run("cold", func(b *testing.B) { cold(b, true) })
	b.Run("one-changed", func(b *testing.B) {
		pr, exec := setup(b, true)
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			pr.writeSource("logs/000/00000.log", fmt.Sprintf("changed %d\n", i))
			b.StartTimer()
			if _, err := pr.p.Run(context.Background(), exec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-invocation", func(b *testing.B) { cold(b, false) })
}

// BenchmarkPlanParts measures what a run does before any part of a map
// task starts, over a partitioned source of 100,000 files: listing them
// (glacier.SourceParts), finding them unchanged (ImportParts, which reads
// no file whose size, times and inode are as recorded) and reading the
// list back. It reports the time and the heap the process used at most
// (peak-heap-MiB, sampled from the Go runtime every millisecond), and the
// peak resident memory of the whole benchmark process, setup included
// (process-peak-rss-MiB, from the kernel), with
//
//	go test ./providers/local -run '^$' -bench PlanParts -benchtime 3x
func BenchmarkPlanParts(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	for i := range n {
		p := filepath.Join(dir, "logs", fmt.Sprintf("%03d", i/1000), fmt.Sprintf("%06d.log", i))
		if i%1000 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("line %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	store, err := local.OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	d := glacier.Dataset{Name: "logs", Source: "logs", Partitioned: true}
	plan := func() {
		files, err := glacier.SourceParts(dir, d)
		if err != nil {
			b.Fatal(err)
		}
		v, err := store.ImportParts(context.Background(), "bench", "logs", files, "r", false, local.Checked{})
		if err != nil {
			b.Fatal(err)
		}
		parts, err := store.Parts(v)
		if err != nil || len(parts) != n {
			b.Fatalf("%d parts, %v", len(parts), err)
		}
	}
	plan() // the first import reads every file
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // sample the heap while the plans run
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				peak = max(peak, s[0].Value.Uint64())
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		plan()
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	if rss := maxRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "process-peak-rss-MiB")
	}
}
