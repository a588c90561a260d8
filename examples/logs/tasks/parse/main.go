// Command parse reads one day's access log (it maps over access_logs) and
// writes its requests as CSV to hits, leaving out the paths listed in
// ignore. Lines that are not log lines are counted and skipped; a day with
// more bad lines than good ones fails, since its file is likely not a log.
package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/glacier-pipeline/glacier/examples/logs/internal/access"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

func run(c *task.Context) error {
	ignore := map[string]bool{}
	r, err := c.Input("ignore")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			ignore[line] = true
		}
	}
	r.Close()
	if err := sc.Err(); err != nil {
		return err
	}

	in, err := c.Input("access_logs")
	if err != nil {
		return err
	}
	defer in.Close()
	var hits []access.Hit
	bad, skipped := 0, 0
	sc = bufio.NewScanner(in)
	for n := 1; sc.Scan(); n++ {
		h, err := access.ParseLine(sc.Text())
		switch {
		case err != nil:
			bad++
			c.Logf("%s line %d: %v", c.Part(), n, err)
		case ignore[h.Path]:
			skipped++
		default:
			hits = append(hits, h)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if bad > len(hits) {
		return fmt.Errorf("%s: %d of %d lines are not log lines", c.Part(), bad, bad+len(hits)+skipped)
	}
	out, err := c.Output("hits")
	if err != nil {
		return err
	}
	if err := access.WriteHits(out, hits); err != nil {
		return err
	}
	c.Logf("%s: %d requests, %d ignored, %d bad lines", c.Part(), len(hits), skipped, bad)
	return out.Close()
}
