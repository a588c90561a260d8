// Command clean_orders is the first task of the etl example. It reads the
// shop's raw order export, drops the rows it cannot trust, keeps the orders
// in one currency and writes them in a normalised form.
//
// Input orders_raw is CSV with a header row naming at least order_id,
// customer_id, ordered_at (RFC 3339, any offset), amount (a decimal such
// as 12, 12.5 or 12.50) and currency, in any order; other columns are
// ignored. Output orders is CSV with the columns
//
//	order_id,customer_id,ordered_at,amount_cents,currency
//
// where ordered_at is in UTC and amount_cents is an integer. The currency
// param (say EUR) picks the currency to keep. A row that is malformed (the
// wrong number of fields, an empty id, a bad timestamp, a negative amount,
// or one with fractions of a cent) is dropped; the log counts them by cause
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

// inColumns are the columns orders_raw must have; outHeader is the header
// of orders.
var (
	inColumns = []string{"order_id", "customer_id", "ordered_at", "amount", "currency"}
	outHeader = []string{"order_id", "customer_id", "ordered_at", "amount_cents", "currency"}
)

// maxExamples is how many malformed rows the log shows; the rest are only
// counted, so a bad export cannot flood the log.
const maxExamples = 5

func run(t *task.Context) error {
	currency, err := currencyParam(t.Param("currency"))
	if err != nil {
		return err
	}
	in, err := t.Input("orders_raw")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("orders")
	if err != nil {
		return err
	}

	r := csv.NewReader(in)
	r.FieldsPerRecord = -1 // a row with the wrong field count is counted, not fatal
	r.ReuseRecord = true
	w := csv.NewWriter(out)
	if err := w.Write(outHeader); err != nil {
		return err
	}

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		t.Logf("orders_raw is empty: wrote no orders")
		return closeOutput(w, out)
	}
	if err != nil {
		return fmt.Errorf("orders_raw: read the header row: %w", err)
	}
	col, err := columns(header, inColumns)
	if err != nil {
		return fmt.Errorf("orders_raw: %w", err)
	}

	s := summary{otherCurrency: map[string]int{}, dropped: map[string]int{}}
	rec := make([]string, len(outHeader))
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
			return fmt.Errorf("orders_raw: %w", err)
		}
		line, _ := r.FieldPos(0)
		if len(fields) != len(header) {
			s.drop(line, "field count", fmt.Sprintf("%d fields, but the header has %d", len(fields), len(header)))
			continue
		}
		o, cause, problem := parse(fields, col)
		if problem != "" {
			s.drop(line, cause, problem)
			continue
		}
		if o.currency != currency {
			s.otherCurrency[o.currency]++
			continue
		}
		rec[0], rec[1], rec[2], rec[3], rec[4] = o.id, o.customer, o.at, fmt.Sprint(o.cents), o.currency
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
	t.Logf("%s", s.String(currency))
	return nil
}

// currencyParam checks the currency param: three letters, any case.
func currencyParam(p string) (string, error) {
	if p == "" {
		return "", errors.New(`the currency param is not set; set the currency to keep in glacier.yaml, as in params: {currency: EUR}`)
	}
	if !isCurrency(strings.ToUpper(p)) {
		return "", fmt.Errorf("the currency param %q is not a three-letter currency code such as EUR; fix it in glacier.yaml", p)
	}
	return strings.ToUpper(p), nil
}

// columns finds the index of each wanted column in header. A byte order
// mark before the first name, as spreadsheet exports write, is ignored.
func columns(header, want []string) (map[string]int, error) {
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

// order is a well-formed order.
type order struct {
	id, customer, at, currency string
	cents                      int64
}

// parse checks one row. For a malformed row it returns the column at fault
// and what is wrong with it.
func parse(fields []string, col map[string]int) (o order, cause, problem string) {
	get := func(name string) string { return strings.TrimSpace(fields[col[name]]) }
	o.id, o.customer = get("order_id"), get("customer_id")
	if o.id == "" {
		return o, "order_id", "an empty order_id"
	}
	if o.customer == "" {
		return o, "customer_id", fmt.Sprintf("order %s: an empty customer_id", o.id)
	}
	at, err := time.Parse(time.RFC3339, get("ordered_at"))
	if err != nil {
		return o, "ordered_at", fmt.Sprintf("order %s: ordered_at %q is not an RFC 3339 time like 2024-05-01T09:30:00Z", o.id, get("ordered_at"))
	}
	o.at = at.UTC().Format(time.RFC3339)
	cents, err := parseCents(get("amount"))
	if err != nil {
		return o, "amount", fmt.Sprintf("order %s: %v", o.id, err)
	}
	o.cents = cents
	o.currency = strings.ToUpper(get("currency"))
	if !isCurrency(o.currency) {
		return o, "currency", fmt.Sprintf("order %s: currency %q is not a three-letter code", o.id, get("currency"))
	}
	return o, "", ""
}

// parseCents parses a non-negative amount with at most two decimals, such as
// 12, 12.5 or 12.50, into cents.
func parseCents(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("amount %q is negative", s)
	case whole == "" || !digits(whole) || dot && !digits(frac):
		return 0, fmt.Errorf("amount %q is not a decimal number like 12.50", s)
	case len(frac) > 2:
		return 0, fmt.Errorf("amount %q has fractions of a cent", s)
	case len(whole) > 13:
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	var cents int64
	for _, c := range whole + (frac + "00")[:2] {
		cents = cents*10 + int64(c-'0')
	}
	return cents, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
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
	rows, kept    int
	otherCurrency map[string]int
	dropped       map[string]int // by cause
	examples      []string
}

func (s *summary) drop(line int, cause, problem string) {
	s.dropped[cause]++
	if len(s.examples) < maxExamples {
		s.examples = append(s.examples, fmt.Sprintf("line %d: %s", line, problem))
	}
}

// String is the log's summary line.
func (s *summary) String(currency string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "read %d rows: kept %d %s orders", s.rows, s.kept, currency)
	other := 0
	for _, n := range s.otherCurrency {
		other += n
	}
	fmt.Fprintf(&b, ", skipped %d in other currencies", other)
	if other > 0 {
		fmt.Fprintf(&b, " (%s)", counts(s.otherCurrency))
	}
	dropped := 0
	for _, n := range s.dropped {
		dropped += n
	}
	fmt.Fprintf(&b, ", dropped %d malformed", dropped)
	if dropped > 0 {
		fmt.Fprintf(&b, " (%s)", counts(s.dropped))
	}
	return b.String()
}

// counts formats a count per key, keys sorted: "GBP 3, USD 1".
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
