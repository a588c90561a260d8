// Command all_time reads every day's summary (every part of daily) and
// writes a CSV line per day, in date order, then the totals.
package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/glacier-pipeline/glacier/examples/logs/internal/access"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

func run(c *task.Context) error {
	keys, err := c.Parts("daily")
	if err != nil {
		return err
	}
	out, err := c.Output("all_time")
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	_ = w.Write([]string{"day", "requests", "errors", "bytes"})
	var total access.Day
	for _, k := range keys { // keys are the file names, so in date order
		r, err := c.InputPart("daily", k)
		if err != nil {
			return err
		}
		var d access.Day
		err = json.NewDecoder(r).Decode(&d)
		r.Close()
		if err != nil {
			return fmt.Errorf("day %s: %v", k, err)
		}
		total.Requests += d.Requests
		total.Errors += d.Errors
		total.Bytes += d.Bytes
		_ = w.Write([]string{d.Day, strconv.Itoa(d.Requests), strconv.Itoa(d.Errors), strconv.FormatInt(d.Bytes, 10)})
	}
	_ = w.Write([]string{"total", strconv.Itoa(total.Requests), strconv.Itoa(total.Errors), strconv.FormatInt(total.Bytes, 10)})
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Logf("%d days: %d requests", len(keys), total.Requests)
	return out.Close()
}
