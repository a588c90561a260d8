// Command partsum is a task over partitioned data for executor tests. Its
// one input and one output hold lines "day,value" (lines starting with '#'
// are comments). The param "mode" says what it does:
//
//   - split: read every part of the partitioned input and write one part of
//     the partitioned output per day, "<day>.csv", holding that day's
//     lines, sorted: fan-out with keys the task chooses;
//   - sum: read the input whole (in a map task, its part) and write the
//     sum of its values;
//   - total: read every part of the partitioned input and write, whole,
//     a line "<key>,<the part, trimmed>" per part, in key order: fan-in;
//   - each: read every part of the partitioned input and write it, then
//     the param "suffix", to the part of the partitioned output with the
//     same key: what a map task of the concat fixture makes, in one
//     invocation, so a benchmark can compare the two (any lines).
package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		switch mode := c.Param("mode"); mode {
		case "split":
			return split(c)
		case "sum":
			return sum(c)
		case "total":
			return total(c)
		case "each":
			return each(c)
		default:
			return fmt.Errorf("param mode is %q; want split, sum, total or each", mode)
		}
	})
}

func split(c *task.Context) error {
	keys, err := c.Parts(c.Inputs()[0])
	if err != nil {
		return err
	}
	days := map[string][]string{}
	for _, k := range keys {
		r, err := c.InputPart(c.Inputs()[0], k)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			day, _, ok := strings.Cut(line, ",")
			if !ok {
				r.Close()
				return fmt.Errorf("part %s: line %q is not day,value", k, line)
			}
			days[day] = append(days[day], line)
		}
		r.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	for day, lines := range days {
		slices.Sort(lines)
		w, err := c.OutputPart(c.Outputs()[0], day+".csv")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, strings.Join(lines, "\n")+"\n"); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

func sum(c *task.Context) error {
	r, err := c.Input(c.Inputs()[0])
	if err != nil {
		return err
	}
	defer r.Close()
	var total int64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		_, v, ok := strings.Cut(sc.Text(), ",")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("part %s: %v", c.Part(), err)
		}
		total += n
	}
	w, err := c.Output(c.Outputs()[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d\n", total)
	return w.Close()
}

func total(c *task.Context) error {
	keys, err := c.Parts(c.Inputs()[0])
	if err != nil {
		return err
	}
	w, err := c.Output(c.Outputs()[0])
	if err != nil {
		return err
	}
	for _, k := range keys {
		r, err := c.InputPart(c.Inputs()[0], k)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s,%s\n", k, strings.TrimSpace(string(b)))
	}
	return w.Close()
}

func each(c *task.Context) error {
	in, out := c.Inputs()[0], c.Outputs()[0]
	keys, err := c.Parts(in)
	if err != nil {
		return err
	}
	for _, k := range keys {
		r, err := c.InputPart(in, k)
		if err != nil {
			return err
		}
		w, err := c.OutputPart(out, k)
		if err != nil {
			r.Close()
			return err
		}
		_, err = io.Copy(w, r)
		r.Close()
		if err == nil {
			_, err = io.WriteString(w, c.Param("suffix"))
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			return fmt.Errorf("part %s: %w", k, err)
		}
	}
	return nil
}
