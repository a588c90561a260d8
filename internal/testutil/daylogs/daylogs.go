// Package daylogs is the partitioned source the map tests of every target
// share (glacier run, AWS, Google Cloud): files of "day,value" lines spread
// over folders, and the report they add up to, computed here without
// Glacier so each target's output is checked against the data alone.
package daylogs

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Files returns n files of two lines each over days days, by key
// ("07/0123.log").
func Files(n, days int) map[string]string {
	data := make(map[string]string, n)
	for i := range n {
		data[fmt.Sprintf("%02d/%04d.log", i%40, i)] = fmt.Sprintf("d%02d,%d\nd%02d,%d\n", i%days, i, (i*7)%days, 1)
	}
	return data
}

// Poison marks a file the tests' map task fails on; Report leaves such
// files out.
const Poison = "POISON"

// Report returns what the pipeline's report holds for data: a line
// "<day>.csv,<sum>" per day, in order, summing every file but those
// holding Poison.
func Report(data map[string]string) (string, error) {
	sums := map[string]int{}
	for key, text := range data {
		if strings.Contains(text, Poison) {
			continue
		}
		for line := range strings.Lines(text) {
			day, v, _ := strings.Cut(strings.TrimSpace(line), ",")
			n, err := strconv.Atoi(v)
			if err != nil {
				return "", fmt.Errorf("file %s: line %q: %w", key, line, err)
			}
			sums[day+".csv"] += n
		}
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&b, "%s,%d\n", k, sums[k])
	}
	return b.String(), nil
}
