package glacier_test

import (
	"fmt"
	"testing"

	"github.com/glacier-pipeline/glacier"
)

// BenchmarkValidate validates a chain of n tasks, each reading the dataset
// the one before wrote: 2n+1 entries. Validation must stay linear in them.
//
//	go test -run '^$' -bench Validate -benchtime 3x .
func BenchmarkValidate(b *testing.B) {
	for _, n := range []int{5_000, 50_000, 500_000} {
		b.Run(fmt.Sprintf("entries=%d", 2*n+1), func(b *testing.B) {
			p := chain(b, n)
			b.ResetTimer()
			for b.Loop() {
				if err := p.Validate().Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n+1), "ns/entry")
		})
	}
}

func chain(tb testing.TB, n int) *glacier.Pipeline {
	p := glacier.New("chain")
	must(tb, p.AddDataset(glacier.Dataset{Name: "d0", Storage: glacier.ObjectStorage{}, Source: "in.csv"}))
	for i := 1; i <= n; i++ {
		must(tb, p.AddDataset(glacier.Dataset{Name: fmt.Sprintf("d%d", i), Storage: glacier.ObjectStorage{}}))
		must(tb, p.AddTask(glacier.Task{Name: fmt.Sprintf("t%d", i), Module: "t.wasm",
			Inputs: []string{fmt.Sprintf("d%d", i-1)}, Outputs: []string{fmt.Sprintf("d%d", i)}}))
	}
	return p
}
