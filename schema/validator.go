package schema

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Limits on what a Validator holds in memory. A record, or a json
// dataset's one value, longer than these breaks the contract: the host
// validates whatever a task writes, and must not hold unbounded bytes
// while it waits for a line ending that may never come.
const (
	// MaxRecord bounds one csv or jsonl record, its line ending included.
	MaxRecord = 16 << 20
	// MaxJSON bounds a json dataset, which is validated as one value.
	MaxJSON = 64 << 20
)

// Violation is the first place a stream breaks its contract.
type Violation struct {
	// Dataset names the dataset, or the file, being checked; Part the
	// part of a partitioned dataset, if it is one.
	Dataset, Part string
	// Line is the line the record starts on, counted from 1; Record is
	// the record's number, counted from 1 (a csv header is record 0).
	// Both are 0 for a json dataset's one value.
	Line, Record int64
	// Field names the field at fault: a csv column's name, or a JSON
	// Pointer into the record ("/customer/id"); empty for the record as a
	// whole.
	Field string
	// Column is a csv field's position, counted from 1; 0 otherwise.
	Column int
	// Header is the csv header the dataset's contract declares.
	Header string
	// Rule says what was broken: `"12x" is not an integer`.
	Rule string
}

// Error returns the violation as one line:
//
//	dataset "orders": line 12 (record 11), column 4 "amount": "12x" is not a number (header order_id,...,amount)
func (v *Violation) Error() string {
	s := fmt.Sprintf("dataset %q: ", v.Dataset)
	if v.Part != "" {
		s = fmt.Sprintf("dataset %q part %q: ", v.Dataset, v.Part)
	}
	switch {
	case v.Line > 0 && v.Record > 0:
		s += fmt.Sprintf("line %d (record %d)", v.Line, v.Record)
	case v.Line > 0:
		s += fmt.Sprintf("line %d", v.Line)
	default:
		s += "the value"
	}
	switch {
	case v.Column > 0:
		s += fmt.Sprintf(", column %d %q", v.Column, v.Field)
	case v.Field != "":
		s += fmt.Sprintf(", field %s", v.Field)
	}
	s += ": " + v.Rule
	if v.Header != "" {
		s += " (header " + v.Header + ")"
	}
	return s
}

// Validator checks one stream against a Contract as its bytes arrive. Write
// accepts the bytes in pieces of any size and returns the first
// *Violation; Close checks what is left (a last record without a line
// ending, a json value). After a violation every call returns it. A
// Validator is not safe for concurrent use.
type Validator struct {
	c       *Contract
	dataset string
	part    string
	err     error
	closed  bool

	buf  []byte // the incomplete record at the stream's end; a json value
	size int64  // bytes seen

	// Where the next record starts, counted from 1 and 0 (the header).
	line, record int64
	// Where a search for the end of the record at buf's start stopped:
	// the offset, the state there, and the newlines passed.
	resume, resumeNL, resumeSt int

	fields  [][]byte // a csv record's fields
	scratch []byte   // unquoted fields
	spans   []span
	js      jscan
}

// NewValidator returns a validator of one stream of dataset (a name used in
// violations) against c.
func (c *Contract) NewValidator(dataset string) *Validator {
	return &Validator{c: c, dataset: dataset, line: 1}
}

// NewPartValidator returns a validator of one part of a partitioned
// dataset (or of dataset itself when part is empty).
func (c *Contract) NewPartValidator(dataset, part string) *Validator {
	return &Validator{c: c, dataset: dataset, part: part, line: 1}
}

// Write checks p. It returns len(p), or 0 and the first *Violation.
func (v *Validator) Write(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.closed {
		return 0, fmt.Errorf("dataset %q: write after Close", v.dataset)
	}
	v.size += int64(len(p))
	switch v.c.schema.Format {
	case Bytes:
		return len(p), nil
	case JSON:
		if v.size > MaxJSON {
			return 0, v.fail(&Violation{Rule: fmt.Sprintf("a json dataset is validated as one value, and this one is over %d MiB; use jsonl for large data", MaxJSON>>20)})
		}
		v.buf = append(v.buf, p...)
		return len(p), nil
	}
	data := p
	if len(v.buf) > 0 {
		v.buf = append(v.buf, p...)
		data = v.buf
	}
	var used int
	if v.c.schema.Format == CSV {
		used = v.scanCSV(data)
	} else {
		used = v.scanJSONL(data)
	}
	if v.err != nil {
		return 0, v.err
	}
	rest := data[used:]
	if len(rest) > MaxRecord {
		return 0, v.fail(v.at(0, "", fmt.Sprintf("the record is longer than %d MiB without a line ending", MaxRecord>>20)))
	}
	if len(v.buf) > 0 {
		n := copy(v.buf, rest)
		v.buf = v.buf[:n]
	} else {
		v.buf = append(v.buf, rest...)
	}
	return len(p), nil
}

// Close checks the end of the stream: a last record with no line ending, a
// csv stream with no header, a json value. It returns the first
// *Violation, or nil.
func (v *Validator) Close() error {
	if v.err != nil || v.closed {
		return v.err
	}
	v.closed = true
	switch v.c.schema.Format {
	case CSV, JSONL:
		if len(v.buf) > 0 {
			what := "the last record"
			if v.c.schema.Format == CSV && v.record == 0 {
				what = "the header"
			}
			return v.fail(v.at(0, "", what+" has no line ending: the data was cut short, or its writer left off the final newline; end every record with \\n"))
		}
		if v.c.schema.Format == CSV && v.record == 0 {
			return v.fail(&Violation{Line: 1, Rule: "the data is empty, but a csv dataset starts with its header line"})
		}
	case JSON:
		if len(bytes.TrimSpace(v.buf)) == 0 {
			return v.fail(&Violation{Rule: "the data is empty, but a json dataset holds one JSON value"})
		}
		if vi := v.checkJSON(v.buf); vi != nil {
			return v.fail(vi)
		}
		v.buf = nil
	}
	return nil
}

// Records returns how many records were checked, the csv header excluded.
func (v *Validator) Records() int64 {
	if v.c.schema.Format == CSV {
		return max(v.record-1, 0)
	}
	return v.record
}

func (v *Validator) fail(vi *Violation) error {
	vi.Dataset, vi.Part = v.dataset, v.part
	if v.c.schema.Format == CSV {
		vi.Header = string(v.c.header)
	}
	v.err = vi
	v.buf = nil
	return vi
}

// at returns a violation in the record starting at the current line.
func (v *Validator) at(col int, field, rule string) *Violation {
	vi := &Violation{Line: v.line, Record: v.record, Column: col, Field: field, Rule: rule}
	if v.c.schema.Format == JSONL {
		vi.Record = v.record + 1
	}
	return vi
}

// scanJSONL checks the complete lines at data's start and returns how
// many bytes they took.
func (v *Validator) scanJSONL(data []byte) int {
	pos := 0
	if v.resume > 0 {
		pos = v.resume // buf's start was searched that far already
	}
	start := 0
	for {
		nl := bytes.IndexByte(data[pos:], '\n')
		if nl < 0 {
			v.resume = len(data) - start
			return start
		}
		end := pos + nl
		v.resume = 0
		if vi := v.checkLine(data[start:end]); vi != nil {
			v.fail(vi)
			return start
		}
		v.line++
		v.record++
		start, pos = end+1, end+1
	}
}

// checkLine checks one JSON Lines record, without its newline.
func (v *Validator) checkLine(line []byte) *Violation {
	if len(bytes.TrimSpace(line)) == 0 {
		return v.at(0, "", "the line is empty; JSON Lines holds one JSON value on every line")
	}
	vi := v.checkJSON(line)
	if vi != nil {
		vi.Line, vi.Record = v.line, v.record+1
	}
	return vi
}

// checkJSON checks one JSON value: its syntax, UTF-8, and the contract.
func (v *Validator) checkJSON(b []byte) *Violation {
	if v.c.fast != nil {
		path, rule := v.js.check(v.c.fast, b)
		if rule == "" {
			return nil
		}
		return &Violation{Field: path, Rule: rule}
	}
	return v.c.checkLib(b)
}

// quote quotes a value for a rule, cut to a readable length.
func quote(b []byte) string {
	const max = 64
	if len(b) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return strconv.Quote(string(b[:cut])) + "..."
	}
	return strconv.Quote(string(b))
}
