// Command daily_revenue is a task of the etl example. It sums the enriched
// orders per day.
//
// Input enriched_orders is the JSON Lines written by enrich; only
// order_id, order_date, amount_cents and currency are read. Output
// daily_revenue is CSV, one row per UTC day from the first order's to the
// last order's, in date order:
//
//	date,currency,orders,revenue_cents,average_order_cents
//	2024-05-01,EUR,65,952917,14660
//
// A day without orders has a row of zeros, so charts show the gap.
// average_order_cents is revenue_cents / orders rounded to the nearest cent
// (halves up). Money stays in integer cents, so the output is the same
// bytes on every machine. All orders must be in one currency: summing EUR
// and USD would be meaningless.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

var header = []string{"date", "currency", "orders", "revenue_cents", "average_order_cents"}

// maxLine is the longest line of enriched_orders read; an order is a few
// hundred bytes.
const maxLine = 1 << 20

// order is what daily_revenue reads of an enriched order.
type order struct {
	OrderID     string `json:"order_id"`
	OrderDate   string `json:"order_date"`
	AmountCents *int64 `json:"amount_cents"` // a pointer, to tell a missing amount from zero
	Currency    string `json:"currency"`
}

// day is one day's total.
type day struct {
	orders  int64
	revenue int64
}

func run(t *task.Context) error {
	in, err := t.Input("enriched_orders")
	if err != nil {
		return err
	}
	defer in.Close()

	days := make(map[time.Time]*day) // one entry per day: small however many orders
	var currency string
	var first, last time.Time
	var total day
	err = eachOrder(in, func(o order) error {
		if currency == "" {
			currency = o.Currency
		} else if o.Currency != currency {
			return fmt.Errorf("order %s is in %s but the orders before it are in %s; daily revenue sums one currency, so keep one with the currency param of clean_orders", o.OrderID, o.Currency, currency)
		}
		date, err := time.Parse(time.DateOnly, o.OrderDate)
		if err != nil {
			return fmt.Errorf("order %s: order_date %q is not a date like 2024-05-01", o.OrderID, o.OrderDate)
		}
		d := days[date]
		if d == nil {
			d = new(day)
			days[date] = d
			if first.IsZero() || date.Before(first) {
				first = date
			}
			if date.After(last) {
				last = date
			}
		}
		d.orders++
		d.revenue += *o.AmountCents
		total.orders++
		total.revenue += *o.AmountCents
		return nil
	})
	if err != nil {
		return err
	}

	out, err := t.Output("daily_revenue")
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	if err := w.Write(header); err != nil {
		return err
	}
	n := 0
	if len(days) > 0 {
		for date := first; !date.After(last); date = date.AddDate(0, 0, 1) {
			d := days[date]
			if d == nil {
				d = new(day)
			}
			rec := []string{date.Format(time.DateOnly), currency, strconv.FormatInt(d.orders, 10),
				strconv.FormatInt(d.revenue, 10), strconv.FormatInt(average(d.revenue, d.orders), 10)}
			if err := w.Write(rec); err != nil {
				return err
			}
			n++
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if n == 0 {
		t.Logf("enriched_orders has no orders: wrote no days")
		return nil
	}
	t.Logf("summed %d orders over %d days, %s to %s: revenue %s %s, %d days without orders",
		total.orders, n, first.Format(time.DateOnly), last.Format(time.DateOnly), money(total.revenue), currency, n-len(days))
	return nil
}

// eachOrder calls fn with each order of the JSON Lines in r. Blank lines are skipped. An order without order_id,
// order_date, a non-negative amount_cents or currency is an error.
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

// money formats cents as 1234.50.
func money(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
