package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/etltest"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/golden"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// enriched is one line of enriched_orders as enrich writes it.
func enriched(id, date string, cents int64, currency string) string {
	return fmt.Sprintf(`{"order_id":%q,"ordered_at":"%sT10:00:00Z","order_date":%q,"customer_id":"C1","customer_name":"Lena Müller","country":"DE","segment":"consumer","amount_cents":%d,"currency":%q}`+"\n",
		id, date, date, cents, currency)
}

const wantHeader = "date,currency,orders,revenue_cents,average_order_cents\n"

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // daily_revenue
		log  string
	}{
		{
			name: "sums per day and fills gaps",
			in: enriched("1", "2024-05-02", 1000, "EUR") +
				enriched("2", "2024-05-02", 1001, "EUR") + // average 1000.5: rounds up
				enriched("3", "2024-04-30", 333, "EUR") +
				enriched("4", "2024-05-02", 0, "EUR") +
				enriched("5", "2024-04-30", 334, "EUR"), // average 333.5: rounds up
			want: wantHeader +
				"2024-04-30,EUR,2,667,334\n" +
				"2024-05-01,EUR,0,0,0\n" +
				"2024-05-02,EUR,3,2001,667\n",
			log: "summed 5 orders over 3 days, 2024-04-30 to 2024-05-02: revenue 26.68 EUR, 1 days without orders\n",
		},
		{
			name: "one order",
			in:   enriched("1", "2024-02-29", 5, "GBP"),
			want: wantHeader + "2024-02-29,GBP,1,5,5\n",
			log:  "summed 1 orders over 1 days, 2024-02-29 to 2024-02-29: revenue 0.05 GBP, 0 days without orders\n",
		},
		{
			name: "skips blank lines, ignores other fields",
			in:   "\n" + `{"order_id":"7","order_date":"2024-05-01","amount_cents":250,"currency":"EUR","coupon":"SPRING"}` + "\n\n",
			want: wantHeader + "2024-05-01,EUR,1,250,250\n",
			log:  "summed 1 orders over 1 days, 2024-05-01 to 2024-05-01: revenue 2.50 EUR, 0 days without orders\n",
		},
		{
			name: "empty input",
			in:   "",
			want: wantHeader,
			log:  "enriched_orders has no orders: wrote no days\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			etltest.Check(t, run, tasktest.Config{
				Task:    "daily_revenue",
				Inputs:  map[string][]byte{"enriched_orders": []byte(tt.in)},
				Outputs: []string{"daily_revenue"},
			}, tt.want, tt.log)
		})
	}
}

func TestRunFails(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		missing bool
		msg     string
	}{
		{
			name: "two currencies",
			in:   enriched("1", "2024-05-01", 100, "EUR") + enriched("2", "2024-05-01", 100, "USD"),
			msg:  "enriched_orders line 2: order 2 is in USD but the orders before it are in EUR; daily revenue sums one currency, so keep one with the currency param of clean_orders",
		},
		{
			name: "not JSON",
			in:   enriched("1", "2024-05-01", 100, "EUR") + "1,C1,2024-05-01T10:00:00Z,100,EUR\n",
			msg:  "enriched_orders line 2: invalid character ',' after top-level value; enriched_orders is written by enrich, run it again",
		},
		{
			name: "no amount",
			in:   `{"order_id":"1","order_date":"2024-05-01","currency":"EUR"}` + "\n",
			msg:  "enriched_orders line 1: no amount_cents; enriched_orders is written by enrich, run it again",
		},
		{
			name: "no date",
			in:   `{"order_id":"1","amount_cents":1,"currency":"EUR"}` + "\n",
			msg:  "enriched_orders line 1: no order_date; enriched_orders is written by enrich, run it again",
		},
		{
			name: "amount not a whole number",
			in:   `{"order_id":"1","order_date":"2024-05-01","amount_cents":1.5,"currency":"EUR"}` + "\n",
			msg:  "enriched_orders line 1: json: cannot unmarshal number 1.5 into Go struct field EnrichedOrder.amount_cents of type int64; enriched_orders is written by enrich, run it again",
		},
		{
			name: "negative amount",
			in:   enriched("9", "2024-05-01", -100, "EUR"),
			msg:  "enriched_orders line 1: order 9 has a negative amount_cents, -100",
		},
		{
			name: "bad date",
			in:   enriched("1", "2024-05-01", 100, "EUR") + enriched("2", "2024-13-01", 100, "EUR"),
			msg:  `enriched_orders line 2: order 2: order_date "2024-13-01" is not a date like 2024-05-01`,
		},
		{
			name: "line too long",
			in:   enriched("1", "2024-05-01", 100, "EUR") + strings.Repeat("x", shop.MaxLine+1),
			msg:  "enriched_orders line 2: longer than 1048576 bytes; is it JSON Lines written by enrich?",
		},
		{
			name: "no input yet", missing: true,
			msg: `task: open input "enriched_orders": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tasktest.Config{
				Task:    "daily_revenue",
				Inputs:  map[string][]byte{"enriched_orders": []byte(tt.in)},
				Outputs: []string{"daily_revenue"},
			}
			if tt.missing {
				cfg.Inputs, cfg.MissingInputs = nil, []string{"enriched_orders"}
			}
			etltest.Fails(t, run, cfg, tt.msg)
		})
	}
}

// The task turns the example's sample data into exactly the committed
// output, and logs the same summary.
func TestSampleData(t *testing.T) {
	res := etltest.Run(t, run, tasktest.Config{
		Task:    "daily_revenue",
		Inputs:  map[string][]byte{"enriched_orders": golden.Golden(t, "enriched_orders.jsonl")},
		Outputs: []string{"daily_revenue"},
	})
	golden.Check(t, "daily_revenue.csv", res.Outputs["daily_revenue"])
	golden.Check(t, "daily_revenue.log", []byte(res.Log))
}
