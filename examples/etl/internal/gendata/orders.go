package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// The month of orders: May 2024, in the shop's local time (UTC+2).
var (
	firstDay = time.Date(2024, time.May, 1, 0, 0, 0, 0, cest)
	days     = 31
	cest     = time.FixedZone("CEST", 2*60*60)
)

// hourWeights is how busy each local hour from 06:00 to 23:00 is.
var hourWeights = []int{1, 2, 4, 6, 7, 7, 8, 8, 7, 6, 6, 7, 9, 11, 12, 11, 8, 4}

// unmatched are customers whose rows clean_customers drops, so enrich finds
// no customer for their orders.
var unmatched = []string{"C0151", "C0152", "C0153", "C0154", "C0155", "C0156"}

// order is one row of orders.csv before formatting.
type order struct {
	id       int
	customer string
	at       time.Time
	cents    int64
	currency string
}

// writeOrders writes orders.csv: a month of orders in time order, from a
// few busy customers and many occasional ones, with a handful of rows
// broken the ways exports break.
func writeOrders(w io.Writer, rng *rand, cs []customer) {
	// Customer i orders in proportion to 1/(i+20): a few often, most now
	// and then.
	loyalty := make([]int, len(cs))
	for i := range loyalty {
		loyalty[i] = 100_000 / (i + 20)
	}
	var orders []order
	for d := range days {
		day := firstDay.AddDate(0, 0, d)
		n := 57 + rng.intn(12)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			n += 10
		}
		var times []time.Time
		for range n {
			times = append(times, day.Add(time.Duration(6+weighted(rng, hourWeights))*time.Hour+
				time.Duration(rng.intn(3600))*time.Second))
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for _, at := range times {
			o := order{id: 100001 + len(orders), at: at}
			if rng.intn(250) == 0 {
				o.customer, o.cents, o.currency = pick(rng, unmatched), amount(rng, "consumer"), "EUR"
			} else {
				c := cs[weighted(rng, loyalty)]
				o.customer, o.cents, o.currency = c.id, amount(rng, c.segment), c.currency()
			}
			orders = append(orders, o)
		}
	}

	cw := csv.NewWriter(w)
	write := func(rec ...string) {
		if err := cw.Write(rec); err != nil {
			panic(err) // writing to a bytes.Buffer does not fail
		}
	}
	write("order_id", "customer_id", "ordered_at", "amount", "currency")
	// Rows to break, by position, and how.
	broken := map[int]func(order) []string{
		97:   func(o order) []string { return row(o, at(o), fmt.Sprintf("%d,%02d", o.cents/100, o.cents%100)) },      // decimal comma
		311:  func(o order) []string { return []string{strconv.Itoa(o.id), o.customer, money(o.cents), o.currency} }, // no ordered_at
		555:  func(o order) []string { return row(o, "2024-05-32T10:12:00Z", money(o.cents)) },
		802:  func(o order) []string { o.customer = ""; return row(o, at(o), money(o.cents)) },
		1023: func(o order) []string { return row(o, at(o), "N/A") },
		1290: func(o order) []string { return row(o, at(o), "-"+money(o.cents)) }, // a refund in the order feed
		1475: func(o order) []string { return append(row(o, at(o), money(o.cents)), "gift wrap") },
		1666: func(o order) []string { return row(o, o.at.UTC().Format("01/02/2006 15:04"), money(o.cents)) },
		1871: func(o order) []string { return row(o, at(o), fmt.Sprintf("%d.%02d9", o.cents/100, o.cents%100)) }, // a tenth of a cent
	}
	for i, o := range orders {
		if b, ok := broken[i]; ok {
			write(b(o)...)
			continue
		}
		write(row(o, at(o), money(o.cents))...)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		panic(err)
	}
}

func row(o order, at, amount string) []string {
	return []string{strconv.Itoa(o.id), o.customer, at, amount, o.currency}
}

// at formats when the order was placed: in UTC, except that one in ten
// rows comes from a system that writes local time with its offset.
func at(o order) string {
	if o.id%10 == 3 {
		return o.at.Format(time.RFC3339)
	}
	return o.at.UTC().Format(time.RFC3339)
}

// money formats cents the way the export does: 12.50, but 12 for whole
// amounts.
func money(cents int64) string {
	if cents%100 == 0 {
		return strconv.FormatInt(cents/100, 10)
	}
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// spread is a log-normal spread of basket sizes around the median, in
// thousandths: twenty equally likely steps. Integers keep the data the same
// on every platform, which floating point would not promise.
var spread = []int64{340, 453, 531, 598, 660, 720, 779, 839, 901, 966, 1035, 1110, 1192, 1283, 1389, 1515, 1672, 1883, 2207, 2939}

// amount returns an order's value in cents, spread around a typical basket
// for the segment.
func amount(rng *rand, segment string) int64 {
	median := map[string]int64{"consumer": 4800, "smb": 26000, "enterprise": 145000}[segment]
	cents := median * spread[rng.intn(len(spread))] / 1000 * int64(900+rng.intn(201)) / 1000
	// Prices end in .90, .95 or .99 half the time, as in a shop.
	if rng.intn(2) == 0 {
		cents = cents/100*100 + []int64{90, 95, 99}[rng.intn(3)]
	}
	return max(cents, 199)
}

// weighted returns an index into weights, chosen in proportion to them.
func weighted(rng *rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}
