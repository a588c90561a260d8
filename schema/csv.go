package schema

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// scanCSV checks the complete records at data's start and returns how many
// bytes they took.
func (v *Validator) scanCSV(data []byte) int {
	start := 0
	for start < len(data) {
		var rec []byte
		end, nls := -1, 0
		// Most records are one line without quotes: split as the line is
		// found. Others are found again, quotes and all, by recordEnd.
		if v.resume == 0 || start > 0 {
			if n := bytes.IndexByte(data[start:], '\n'); n >= 0 {
				rec = data[start : start+n]
				if v.splitPlain(rec) {
					end = start + n
				}
			}
		}
		if end < 0 {
			var ok bool
			if end, nls, ok = v.recordEnd(data, start); !ok {
				return start
			}
			rec = data[start:end]
			v.fields = v.fields[:0]
		}
		if len(rec) > 0 && rec[len(rec)-1] == '\r' {
			rec = rec[:len(rec)-1]
			if len(v.fields) > 0 {
				last := v.fields[len(v.fields)-1]
				v.fields[len(v.fields)-1] = last[:len(last)-1]
			}
		}
		if vi := v.checkRecord(rec); vi != nil {
			v.fail(vi)
			return start
		}
		v.line += int64(nls) + 1
		v.record++
		start = end + 1
	}
	return start
}

// splitPlain splits a line with no quotes into v.fields in one pass, and
// reports false, leaving v.fields empty, if the line has a quote. It
// looks at eight bytes at a time for a comma or a quote.
func (v *Validator) splitPlain(line []byte) bool {
	v.fields = v.fields[:0]
	a, i := 0, 0
	for i+8 <= len(line) {
		w := binary.LittleEndian.Uint64(line[i:])
		m := zeroBytes(w^(lo*',')) | zeroBytes(w^(lo*'"'))
		if m == 0 {
			i += 8
			continue
		}
		// The lowest flagged byte is exact; those above it may not be,
		// so the word is read again after it.
		j := i + bits.TrailingZeros64(m)/8
		if line[j] == '"' {
			v.fields = v.fields[:0]
			return false
		}
		v.fields = append(v.fields, line[a:j])
		a, i = j+1, j+1
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case ',':
			v.fields = append(v.fields, line[a:i])
			a = i + 1
		case '"':
			v.fields = v.fields[:0]
			return false
		}
	}
	v.fields = append(v.fields, line[a:])
	return true
}

const lo = 0x0101010101010101

// zeroBytes flags the zero bytes of w: the high bit of the lowest one is
// set exactly, and bytes above it may be flagged by a borrow.
func zeroBytes(w uint64) uint64 { return (w - lo) &^ w & (lo * 0x80) }

// Where a search for a record's end stands, between bytes.
const (
	atField  = iota // at the start of a field
	inPlain         // in an unquoted field
	inQuoted        // in a quoted field
	atQuote         // after a quote in a quoted field: its end, or half of ""
)

// recordEnd finds the newline ending the record that starts at data[start]
// as RFC 4180 reads it (a quote opens a quoted field only at the field's
// start), and the newlines inside quotes before it. An incomplete record
// leaves where the search stopped for the next call, which sees the same
// bytes at the start of a longer buffer.
func (v *Validator) recordEnd(data []byte, start int) (end, nls int, ok bool) {
	i, st := start, atField
	if start == 0 && v.resume > 0 {
		i, st, nls = v.resume, v.resumeSt, v.resumeNL
	}
	for ; i < len(data); i++ {
		c := data[i]
		switch st {
		case inQuoted:
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				nls += bytes.Count(data[i:], nl)
				i = len(data)
				v.resume, v.resumeSt, v.resumeNL = i-start, st, nls
				return 0, 0, false
			}
			nls += bytes.Count(data[i:i+q], nl)
			i += q
			st = atQuote
			continue
		case atField:
			if c == '"' {
				st = inQuoted
				continue
			}
		case atQuote:
			if c == '"' {
				st = inQuoted
				continue
			}
		}
		switch c {
		case '\n':
			v.resume, v.resumeSt, v.resumeNL = 0, atField, 0
			return i, nls, true
		case ',':
			st = atField
		default:
			st = inPlain
		}
	}
	v.resume, v.resumeSt, v.resumeNL = i-start, st, nls
	return 0, 0, false
}

var nl = []byte{'\n'}

// span is a field of a record with quotes: in the record, or unquoted
// into Validator.scratch.
type span struct {
	quoted bool
	a, b   int
}

// checkRecord checks one record, without its line ending. v.fields holds
// its fields when it has no quotes.
func (v *Validator) checkRecord(rec []byte) *Violation {
	if len(rec) == 0 {
		return v.at(0, "", "the line is empty; every line of a csv dataset is a record")
	}
	if len(v.fields) == 0 {
		if rule := v.split(rec); rule != "" {
			return v.at(0, "", rule)
		}
	}
	cols := v.c.cols
	if v.record == 0 {
		return v.checkHeader()
	}
	if len(v.fields) != len(cols) {
		return v.at(0, "", fmt.Sprintf("the record has %d fields, but the header has %d columns", len(v.fields), len(cols)))
	}
	// One check of the whole record spares one per string field.
	text := utf8.Valid(rec)
	for i := range cols {
		if rule := cols[i].check(v.fields[i], text); rule != "" {
			return v.at(i+1, cols[i].Name, rule)
		}
	}
	return nil
}

func (v *Validator) checkHeader() *Violation {
	cols := v.c.cols
	for i, f := range v.fields {
		if i >= len(cols) {
			return v.at(i+1, string(f), fmt.Sprintf("the header has %d columns, but the contract declares %d", len(v.fields), len(cols)))
		}
		if string(f) != cols[i].Name {
			return v.at(i+1, cols[i].Name, fmt.Sprintf("the header names column %d %s, but the contract names it %q", i+1, quote(f), cols[i].Name))
		}
	}
	if len(v.fields) < len(cols) {
		return v.at(len(v.fields)+1, cols[len(v.fields)].Name, fmt.Sprintf("the header has %d columns, but the contract declares %d", len(v.fields), len(cols)))
	}
	return nil
}

// split cuts a record into v.fields as RFC 4180 reads it, and returns
// what is wrong with its quoting, if anything. Quoted fields are unquoted
// into v.scratch, with CRLF inside them read as LF (as encoding/csv does).
func (v *Validator) split(rec []byte) string {
	v.fields = v.fields[:0]
	if bytes.IndexByte(rec, '"') < 0 {
		for {
			i := bytes.IndexByte(rec, ',')
			if i < 0 {
				v.fields = append(v.fields, rec)
				return ""
			}
			v.fields = append(v.fields, rec[:i])
			rec = rec[i+1:]
		}
	}
	v.scratch = v.scratch[:0]
	v.spans = v.spans[:0]
	pos := 0
	for {
		if pos < len(rec) && rec[pos] == '"' {
			a := len(v.scratch)
			i := pos + 1
			for {
				q := bytes.IndexByte(rec[i:], '"')
				if q < 0 {
					return fmt.Sprintf("field %d opens a quote it never closes", len(v.spans)+1)
				}
				v.scratch = append(v.scratch, rec[i:i+q]...)
				i += q + 1
				if i < len(rec) && rec[i] == '"' {
					v.scratch = append(v.scratch, '"')
					i++
					continue
				}
				break
			}
			v.spans = append(v.spans, span{true, a, len(v.scratch)})
			switch {
			case i == len(rec):
				pos = -1
			case rec[i] == ',':
				pos = i + 1
			default:
				return fmt.Sprintf("field %d has %s after its closing quote; a quoted field ends at its quote", len(v.spans), quote(rec[i:i+1]))
			}
		} else {
			i := bytes.IndexByte(rec[pos:], ',')
			end := len(rec)
			if i >= 0 {
				end = pos + i
			}
			if bytes.IndexByte(rec[pos:end], '"') >= 0 {
				return fmt.Sprintf("field %d has a quote inside an unquoted value; quote the field and double the quote (\"\")", len(v.spans)+1)
			}
			v.spans = append(v.spans, span{false, pos, end})
			pos = -1
			if i >= 0 {
				pos = end + 1
			}
		}
		if pos < 0 {
			break
		}
	}
	for _, s := range v.spans {
		if s.quoted {
			f := v.scratch[s.a:s.b]
			if bytes.IndexByte(f, '\r') >= 0 {
				f = bytes.ReplaceAll(f, []byte("\r\n"), nl)
			}
			v.fields = append(v.fields, f)
		} else {
			v.fields = append(v.fields, rec[s.a:s.b])
		}
	}
	return ""
}

// check checks one value of the column and returns the rule it breaks;
// text says the value is known to be UTF-8.
func (c *column) check(f []byte, text bool) string {
	if len(f) == 0 {
		if c.Nullable {
			return ""
		}
		return "the value is empty, and the column is not nullable"
	}
	if c.Type != String || !text {
		if msg := checkTyped(c.Type, f); msg != "" {
			return msg
		}
	}
	if c.enum != nil && !c.enum[string(f)] {
		return fmt.Sprintf("%s is not one of the column's enum values", quote(f))
	}
	if c.re != nil && !c.re.Match(f) {
		return fmt.Sprintf("%s does not match the column's pattern %q", quote(f), c.Pattern)
	}
	return ""
}

// checkTyped checks a non-empty value against a type.
func checkTyped(t Type, f []byte) string {
	switch t {
	case String:
		if !utf8.Valid(f) {
			return fmt.Sprintf("%s is not UTF-8 text", quote(f))
		}
	case Integer:
		if !isInteger(f) {
			return fmt.Sprintf("%s is not an integer (64-bit, like -12 or 7)", quote(f))
		}
	case Number:
		if !isNumber(f) {
			return fmt.Sprintf("%s is not a number (like 12, -0.5 or 1e9)", quote(f))
		}
	case Boolean:
		if s := string(f); s != "true" && s != "false" {
			return fmt.Sprintf("%s is not a boolean (true or false)", quote(f))
		}
	case Date:
		if !isDate(f) {
			return fmt.Sprintf("%s is not a date (YYYY-MM-DD)", quote(f))
		}
	case Timestamp:
		if !isTimestamp(f) {
			return fmt.Sprintf("%s is not a timestamp (RFC 3339, like 2024-05-01T06:51:23Z)", quote(f))
		}
	}
	return ""
}

// isInteger reports whether f is an optional sign and digits that fit an
// int64.
func isInteger(f []byte) bool {
	d := f
	if d[0] == '+' || d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(d) < 19 {
		return true
	}
	_, err := strconv.ParseInt(string(f), 10, 64)
	return err == nil
}

// isNumber reports whether f is [+-](digits[.digits]|.digits)[e[+-]digits].
func isNumber(f []byte) bool {
	i := 0
	if f[0] == '+' || f[0] == '-' {
		i++
	}
	digits := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
		digits++
	}
	if i < len(f) && f[i] == '.' {
		i++
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(f) && (f[i] == 'e' || f[i] == 'E') {
		i++
		if i < len(f) && (f[i] == '+' || f[i] == '-') {
			i++
		}
		exp := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(f)
}

// isDate reports whether f is a calendar date, YYYY-MM-DD.
func isDate(f []byte) bool {
	if len(f) != 10 || f[4] != '-' || f[7] != '-' {
		return false
	}
	y, ok1 := digits(f[0:4])
	m, ok2 := digits(f[5:7])
	d, ok3 := digits(f[8:10])
	return ok1 && ok2 && ok3 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(m, y)
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isTimestamp reports whether f is an RFC 3339 date and time:
// YYYY-MM-DDTHH:MM:SS, optional fractional seconds after a dot, and Z or
// an offset ±HH:MM. Leap seconds (:60) are refused, as time.Parse does.
func isTimestamp(f []byte) bool {
	if len(f) < 20 || !isDate(f[:10]) || f[10] != 'T' || f[13] != ':' || f[16] != ':' {
		return false
	}
	h, ok1 := digits(f[11:13])
	m, ok2 := digits(f[14:16])
	s, ok3 := digits(f[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 59 {
		return false
	}
	z := f[19:]
	if z[0] == '.' {
		i := 1
		for i < len(z) && z[i] >= '0' && z[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		z = z[i:]
	}
	switch {
	case len(z) == 1 && z[0] == 'Z':
		return true
	case len(z) == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':':
		oh, ok1 := digits(z[1:3])
		om, ok2 := digits(z[4:6])
		return ok1 && ok2 && oh <= 23 && om <= 59
	}
	return false
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
