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
func enriched(id, date, customer, name string, cents int64, currency string) string {
	return fmt.Sprintf(`{"order_id":%q,"ordered_at":"%sT10:00:00Z","order_date":%q,"customer_id":%q,"customer_name":%q,"country":"DE","segment":"smb","amount_cents":%d,"currency":%q}`+"\n",
		id, date, date, customer, name, cents, currency)
}

const wantHeader = "customer_id,name,country,segment,currency,orders,total_cents,average_order_cents,first_order,last_order\n"

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // customer_stats
		log  string
	}{
		{
			name: "summarises per customer",
			in: enriched("1", "2024-05-03", "C2", "Weber GmbH", 1000, "EUR") +
				enriched("2", "2024-05-01", "C10", "Smith, Jones & Partners", 250, "EUR") +
				enriched("3", "2024-05-09", "C2", "Weber GmbH", 1001, "EUR") +
				enriched("4", "2024-04-28", "C2", "Weber GmbH", 0, "EUR") +
				enriched("5", "2024-05-05", "C1", `Say "Hi"`, 199, "EUR"),
			want: wantHeader +
				"C1,\"Say \"\"Hi\"\"\",DE,smb,EUR,1,199,199,2024-05-05,2024-05-05\n" +
				"C10,\"Smith, Jones & Partners\",DE,smb,EUR,1,250,250,2024-05-01,2024-05-01\n" +
				"C2,Weber GmbH,DE,smb,EUR,3,2001,667,2024-04-28,2024-05-09\n",
			log: "summarised 5 orders of 3 customers\n",
		},
		{
			name: "rounds the average half up",
			in: enriched("1", "2024-05-01", "C1", "A", 100, "GBP") +
				enriched("2", "2024-05-02", "C1", "A", 101, "GBP"),
			want: wantHeader + "C1,A,DE,smb,GBP,2,201,101,2024-05-01,2024-05-02\n",
			log:  "summarised 2 orders of 1 customers\n",
		},
		{
			name: "skips blank lines",
			in:   "\n" + enriched("1", "2024-05-01", "C1", "A", 100, "EUR") + "\n",
			want: wantHeader + "C1,A,DE,smb,EUR,1,100,100,2024-05-01,2024-05-01\n",
			log:  "summarised 1 orders of 1 customers\n",
		},
		{
			name: "empty input",
			in:   "",
			want: wantHeader,
			log:  "summarised 0 orders of 0 customers\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			etltest.Check(t, run, tasktest.Config{
				Task:    "customer_stats",
				Inputs:  map[string][]byte{"enriched_orders": []byte(tt.in)},
				Outputs: []string{"customer_stats"},
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
			in:   enriched("1", "2024-05-01", "C1", "A", 100, "EUR") + enriched("2", "2024-05-01", "C2", "B", 100, "USD"),
			msg:  "enriched_orders line 2: order 2 is in USD but the orders before it are in EUR; customer totals sum one currency, so keep one with the currency param of clean_orders",
		},
		{
			name: "no customer",
			in:   `{"order_id":"1","order_date":"2024-05-01","amount_cents":1,"currency":"EUR"}` + "\n",
			msg:  "enriched_orders line 1: no customer_id; enriched_orders is written by enrich, run it again",
		},
		{
			name: "not JSON",
			in:   "{\"order_id\":\n",
			msg:  "enriched_orders line 1: unexpected end of JSON input; enriched_orders is written by enrich, run it again",
		},
		{
			name: "bad date",
			in:   enriched("3", "05/01/2024", "C1", "A", 100, "EUR"),
			msg:  `enriched_orders line 1: order 3: order_date "05/01/2024" is not a date like 2024-05-01`,
		},
		{
			name: "negative amount",
			in:   enriched("4", "2024-05-01", "C1", "A", -1, "EUR"),
			msg:  "enriched_orders line 1: order 4 has a negative amount_cents, -1",
		},
		{
			name: "line too long",
			in:   strings.Repeat(" ", shop.MaxLine+1),
			msg:  "enriched_orders line 1: longer than 1048576 bytes; is it JSON Lines written by enrich?",
		},
		{
			name: "no input yet", missing: true,
			msg: `task: open input "enriched_orders": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tasktest.Config{
				Task:    "customer_stats",
				Inputs:  map[string][]byte{"enriched_orders": []byte(tt.in)},
				Outputs: []string{"customer_stats"},
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
		Task:    "customer_stats",
		Inputs:  map[string][]byte{"enriched_orders": golden.Golden(t, "enriched_orders.jsonl")},
		Outputs: []string{"customer_stats"},
	})
	golden.Check(t, "customer_stats.csv", res.Outputs["customer_stats"])
	golden.Check(t, "customer_stats.log", []byte(res.Log))
}
