package main

import (
	"testing"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/etltest"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/golden"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

const (
	ordersHeader    = "order_id,customer_id,ordered_at,amount_cents,currency\n"
	customersHeader = "customer_id,name,email,country,segment,signup_date\n"
	customers       = customersHeader +
		"C1,Lena Müller,lena@example.com,DE,consumer,2023-01-02\n" +
		"C2,\"Smith, Jones & <Partners>\",orders@smith.example,GB,smb,2024-02-29\n" +
		"C3,\"Say \"\"Hi\"\"\",hi@example.com,FR,enterprise,2021-07-01\n"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		orders    string
		customers string
		want      string // enriched_orders
		log       string
	}{
		{
			name: "joins",
			orders: ordersHeader +
				"100,C2,2024-05-01T23:30:00Z,1250,EUR\n" +
				"101,C1,2024-05-02T00:00:00Z,7,EUR\n" +
				"102,C3,2024-05-02T10:00:00Z,123456,EUR\n" +
				"103,C1,2024-05-03T09:00:00Z,0,EUR\n",
			customers: customers,
			want: `{"order_id":"100","ordered_at":"2024-05-01T23:30:00Z","order_date":"2024-05-01","customer_id":"C2","customer_name":"Smith, Jones & <Partners>","country":"GB","segment":"smb","amount_cents":1250,"currency":"EUR"}` + "\n" +
				`{"order_id":"101","ordered_at":"2024-05-02T00:00:00Z","order_date":"2024-05-02","customer_id":"C1","customer_name":"Lena Müller","country":"DE","segment":"consumer","amount_cents":7,"currency":"EUR"}` + "\n" +
				`{"order_id":"102","ordered_at":"2024-05-02T10:00:00Z","order_date":"2024-05-02","customer_id":"C3","customer_name":"Say \"Hi\"","country":"FR","segment":"enterprise","amount_cents":123456,"currency":"EUR"}` + "\n" +
				`{"order_id":"103","ordered_at":"2024-05-03T09:00:00Z","order_date":"2024-05-03","customer_id":"C1","customer_name":"Lena Müller","country":"DE","segment":"consumer","amount_cents":0,"currency":"EUR"}` + "\n",
			log: "joined orders with 3 customers: wrote 4 enriched orders, left out 0\n",
		},
		{
			name: "leaves out orders of unknown customers",
			orders: ordersHeader +
				"1,C9,2024-05-01T10:00:00Z,100,EUR\n" +
				"2,C1,2024-05-01T11:00:00Z,200,EUR\n" +
				"3,C9,2024-05-01T12:00:00Z,300,EUR\n" +
				"4,C4,2024-05-01T12:00:00Z,300,EUR\n" +
				"5,C8,2024-05-01T12:00:00Z,300,EUR\n" +
				"6,C7,2024-05-01T12:00:00Z,300,EUR\n" +
				"7,C6,2024-05-01T12:00:00Z,300,EUR\n" +
				"8,C5,2024-05-01T12:00:00Z,300,EUR\n",
			customers: customers,
			want:      `{"order_id":"2","ordered_at":"2024-05-01T11:00:00Z","order_date":"2024-05-01","customer_id":"C1","customer_name":"Lena Müller","country":"DE","segment":"consumer","amount_cents":200,"currency":"EUR"}` + "\n",
			log:       "joined orders with 3 customers: wrote 1 enriched orders, left out 7 of 6 unknown customers (C4, C5, C6, C7, C8, and 1 more)\n",
		},
		{
			name:      "finds columns by name",
			orders:    "currency,amount_cents,order_id,ordered_at,customer_id\nEUR,5,9,2024-05-01T10:00:00Z,C1\n",
			customers: "segment,country,name,customer_id\nsmb,AT,Huber,C1\n",
			want:      `{"order_id":"9","ordered_at":"2024-05-01T10:00:00Z","order_date":"2024-05-01","customer_id":"C1","customer_name":"Huber","country":"AT","segment":"smb","amount_cents":5,"currency":"EUR"}` + "\n",
			log:       "joined orders with 1 customers: wrote 1 enriched orders, left out 0\n",
		},
		{
			name:      "empty orders",
			orders:    "",
			customers: customers,
			want:      "",
			log:       "orders is empty: wrote no enriched orders\n",
		},
		{
			name:      "header only",
			orders:    ordersHeader,
			customers: customers,
			want:      "",
			log:       "joined orders with 3 customers: wrote 0 enriched orders, left out 0\n",
		},
		{
			name:      "empty customers",
			orders:    ordersHeader + "1,C1,2024-05-01T10:00:00Z,100,EUR\n",
			customers: "",
			want:      "",
			log:       "joined orders with 0 customers: wrote 0 enriched orders, left out 1 of 1 unknown customers (C1)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			etltest.Check(t, run, tasktest.Config{
				Task:    "enrich",
				Inputs:  map[string][]byte{"orders": []byte(tt.orders), "customers": []byte(tt.customers)},
				Outputs: []string{"enriched_orders"},
			}, tt.want, tt.log)
		})
	}
}

// Both inputs are written by the pipeline, so a bad row means something
// upstream is wrong: enrich fails rather than guess.
func TestRunFails(t *testing.T) {
	tests := []struct {
		name      string
		orders    string
		customers string
		missing   []string
		msg       string
	}{
		{
			name:      "bad amount",
			orders:    ordersHeader + "1,C1,2024-05-01T10:00:00Z,100,EUR\n2,C1,2024-05-01T10:00:00Z,1.00,EUR\n",
			customers: customers,
			msg:       `orders line 3: order 2: amount_cents "1.00" is not a whole number; orders is written by clean_orders, run it again`,
		},
		{
			name:      "bad time",
			orders:    ordersHeader + "1,C1,yesterday,100,EUR\n",
			customers: customers,
			msg:       `orders line 2: order 1: ordered_at "yesterday" is not an RFC 3339 time; orders is written by clean_orders, run it again`,
		},
		{
			name:      "wrong field count",
			orders:    ordersHeader + "1,C1,2024-05-01T10:00:00Z,100\n",
			customers: customers,
			msg:       `orders: record on line 2: wrong number of fields; orders is written by clean_orders, run it again`,
		},
		{
			name:      "missing order column",
			orders:    "order_id,customer_id,ordered_at,amount,currency\n",
			customers: customers,
			msg:       `orders: the header row "order_id,customer_id,ordered_at,amount,currency" lacks the column(s) amount_cents; enrich needs order_id, customer_id, ordered_at, amount_cents, currency`,
		},
		{
			name:      "missing customer column",
			orders:    ordersHeader,
			customers: "customer_id,name\nC1,A\n",
			msg:       `customers: the header row "customer_id,name" lacks the column(s) country, segment; enrich needs customer_id, name, country, segment`,
		},
		{
			name:      "duplicate customer",
			orders:    ordersHeader,
			customers: customers + "C2,Again,a@b.example,DE,smb,2024-01-01\n",
			msg:       `customers line 5: customer "C2" appears twice; customers is written by clean_customers, which keeps one row per customer, run it again`,
		},
		{
			name:    "no customers yet",
			orders:  ordersHeader,
			missing: []string{"customers"},
			msg:     `task: open input "customers": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputs := map[string][]byte{"orders": []byte(tt.orders)}
			if tt.missing == nil {
				inputs["customers"] = []byte(tt.customers)
			}
			etltest.Fails(t, run, tasktest.Config{
				Task:          "enrich",
				Inputs:        inputs,
				MissingInputs: tt.missing,
				Outputs:       []string{"enriched_orders"},
			}, tt.msg)
		})
	}
}

// The task turns the example's sample data into exactly the committed
// output, and logs the same summary.
func TestSampleData(t *testing.T) {
	res := etltest.Run(t, run, tasktest.Config{
		Task:    "enrich",
		Inputs:  map[string][]byte{"orders": golden.Golden(t, "orders.csv"), "customers": golden.Golden(t, "customers.csv")},
		Outputs: []string{"enriched_orders"},
	})
	golden.Check(t, "enriched_orders.jsonl", res.Outputs["enriched_orders"])
	golden.Check(t, "enrich.log", []byte(res.Log))
}
