// Command daily summarises one day of hits (it maps over hits): requests,
// server errors, bytes sent and the three paths asked for most, as JSON.
package main

import (
	"cmp"
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier/examples/logs/internal/access"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

func run(c *task.Context) error {
	in, err := c.Input("hits")
	if err != nil {
		return err
	}
	hits, err := access.ReadHits(in)
	in.Close()
	if err != nil {
		return err
	}
	d := access.Day{Day: strings.TrimSuffix(c.Part(), ".log"), Requests: len(hits), TopPaths: []access.PathHits{}}
	count := map[string]int{}
	for _, h := range hits {
		if h.Status >= 500 {
			d.Errors++
		}
		d.Bytes += h.Bytes
		count[h.Path]++
	}
	for p, n := range count {
		d.TopPaths = append(d.TopPaths, access.PathHits{Path: p, Hits: n})
	}
	slices.SortFunc(d.TopPaths, func(a, b access.PathHits) int {
		return cmp.Or(cmp.Compare(b.Hits, a.Hits), cmp.Compare(a.Path, b.Path))
	})
	d.TopPaths = d.TopPaths[:min(3, len(d.TopPaths))]
	return task.WriteJSON(c, "daily", d)
}
