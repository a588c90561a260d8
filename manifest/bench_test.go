package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/manifest"
)

// BenchmarkParse reads and validates a manifest of a chain of n tasks,
// each reading the dataset the one before wrote: 2n+1 entries. Both must
// stay linear in them.
//
//	go test -run '^$' -bench Parse -benchtime 3x ./manifest
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{5_000, 50_000, 500_000} {
		b.Run(fmt.Sprintf("entries=%d", 2*n+1), func(b *testing.B) {
			data := chainManifest(n)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for b.Loop() {
				m, err := manifest.Parse("glacier.yaml", data)
				if err != nil {
					b.Fatal(err)
				}
				if errs, _ := m.Diagnostics(); len(errs) > 0 {
					b.Fatal(errs[0])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n+1), "ns/entry")
		})
	}
}

func chainManifest(n int) []byte {
	var s strings.Builder
	s.WriteString("name: chain\ndatasets:\n  d0: {storage: {type: object}, source: in.csv}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "  d%d: {storage: {type: object}}\n", i)
	}
	s.WriteString("tasks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "  t%d: {module: t.wasm, inputs: [d%d], outputs: [d%d]}\n", i, i-1, i)
	}
	return []byte(s.String())
}
