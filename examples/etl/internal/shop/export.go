package shop

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// MaxExamples is how many dropped rows Drops keeps to show; the rest are
// only counted, so a bad export cannot flood a task's log.
const MaxExamples = 5

// Export reads a CSV export row by row, leniently: it finds the columns it
// needs by name, whatever their order, and sets aside the rows it cannot
// trust (counting them in Dropped) instead of failing. A bad row in an
// export is expected; a task that reads what the pipeline wrote should fail
// on one instead.
//
//	rows, err := shop.ReadExport(in, "orders_raw", []string{"order_id", "amount"})
//	...
//	for rows.Next() {
//		if rows.Get("order_id") == "" {
//			rows.Drop("order_id", "an empty order_id")
//			continue
//		}
//		...
//	}
//	if err := rows.Err(); err != nil {
//		return err
//	}
type Export struct {
	// Rows counts the rows read, the header row not included.
	Rows int
	// Dropped counts the rows set aside, by cause.
	Dropped Drops

	name   string
	r      *csv.Reader
	width  int            // fields in the header row
	col    map[string]int // the index of each wanted column
	fields []string       // the current row
	err    error
}

// ReadExport reads the header row of the CSV export in, the dataset name
// (which errors start with), and checks that it names every column in
// want. A byte order mark before the first name, as spreadsheet exports
// write, and spaces around names are ignored. If in is empty, ReadExport
// returns io.EOF itself.
func ReadExport(in io.Reader, name string, want []string) (*Export, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1 // a row with the wrong field count is counted, not fatal
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read the header row: %w", name, err)
	}
	col, err := columns(header, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Export{name: name, r: r, width: len(header), col: col}, nil
}

// columns finds the index of each wanted column in header.
func columns(header, want []string) (map[string]int, error) {
	idx := make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		idx[strings.TrimSpace(h)] = i
	}
	col := make(map[string]int, len(want))
	var missing []string
	for _, w := range want {
		i, ok := idx[w]
		if !ok {
			missing = append(missing, w)
		}
		col[w] = i
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header row %q lacks the column(s) %s; the first row must name the columns %s",
			strings.Join(header, ","), strings.Join(missing, ", "), strings.Join(want, ", "))
	}
	return col, nil
}

// Next advances to the next row that CSV can read and that has as many
// fields as the header row, dropping the rows that fail either test. It
// returns false at the end of the input, or on an error reading it, which
// Err then returns.
func (e *Export) Next() bool {
	for {
		fields, err := e.r.Read()
		if errors.Is(err, io.EOF) {
			return false
		}
		e.Rows++
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			e.Dropped.Add(pe.Line, "csv", fmt.Sprintf("column %d: %v", pe.Column, pe.Err))
			continue
		}
		if err != nil {
			e.err = fmt.Errorf("%s: %w", e.name, err)
			return false
		}
		e.fields = fields
		if len(fields) != e.width {
			e.Drop("field count", fmt.Sprintf("%d fields, but the header has %d", len(fields), e.width))
			continue
		}
		return true
	}
}

// Get returns the named column of the current row, spaces around it
// trimmed. name must be one of the columns given to ReadExport.
func (e *Export) Get(name string) string {
	i, ok := e.col[name]
	if !ok {
		panic(fmt.Sprintf("shop: Export.Get(%q): not a column given to ReadExport", name))
	}
	return strings.TrimSpace(e.fields[i])
}

// Line returns the line of the input the current row starts on.
func (e *Export) Line() int {
	line, _ := e.r.FieldPos(0)
	return line
}

// Drop sets the current row aside: cause is what the log counts it under
// (the column at fault, say) and problem what the log shows of it.
func (e *Export) Drop(cause, problem string) {
	e.Dropped.Add(e.Line(), cause, problem)
}

// Err returns the error that stopped Next, or nil at the end of the input.
func (e *Export) Err() error { return e.err }

// Drops counts the rows a task set aside, by cause, and keeps the first
// MaxExamples of them to show in its log.
type Drops struct {
	// ByCause counts the rows dropped for each cause.
	ByCause Tally
	// Examples describe the first rows dropped: "line 7: an empty order_id".
	Examples []string
}

// Add counts a row dropped at line for cause, and keeps problem as an
// example if there are fewer than MaxExamples.
func (d *Drops) Add(line int, cause, problem string) {
	if d.ByCause == nil {
		d.ByCause = Tally{}
	}
	d.ByCause[cause]++
	if len(d.Examples) < MaxExamples {
		d.Examples = append(d.Examples, fmt.Sprintf("line %d: %s", line, problem))
	}
}

// Tally counts things by kind: dropped rows by cause, orders by currency.
type Tally map[string]int

// Total is the sum of the counts.
func (t Tally) Total() int {
	n := 0
	for _, c := range t {
		n += c
	}
	return n
}

// String lists the counts, kinds sorted: "GBP 3, USD 1".
func (t Tally) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(t)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, t[k]))
	}
	return strings.Join(parts, ", ")
}
