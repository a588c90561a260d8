package shop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// OrderColumns is the header of orders, the CSV that clean_orders writes
// and enrich reads.
var OrderColumns = []string{"order_id", "customer_id", "ordered_at", "amount_cents", "currency"}

// EnrichedOrder is one line of enriched_orders, the JSON Lines that enrich
// writes and the reports read.
type EnrichedOrder struct {
	OrderID      string `json:"order_id"`
	OrderedAt    string `json:"ordered_at"`
	OrderDate    string `json:"order_date"` // the UTC day of OrderedAt
	CustomerID   string `json:"customer_id"`
	CustomerName string `json:"customer_name"`
	Country      string `json:"country"`
	Segment      string `json:"segment"`
	AmountCents  *int64 `json:"amount_cents"` // a pointer, to tell a missing amount from zero
	Currency     string `json:"currency"`
}

// Date parses OrderDate.
func (o *EnrichedOrder) Date() (time.Time, error) {
	date, err := time.Parse(time.DateOnly, o.OrderDate)
	if err != nil {
		return time.Time{}, fmt.Errorf("order %s: order_date %q is not a date like 2024-05-01", o.OrderID, o.OrderDate)
	}
	return date, nil
}

// has reports whether o has a value for field, a JSON name.
func (o *EnrichedOrder) has(field string) bool {
	switch field {
	case "order_id":
		return o.OrderID != ""
	case "ordered_at":
		return o.OrderedAt != ""
	case "order_date":
		return o.OrderDate != ""
	case "customer_id":
		return o.CustomerID != ""
	case "customer_name":
		return o.CustomerName != ""
	case "country":
		return o.Country != ""
	case "segment":
		return o.Segment != ""
	case "amount_cents":
		return o.AmountCents != nil
	case "currency":
		return o.Currency != ""
	}
	panic(fmt.Sprintf("shop: enriched orders have no field %q", field))
}

// MaxLine is the longest line of enriched_orders EachEnrichedOrder reads;
// an order is a few hundred bytes.
const MaxLine = 1 << 20

// EachEnrichedOrder calls fn with each order of enriched_orders, the JSON
// Lines in r. Blank lines are skipped. An order that lacks one of the
// fields named in need (checked in that order, so the error names the
// first missing) or that has a negative amount_cents is an error, and so
// is one from fn; each names its line.
func EachEnrichedOrder(r io.Reader, need []string, fn func(EnrichedOrder) error) error {
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 0, 64<<10), MaxLine)
	n := 0
	for lines.Scan() {
		n++
		if len(lines.Bytes()) == 0 {
			continue
		}
		var o EnrichedOrder
		if err := json.Unmarshal(lines.Bytes(), &o); err != nil {
			return fmt.Errorf("enriched_orders line %d: %w; enriched_orders is written by enrich, run it again", n, err)
		}
		for _, f := range need {
			if !o.has(f) {
				return fmt.Errorf("enriched_orders line %d: no %s; enriched_orders is written by enrich, run it again", n, f)
			}
		}
		if o.AmountCents != nil && *o.AmountCents < 0 {
			return fmt.Errorf("enriched_orders line %d: order %s has a negative amount_cents, %d", n, o.OrderID, *o.AmountCents)
		}
		if err := fn(o); err != nil {
			return fmt.Errorf("enriched_orders line %d: %w", n, err)
		}
	}
	if err := lines.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("enriched_orders line %d: longer than %d bytes; is it JSON Lines written by enrich?", n+1, MaxLine)
		}
		return fmt.Errorf("enriched_orders: %w", err)
	}
	return nil
}
