// Command clean_customers is a task of the etl example. It reads the CRM's
// customer export, normalises it and drops the rows it cannot trust.
//
// Input customers_raw is CSV with a header row naming at least
// customer_id, name, email, country, segment and signup_date, in any order;
// other columns are ignored. Output customers is CSV with the columns
//
//	customer_id,name,email,country,segment,signup_date
//
// with surrounding spaces trimmed, the email in lower case, the country as
// an upper-case ISO 3166 alpha-2 code, the segment one of consumer, smb or
// enterprise, and signup_date as YYYY-MM-DD. A customer listed twice keeps
// its first row; a malformed row is dropped. The log counts both by cause
// and shows the first few.
package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

// columns is the header of customers, and what customers_raw must have.
var columns = []string{"customer_id", "name", "email", "country", "segment", "signup_date"}

// segments are the known customer segments.
var segments = []string{"consumer", "smb", "enterprise"}

// maxExamples is how many dropped rows the log shows; the rest are only
// counted, so a bad export cannot flood the log.
const maxExamples = 5

func run(t *task.Context) error {
	in, err := t.Input("customers_raw")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("customers")
	if err != nil {
		return err
	}

	r := csv.NewReader(in)
	r.FieldsPerRecord = -1 // a row with the wrong field count is counted, not fatal
	r.ReuseRecord = true
	w := csv.NewWriter(out)
	if err := w.Write(columns); err != nil {
		return err
	}

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		t.Logf("customers_raw is empty: wrote no customers")
		return closeOutput(w, out)
	}
	if err != nil {
		return fmt.Errorf("customers_raw: read the header row: %w", err)
	}
	col, err := index(header, columns)
	if err != nil {
		return fmt.Errorf("customers_raw: %w", err)
	}

	s := summary{dropped: map[string]int{}}
	seen := make(map[string]bool) // ids written so far, a few bytes per customer
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		s.rows++
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			s.drop(pe.Line, "csv", fmt.Sprintf("column %d: %v", pe.Column, pe.Err))
			continue
		}
		if err != nil {
			return fmt.Errorf("customers_raw: %w", err)
		}
		line, _ := r.FieldPos(0)
		if len(fields) != len(header) {
			s.drop(line, "field count", fmt.Sprintf("%d fields, but the header has %d", len(fields), len(header)))
			continue
		}
		rec, cause, problem := parse(fields, col)
		if problem != "" {
			s.drop(line, cause, problem)
			continue
		}
		if seen[rec[0]] {
			s.drop(line, "duplicate", fmt.Sprintf("customer %s: listed again; the first row is kept", rec[0]))
			continue
		}
		seen[rec[0]] = true
		if err := w.Write(rec); err != nil {
			return err
		}
		s.kept++
	}
	if err := closeOutput(w, out); err != nil {
		return err
	}
	for _, e := range s.examples {
		t.Logf("dropped %s", e)
	}
	t.Logf("%s", s.String())
	return nil
}

// index finds the index of each wanted column in header. A byte order
// mark before the first name, as spreadsheet exports write, is ignored.
func index(header, want []string) (map[string]int, error) {
	idx := make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		idx[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, w := range want {
		if _, ok := idx[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header row %q lacks the column(s) %s; the first row must name the columns %s",
			strings.Join(header, ","), strings.Join(missing, ", "), strings.Join(want, ", "))
	}
	return idx, nil
}

// parse normalises one row into the columns of customers. For a malformed
// row it returns the column at fault and what is wrong with it.
func parse(fields []string, col map[string]int) (rec []string, cause, problem string) {
	get := func(name string) string { return strings.TrimSpace(fields[col[name]]) }
	id := get("customer_id")
	if id == "" {
		return nil, "customer_id", "an empty customer_id"
	}
	name := get("name")
	if name == "" {
		return nil, "name", fmt.Sprintf("customer %s: an empty name", id)
	}
	email := strings.ToLower(get("email"))
	if !isEmail(email) {
		return nil, "email", fmt.Sprintf("customer %s: email %q is not an address like name@example.com", id, get("email"))
	}
	country := strings.ToUpper(get("country"))
	if !isCountry(country) {
		return nil, "country", fmt.Sprintf("customer %s: country %q is not a two-letter code like DE", id, get("country"))
	}
	segment := strings.ToLower(get("segment"))
	if !slices.Contains(segments, segment) {
		return nil, "segment", fmt.Sprintf("customer %s: segment %q is not one of %s", id, get("segment"), strings.Join(segments, ", "))
	}
	signup := get("signup_date")
	if _, err := time.Parse(time.DateOnly, signup); err != nil {
		return nil, "signup_date", fmt.Sprintf("customer %s: signup_date %q is not a date like 2024-05-01", id, signup)
	}
	return []string{id, name, email, country, segment, signup}, "", ""
}

// isEmail is a plausibility check, not RFC 5322: one @, something before
// it, a dotted domain after it, and no spaces or list separators.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.ContainsAny(s, " ,;\t") && !strings.Contains(domain, "@") &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func closeOutput(w *csv.Writer, out io.Closer) error {
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return out.Close()
}

// summary counts what happened to the rows.
type summary struct {
	rows, kept int
	dropped    map[string]int // by cause
	examples   []string
}

func (s *summary) drop(line int, cause, problem string) {
	s.dropped[cause]++
	if len(s.examples) < maxExamples {
		s.examples = append(s.examples, fmt.Sprintf("line %d: %s", line, problem))
	}
}

// String is the log's summary line.
func (s *summary) String() string {
	dropped := 0
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.dropped)) {
		dropped += s.dropped[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, s.dropped[k]))
	}
	msg := fmt.Sprintf("read %d rows: kept %d customers, dropped %d", s.rows, s.kept, dropped)
	if dropped > 0 {
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	return msg
}
