package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	glacierpkg "github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
	"github.com/glacier-pipeline/glacier/manifest"
)

// BenchmarkETL times `glacier run` on examples/etl: cold is a fresh project
// with no .glacier (modules built, compiled and run; the Go build cache as
// it is), warm is a second run with everything cached.
//
//	go test ./cmd/glacier -run '^$' -bench ETL -benchtime 3x
func BenchmarkETL(b *testing.B) {
	bin := glacierBin(b)
	fresh := func() string {
		dir := b.TempDir()
		copyTree(b, filepath.Join("..", "..", "examples", "etl"), dir)
		if err := cli.VendorSDK(dir, etlModule); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	run := func(dir string) {
		if _, errOut, err := glacier(b, bin, "run", "-C", dir); err != nil {
			b.Fatalf("%v\n%s", err, errOut)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := fresh()
			b.StartTimer()
			run(dir)
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("warm", func(b *testing.B) {
		dir := fresh()
		run(dir)
		for b.Loop() {
			run(dir)
		}
	})
}

// BenchmarkETLContracts measures what checking contracts costs a run of
// examples/etl: glacier run --force (modules built, every task run again)
// on the example as it is, every cleaned dataset under a contract, and on
// a copy whose contracts are removed, the two alternating so both see the
// same machine. It reports each run's seconds and the overhead in percent.
//
//	go test ./cmd/glacier -run '^$' -bench ETLContracts -benchtime 10x
func BenchmarkETLContracts(b *testing.B) {
	bin := glacierBin(b)
	project := func(contracts bool) string {
		dir := b.TempDir()
		copyTree(b, filepath.Join("..", "..", "examples", "etl"), dir)
		if err := cli.VendorSDK(dir, etlModule); err != nil {
			b.Fatal(err)
		}
		if !contracts {
			m, err := manifest.Load(filepath.Join(dir, manifest.DefaultFile))
			if err != nil {
				b.Fatal(err)
			}
			p := glacierpkg.New(m.Pipeline.Name())
			for _, d := range m.Pipeline.Datasets() {
				d.Schema, d.SchemaFile = nil, ""
				if err := p.AddDataset(d); err != nil {
					b.Fatal(err)
				}
			}
			for _, t := range m.Pipeline.Tasks() {
				if err := p.AddTask(t); err != nil {
					b.Fatal(err)
				}
			}
			data, err := manifest.Marshal(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, manifest.DefaultFile), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if _, errOut, err := glacier(b, bin, "run", "-C", dir); err != nil {
			b.Fatalf("%v\n%s", err, errOut)
		}
		return dir
	}
	with, without := project(true), project(false)
	var took [2]time.Duration
	for b.Loop() {
		for i, dir := range []string{with, without} {
			start := time.Now()
			if _, errOut, err := glacier(b, bin, "run", "--force", "-C", dir); err != nil {
				b.Fatalf("%v\n%s", err, errOut)
			}
			took[i] += time.Since(start)
		}
	}
	n := float64(b.N)
	b.ReportMetric(took[0].Seconds()/n, "s/run-contracts")
	b.ReportMetric(took[1].Seconds()/n, "s/run-none")
	b.ReportMetric(100*(took[0].Seconds()-took[1].Seconds())/took[1].Seconds(), "overhead-%")
}

// BenchmarkManyTasks times glacier on a project of 400 trivial tasks that
// share one build: package (twenty sources of fan-out, each task copying
// a few hundred bytes): an up-to-date glacier build, and glacier run --force
// end to end, reported as tasks per second.
//
//	go test ./cmd/glacier -run '^$' -bench ManyTasks -benchtime 3x
func BenchmarkManyTasks(b *testing.B) {
	const tasks = 400
	bin := glacierBin(b)
	dir := b.TempDir()
	initOut, errOut, err := glacier(b, bin, "init", dir)
	if err != nil {
		b.Fatalf("init: %v\n%s%s", err, initOut, errOut)
	}
	pass := `package main

import (
	"io"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

// Command pass copies its one input to its one output.
func main() {
	task.Run(func(c *task.Context) error {
		in, err := c.Input(c.Inputs()[0])
		if err != nil {
			return err
		}
		out, err := c.Output(c.Outputs()[0])
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Close()
	})
}
`
	if err := os.MkdirAll(filepath.Join(dir, "tasks", "pass"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tasks", "pass", "main.go"), []byte(pass), 0o644); err != nil {
		b.Fatal(err)
	}
	var m strings.Builder
	m.WriteString("name: many\ndatasets:\n  text: {source: data/input.txt}\n")
	for i := range tasks {
		fmt.Fprintf(&m, "  c%d: {}\n", i)
	}
	m.WriteString("tasks:\n")
	for i := range tasks {
		in := "text"
		if i >= 20 {
			in = fmt.Sprintf("c%d", i%20)
		}
		fmt.Fprintf(&m, "  t%d: {build: ./tasks/pass, inputs: [%s], outputs: [c%d]}\n", i, in, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "glacier.yaml"), []byte(m.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if _, errOut, err := glacier(b, bin, "run", "-C", dir); err != nil {
		b.Fatalf("first run: %v\n%s", err, errOut)
	}
	b.Run("build-up-to-date", func(b *testing.B) {
		for b.Loop() {
			if _, errOut, err := glacier(b, bin, "build", "-C", dir); err != nil {
				b.Fatalf("%v\n%s", err, errOut)
			}
		}
	})
	b.Run("run-force", func(b *testing.B) {
		for b.Loop() {
			if _, errOut, err := glacier(b, bin, "run", "--force", "-C", dir); err != nil {
				b.Fatalf("%v\n%s", err, errOut)
			}
		}
		b.ReportMetric(float64(tasks*b.N)/b.Elapsed().Seconds(), "tasks/s")
	})
}
