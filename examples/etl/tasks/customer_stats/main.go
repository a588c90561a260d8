// Command customer_stats is a task of the etl example. It summarises the
// enriched orders per customer.
//
// Input enriched_orders is the JSON Lines written by enrich. Output
// customer_stats is CSV, one row per customer who ordered, sorted by
// customer_id:
//
//	customer_id,name,country,segment,currency,orders,total_cents,average_order_cents,first_order,last_order
//	C0001,Sofia Colombo,IT,consumer,EUR,46,226769,4930,2024-05-02,2024-05-30
//
// first_order and last_order are UTC dates. average_order_cents is
// total_cents / orders rounded to the nearest cent (halves up). Money stays
// in integer cents, so the output is the same bytes on every machine. All
// orders must be in one currency.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

var header = []string{"customer_id", "name", "country", "segment", "currency", "orders",
	"total_cents", "average_order_cents", "first_order", "last_order"}

// maxLine is the longest line of enriched_orders read; an order is a few
// hundred bytes.
const maxLine = 1 << 20

// order is what customer_stats reads of an enriched order.
type order struct {
	OrderID      string `json:"order_id"`
	OrderDate    string `json:"order_date"`
	CustomerID   string `json:"customer_id"`
	CustomerName string `json:"customer_name"`
	Country      string `json:"country"`
	Segment      string `json:"segment"`
	AmountCents  *int64 `json:"amount_cents"` // a pointer, to tell a missing amount from zero
	Currency     string `json:"currency"`
}

// stats is one customer's summary.
type stats struct {
	name, country, segment string
	orders, total          int64
	first, last            string // YYYY-MM-DD, which sorts as dates do
}

func run(t *task.Context) error {
	in, err := t.Input("enriched_orders")
	if err != nil {
		return err
	}
	defer in.Close()

	customers := make(map[string]*stats) // one entry per customer, not per order
	var currency string
	var orders int64
	err = eachOrder(in, func(o order) error {
		if currency == "" {
			currency = o.Currency
		} else if o.Currency != currency {
			return fmt.Errorf("order %s is in %s but the orders before it are in %s; customer totals sum one currency, so keep one with the currency param of clean_orders", o.OrderID, o.Currency, currency)
		}
		if _, err := time.Parse(time.DateOnly, o.OrderDate); err != nil {
			return fmt.Errorf("order %s: order_date %q is not a date like 2024-05-01", o.OrderID, o.OrderDate)
		}
		s := customers[o.CustomerID]
		if s == nil {
			// The first order names the customer; enrich gives all the same.
			s = &stats{name: o.CustomerName, country: o.Country, segment: o.Segment, first: o.OrderDate, last: o.OrderDate}
			customers[o.CustomerID] = s
		}
		s.orders++
		s.total += *o.AmountCents
		s.first = min(s.first, o.OrderDate)
		s.last = max(s.last, o.OrderDate)
		orders++
		return nil
	})
	if err != nil {
		return err
	}

	out, err := t.Output("customer_stats")
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	if err := w.Write(header); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(customers)) {
		s := customers[id]
		rec := []string{id, s.name, s.country, s.segment, currency,
			strconv.FormatInt(s.orders, 10), strconv.FormatInt(s.total, 10),
			strconv.FormatInt(average(s.total, s.orders), 10), s.first, s.last}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	t.Logf("summarised %d orders of %d customers", orders, len(customers))
	return nil
}

// eachOrder calls fn with each order of the JSON Lines in r. Blank lines
// are skipped. An order without order_id, order_date, customer_id, a
// non-negative amount_cents or currency is an error.
func eachOrder(r io.Reader, fn func(order) error) error {
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for lines.Scan() {
		n++
		if len(lines.Bytes()) == 0 {
			continue
		}
		var o order
		if err := json.Unmarshal(lines.Bytes(), &o); err != nil {
			return fmt.Errorf("enriched_orders line %d: %w; enriched_orders is written by enrich, run it again", n, err)
		}
		var missing string
		switch {
		case o.OrderID == "":
			missing = "order_id"
		case o.OrderDate == "":
			missing = "order_date"
		case o.CustomerID == "":
			missing = "customer_id"
		case o.AmountCents == nil:
			missing = "amount_cents"
		case o.Currency == "":
			missing = "currency"
		}
		if missing != "" {
			return fmt.Errorf("enriched_orders line %d: no %s; enriched_orders is written by enrich, run it again", n, missing)
		}
		if *o.AmountCents < 0 {
			return fmt.Errorf("enriched_orders line %d: order %s has a negative amount_cents, %d", n, o.OrderID, *o.AmountCents)
		}
		if err := fn(o); err != nil {
			return fmt.Errorf("enriched_orders line %d: %w", n, err)
		}
	}
	if err := lines.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("enriched_orders line %d: longer than %d bytes; is it JSON Lines written by enrich?", n+1, maxLine)
		}
		return fmt.Errorf("enriched_orders: %w", err)
	}
	return nil
}

// average is sum/n rounded to the nearest integer, halves up; 0 for no
// items. sum is never negative.
func average(sum, n int64) int64 {
	if n == 0 {
		return 0
	}
	return (sum + n/2) / n
}
