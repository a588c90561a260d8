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
	"fmt"
	"strconv"
	"time"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

var header = []string{"date", "currency", "orders", "revenue_cents", "average_order_cents"}

// need are the fields of enriched_orders daily_revenue reads; an order
// without one is an error.
var need = []string{"order_id", "order_date", "amount_cents", "currency"}

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
	err = shop.EachEnrichedOrder(in, need, func(o shop.EnrichedOrder) error {
		if currency == "" {
			currency = o.Currency
		} else if o.Currency != currency {
			return fmt.Errorf("order %s is in %s but the orders before it are in %s; daily revenue sums one currency, so keep one with the currency param of clean_orders", o.OrderID, o.Currency, currency)
		}
		date, err := o.Date()
		if err != nil {
			return err
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
	w, err := shop.NewCSVWriter(out, header)
	if err != nil {
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
				strconv.FormatInt(d.revenue, 10), strconv.FormatInt(shop.Average(d.revenue, d.orders), 10)}
			if err := w.Write(rec); err != nil {
				return err
			}
			n++
		}
	}
	if err := w.Close(); err != nil {
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

// money formats cents as 1234.50.
func money(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
