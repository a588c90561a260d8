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
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

// inColumns are the columns orders_raw must have; orders has the columns
// shop.OrderColumns.
var inColumns = []string{"order_id", "customer_id", "ordered_at", "amount", "currency"}

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
	w, err := shop.NewCSVWriter(out, shop.OrderColumns)
	if err != nil {
		return err
	}

	rows, err := shop.ReadExport(in, "orders_raw", inColumns)
	if errors.Is(err, io.EOF) {
		t.Logf("orders_raw is empty: wrote no orders")
		return w.Close()
	}
	if err != nil {
		return err
	}
	kept := 0
	otherCurrency := shop.Tally{}
	rec := make([]string, len(shop.OrderColumns))
	for rows.Next() {
		o, cause, problem := parse(rows.Get)
		if problem != "" {
			rows.Drop(cause, problem)
			continue
		}
		if o.currency != currency {
			otherCurrency[o.currency]++
			continue
		}
		rec[0], rec[1], rec[2], rec[3], rec[4] = o.id, o.customer, o.at, fmt.Sprint(o.cents), o.currency
		if err := w.Write(rec); err != nil {
			return err
		}
		kept++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	for _, e := range rows.Dropped.Examples {
		t.Logf("dropped %s", e)
	}
	t.Logf("%s", summary(rows, kept, currency, otherCurrency))
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

// order is a well-formed order.
type order struct {
	id, customer, at, currency string
	cents                      int64
}

// parse checks one row, whose columns get returns. For a malformed row it
// returns the column at fault and what is wrong with it.
func parse(get func(column string) string) (o order, cause, problem string) {
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

// summary is the log's last line.
func summary(rows *shop.Export, kept int, currency string, otherCurrency shop.Tally) string {
	var b strings.Builder
	fmt.Fprintf(&b, "read %d rows: kept %d %s orders", rows.Rows, kept, currency)
	other := otherCurrency.Total()
	fmt.Fprintf(&b, ", skipped %d in other currencies", other)
	if other > 0 {
		fmt.Fprintf(&b, " (%s)", otherCurrency)
	}
	dropped := rows.Dropped.ByCause.Total()
	fmt.Fprintf(&b, ", dropped %d malformed", dropped)
	if dropped > 0 {
		fmt.Fprintf(&b, " (%s)", rows.Dropped.ByCause)
	}
	return b.String()
}
