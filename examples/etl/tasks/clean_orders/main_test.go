package main

import (
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/etltest"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/golden"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

const header = "order_id,customer_id,ordered_at,amount,currency\n"

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		currency string
		in       string
		want     string // orders
		log      string
	}{
		{
			name:     "normalises kept orders",
			currency: "EUR",
			in: header +
				"1,C1,2024-05-01T09:30:00Z,12.50,EUR\n" +
				"2,C2,2024-05-02T01:30:00+02:00,12.5,EUR\n" + // the day before in UTC
				"3, C3 ,2024-05-02T10:00:00.75Z,12,eur\n" +
				"4,C1,2024-05-03T23:59:59-01:00,0.07,EUR\n",
			want: "order_id,customer_id,ordered_at,amount_cents,currency\n" +
				"1,C1,2024-05-01T09:30:00Z,1250,EUR\n" +
				"2,C2,2024-05-01T23:30:00Z,1250,EUR\n" +
				"3,C3,2024-05-02T10:00:00Z,1200,EUR\n" +
				"4,C1,2024-05-04T00:59:59Z,7,EUR\n",
			log: "read 4 rows: kept 4 EUR orders, skipped 0 in other currencies, dropped 0 malformed\n",
		},
		{
			name:     "keeps the currency of the param",
			currency: "gbp",
			in: header +
				"1,C1,2024-05-01T09:30:00Z,10.00,EUR\n" +
				"2,C2,2024-05-01T09:31:00Z,20.00,GBP\n" +
				"3,C3,2024-05-01T09:32:00Z,30.00,USD\n" +
				"4,C4,2024-05-01T09:33:00Z,40.00,EUR\n",
			want: "order_id,customer_id,ordered_at,amount_cents,currency\n" +
				"2,C2,2024-05-01T09:31:00Z,2000,GBP\n",
			log: "read 4 rows: kept 1 GBP orders, skipped 3 in other currencies (EUR 2, USD 1), dropped 0 malformed\n",
		},
		{
			name:     "drops malformed rows",
			currency: "EUR",
			in: header +
				"1,C1,2024-05-01T09:30:00Z,\"31,99\",EUR\n" +
				"2,C1,37.39,EUR\n" +
				"3,C1,2024-05-32T10:12:00Z,1.00,EUR\n" +
				"4,,2024-05-01T09:30:00Z,1.00,EUR\n" +
				"5,C1,2024-05-01T09:30:00Z,N/A,EUR\n" +
				"6,C1,2024-05-01T09:30:00Z,9.99,EUR\n" + // the only good one
				"7,C1,2024-05-01T09:30:00Z,-1.00,EUR\n" +
				"8,C1,2024-05-01T09:30:00Z,1.00,EUR,gift wrap\n" +
				"9,C1,05/26/2024 11:50,1.00,EUR\n" +
				"10,C1,2024-05-01T09:30:00Z,1.009,EUR\n" +
				",C1,2024-05-01T09:30:00Z,1.00,EUR\n" +
				"12,C1,2024-05-01T09:30:00Z,1.00,EURO\n" +
				"13,C1,2024-05-01T09:30:00Z,12.,EUR\n" +
				"14,C1,2024-05-01T09:30:00Z,.5,EUR\n" +
				"15,C1,2024-05-01T09:30:00Z,12345678901234.00,EUR\n",
			want: "order_id,customer_id,ordered_at,amount_cents,currency\n" +
				"6,C1,2024-05-01T09:30:00Z,999,EUR\n",
			log: "dropped line 2: order 1: amount \"31,99\" is not a decimal number like 12.50\n" +
				"dropped line 3: 4 fields, but the header has 5\n" +
				"dropped line 4: order 3: ordered_at \"2024-05-32T10:12:00Z\" is not an RFC 3339 time like 2024-05-01T09:30:00Z\n" +
				"dropped line 5: order 4: an empty customer_id\n" +
				"dropped line 6: order 5: amount \"N/A\" is not a decimal number like 12.50\n" +
				"read 15 rows: kept 1 EUR orders, skipped 0 in other currencies, dropped 14 malformed " +
				"(amount 7, currency 1, customer_id 1, field count 2, order_id 1, ordered_at 2)\n",
		},
		{
			name:     "finds columns by name",
			currency: "EUR",
			in: "\ufeffcurrency, amount ,channel,ordered_at,customer_id,order_id\n" +
				"EUR,5.95,web,2024-05-01T09:30:00Z,C9,77\n",
			want: "order_id,customer_id,ordered_at,amount_cents,currency\n" +
				"77,C9,2024-05-01T09:30:00Z,595,EUR\n",
			log: "read 1 rows: kept 1 EUR orders, skipped 0 in other currencies, dropped 0 malformed\n",
		},
		{
			name:     "goes on after a row CSV cannot read",
			currency: "EUR",
			in: header +
				"1,C1,2024-05-01T09:30:00Z,1.00,EUR\n" +
				"2,C\"1,2024-05-01T09:30:00Z,2.00,EUR\n" +
				"3,C1,2024-05-01T09:30:00Z,3.00,EUR\n",
			want: "order_id,customer_id,ordered_at,amount_cents,currency\n" +
				"1,C1,2024-05-01T09:30:00Z,100,EUR\n" +
				"3,C1,2024-05-01T09:30:00Z,300,EUR\n",
			log: "dropped line 3: column 4: bare \" in non-quoted-field\n" +
				"read 3 rows: kept 2 EUR orders, skipped 0 in other currencies, dropped 1 malformed (csv 1)\n",
		},
		{
			name:     "quotes what needs quoting",
			currency: "EUR",
			in:       header + "\"A,1\",\"C \"\"x\"\"\",2024-05-01T09:30:00Z,1,EUR\n",
			want: "order_id,customer_id,ordered_at,amount_cents,currency\n" +
				"\"A,1\",\"C \"\"x\"\"\",2024-05-01T09:30:00Z,100,EUR\n",
			log: "read 1 rows: kept 1 EUR orders, skipped 0 in other currencies, dropped 0 malformed\n",
		},
		{
			name:     "empty input",
			currency: "EUR",
			in:       "",
			want:     "order_id,customer_id,ordered_at,amount_cents,currency\n",
			log:      "orders_raw is empty: wrote no orders\n",
		},
		{
			name:     "header only",
			currency: "EUR",
			in:       header,
			want:     "order_id,customer_id,ordered_at,amount_cents,currency\n",
			log:      "read 0 rows: kept 0 EUR orders, skipped 0 in other currencies, dropped 0 malformed\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			etltest.Check(t, run, tasktest.Config{
				Task:    "clean_orders",
				Params:  map[string]string{"currency": tt.currency},
				Inputs:  map[string][]byte{"orders_raw": []byte(tt.in)},
				Outputs: []string{"orders"},
			}, tt.want, tt.log)
		})
	}
}

func TestRunFails(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		in      string
		missing bool
		msg     string
	}{
		{
			name: "no currency param", params: nil, in: header,
			msg: "the currency param is not set; set the currency to keep in glacier.yaml, as in params: {currency: EUR}",
		},
		{
			name: "bad currency param", params: map[string]string{"currency": "euro"}, in: header,
			msg: `the currency param "euro" is not a three-letter currency code such as EUR; fix it in glacier.yaml`,
		},
		{
			name: "missing column", params: map[string]string{"currency": "EUR"},
			in:  "order_id,customer,ordered_at,price,currency\n1,C1,2024-05-01T09:30:00Z,1.00,EUR\n",
			msg: `orders_raw: the header row "order_id,customer,ordered_at,price,currency" lacks the column(s) customer_id, amount; the first row must name the columns order_id, customer_id, ordered_at, amount, currency`,
		},
		{
			name: "no input yet", params: map[string]string{"currency": "EUR"}, missing: true,
			msg: `task: open input "orders_raw": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tasktest.Config{
				Task:    "clean_orders",
				Params:  tt.params,
				Inputs:  map[string][]byte{"orders_raw": []byte(tt.in)},
				Outputs: []string{"orders"},
			}
			if tt.missing {
				cfg.Inputs, cfg.MissingInputs = nil, []string{"orders_raw"}
			}
			etltest.Fails(t, run, cfg, tt.msg)
		})
	}
}

// Only the first few malformed rows are shown, so the log stays short.
func TestRunLogIsBounded(t *testing.T) {
	in := header + strings.Repeat("1,C1,not a time,1.00,EUR\n", 1000)
	res := etltest.Run(t, run, tasktest.Config{
		Params:  map[string]string{"currency": "EUR"},
		Inputs:  map[string][]byte{"orders_raw": []byte(in)},
		Outputs: []string{"orders"},
	})
	lines := strings.Split(strings.TrimSuffix(res.Log, "\n"), "\n")
	if len(lines) != shop.MaxExamples+1 {
		t.Errorf("log has %d lines, want %d:\n%s", len(lines), shop.MaxExamples+1, res.Log)
	}
	if want := "read 1000 rows: kept 0 EUR orders, skipped 0 in other currencies, dropped 1000 malformed (ordered_at 1000)"; lines[len(lines)-1] != want {
		t.Errorf("last log line = %q, want %q", lines[len(lines)-1], want)
	}
}

func TestParseCents(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"7", 700, ""},
		{"7.5", 750, ""},
		{"7.05", 705, ""},
		{"1234567890123.99", 123456789012399, ""},
		{"", 0, `amount "" is not a decimal number like 12.50`},
		{"1e3", 0, `amount "1e3" is not a decimal number like 12.50`},
		{"+1", 0, `amount "+1" is not a decimal number like 12.50`},
		{"1.2.3", 0, `amount "1.2.3" is not a decimal number like 12.50`},
		{"-0.01", 0, `amount "-0.01" is negative`},
		{"0.001", 0, `amount "0.001" has fractions of a cent`},
		{"12345678901234", 0, `amount "12345678901234" is too large`},
	}
	for _, tt := range tests {
		got, err := parseCents(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseCents(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseCents(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// The task turns the example's sample data into exactly the committed
// output, and logs the same summary.
func TestSampleData(t *testing.T) {
	res := etltest.Run(t, run, tasktest.Config{
		Task:    "clean_orders",
		Params:  map[string]string{"currency": "EUR"},
		Inputs:  map[string][]byte{"orders_raw": golden.Data(t, "orders.csv")},
		Outputs: []string{"orders"},
	})
	golden.Check(t, "orders.csv", res.Outputs["orders"])
	golden.Check(t, "clean_orders.log", []byte(res.Log))
}
