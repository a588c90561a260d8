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
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

var header = []string{"customer_id", "name", "country", "segment", "currency", "orders",
	"total_cents", "average_order_cents", "first_order", "last_order"}

// need are the fields of enriched_orders customer_stats cannot do without;
// an order without one is an error.
var need = []string{"order_id", "order_date", "customer_id", "amount_cents", "currency"}

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
	err = shop.EachEnrichedOrder(in, need, func(o shop.EnrichedOrder) error {
		if currency == "" {
			currency = o.Currency
		} else if o.Currency != currency {
			return fmt.Errorf("order %s is in %s but the orders before it are in %s; customer totals sum one currency, so keep one with the currency param of clean_orders", o.OrderID, o.Currency, currency)
		}
		if _, err := o.Date(); err != nil {
			return err
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
	w, err := shop.NewCSVWriter(out, header)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(customers)) {
		s := customers[id]
		rec := []string{id, s.name, s.country, s.segment, currency,
			strconv.FormatInt(s.orders, 10), strconv.FormatInt(s.total, 10),
			strconv.FormatInt(shop.Average(s.total, s.orders), 10), s.first, s.last}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	t.Logf("summarised %d orders of %d customers", orders, len(customers))
	return nil
}
