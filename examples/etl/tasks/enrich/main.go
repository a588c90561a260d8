// Command enrich is a task of the etl example. It joins the cleaned orders
// with the cleaned customers, so the reports downstream can group by
// country and segment without reading the customer list themselves.
//
// Inputs orders and customers are the CSV written by clean_orders and
// clean_customers. The customers are held in memory (a few dozen bytes
// each); the orders stream through. Output enriched_orders is JSON Lines,
// one order per line, in the order of orders:
//
//	{"order_id":"100001","ordered_at":"2024-05-01T06:51:23Z","order_date":"2024-05-01",
//	 "customer_id":"C0003","customer_name":"Leonardo Rossi","country":"IT","segment":"consumer",
//	 "amount_cents":5240,"currency":"EUR"}
//
// order_date is the UTC day of ordered_at. The join is inner: an order
// whose customer is not in customers (clean_customers dropped the row, say)
// is left out, and the log counts such orders. The email address is not
// carried over: the reports do not need it.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

// customerColumns are the columns enrich needs of customers; it needs all
// of orders, shop.OrderColumns. Others are ignored.
var customerColumns = []string{"customer_id", "name", "country", "segment"}

// maxShown is how many unknown customer ids the log names.
const maxShown = 5

// customer is what an enriched order carries of its customer.
type customer struct {
	name, country, segment string
}

func run(t *task.Context) error {
	customers, err := readCustomers(t)
	if err != nil {
		return err
	}
	in, err := t.Input("orders")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("enriched_orders")
	if err != nil {
		return err
	}

	r := csv.NewReader(in)
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		t.Logf("orders is empty: wrote no enriched orders")
		return out.Close()
	}
	if err != nil {
		return fmt.Errorf("orders: read the header row: %w", err)
	}
	col, err := index(header, shop.OrderColumns)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}

	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var written, unmatched int
	unknown := make(map[string]bool)
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("orders: %w; orders is written by clean_orders, run it again", err)
		}
		line, _ := r.FieldPos(0)
		o, err := parseOrder(fields, col)
		if err != nil {
			return fmt.Errorf("orders line %d: %w; orders is written by clean_orders, run it again", line, err)
		}
		c, ok := customers[o.CustomerID]
		if !ok {
			unmatched++
			unknown[o.CustomerID] = true
			continue
		}
		o.CustomerName, o.Country, o.Segment = c.name, c.country, c.segment
		if err := enc.Encode(o); err != nil {
			return err
		}
		written++
	}
	if err := out.Close(); err != nil {
		return err
	}
	msg := fmt.Sprintf("joined orders with %d customers: wrote %d enriched orders, left out %d", len(customers), written, unmatched)
	if unmatched > 0 {
		msg += fmt.Sprintf(" of %d unknown customers (%s)", len(unknown), shown(unknown))
	}
	t.Logf("%s", msg)
	return nil
}

// readCustomers loads customers into a map by customer id.
func readCustomers(t *task.Context) (map[string]customer, error) {
	in, err := t.Input("customers")
	if err != nil {
		return nil, err
	}
	defer in.Close()
	r := csv.NewReader(in)
	r.ReuseRecord = true
	customers := make(map[string]customer)
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return customers, nil
	}
	if err != nil {
		return nil, fmt.Errorf("customers: read the header row: %w", err)
	}
	col, err := index(header, customerColumns)
	if err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			return customers, nil
		}
		if err != nil {
			return nil, fmt.Errorf("customers: %w; customers is written by clean_customers, run it again", err)
		}
		id := strings.Clone(fields[col["customer_id"]])
		if _, dup := customers[id]; dup {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("customers line %d: customer %q appears twice; customers is written by clean_customers, which keeps one row per customer, run it again", line, id)
		}
		// Copies, so the map does not keep each whole row alive.
		customers[id] = customer{
			name:    strings.Clone(fields[col["name"]]),
			country: strings.Clone(fields[col["country"]]),
			segment: strings.Clone(fields[col["segment"]]),
		}
	}
}

// parseOrder reads one row of orders.
func parseOrder(fields []string, col map[string]int) (shop.EnrichedOrder, error) {
	o := shop.EnrichedOrder{
		OrderID:    fields[col["order_id"]],
		CustomerID: fields[col["customer_id"]],
		OrderedAt:  fields[col["ordered_at"]],
		Currency:   fields[col["currency"]],
	}
	at, err := time.Parse(time.RFC3339, o.OrderedAt)
	if err != nil {
		return o, fmt.Errorf("order %s: ordered_at %q is not an RFC 3339 time", o.OrderID, o.OrderedAt)
	}
	o.OrderDate = at.UTC().Format(time.DateOnly)
	cents, err := strconv.ParseInt(fields[col["amount_cents"]], 10, 64)
	if err != nil {
		return o, fmt.Errorf("order %s: amount_cents %q is not a whole number", o.OrderID, fields[col["amount_cents"]])
	}
	o.AmountCents = &cents
	return o, nil
}

// index finds the index of each wanted column in header.
func index(header, want []string) (map[string]int, error) {
	idx := make(map[string]int, len(header))
	for i, h := range header {
		idx[h] = i
	}
	var missing []string
	for _, w := range want {
		if _, ok := idx[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header row %q lacks the column(s) %s; enrich needs %s",
			strings.Join(header, ","), strings.Join(missing, ", "), strings.Join(want, ", "))
	}
	return idx, nil
}

// shown lists the first few ids, sorted: "C1, C2, and 3 more".
func shown(ids map[string]bool) string {
	sorted := slices.Sorted(maps.Keys(ids))
	if len(sorted) <= maxShown {
		return strings.Join(sorted, ", ")
	}
	return fmt.Sprintf("%s, and %d more", strings.Join(sorted[:maxShown], ", "), len(sorted)-maxShown)
}
