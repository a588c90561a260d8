package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
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
