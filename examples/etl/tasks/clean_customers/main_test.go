package main

import (
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/etltest"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/golden"
	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

const header = "customer_id,name,email,country,segment,signup_date\n"

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // customers
		log  string
	}{
		{
			name: "normalises",
			in: header +
				"C1,Lena Müller,lena@example.com,DE,consumer,2023-01-02\n" +
				"C2,  Jonas Weber ,JONAS@Example.COM,de,Consumer,2022-12-31\n" +
				"\"C3\",\"Smith, Jones & Partners Ltd\",orders@smith.example,GB,SMB,2024-02-29\n" +
				"C4,Acme S.A.,buy@acme.example, fr ,enterprise,2021-07-01\n",
			want: header +
				"C1,Lena Müller,lena@example.com,DE,consumer,2023-01-02\n" +
				"C2,Jonas Weber,jonas@example.com,DE,consumer,2022-12-31\n" +
				"C3,\"Smith, Jones & Partners Ltd\",orders@smith.example,GB,smb,2024-02-29\n" +
				"C4,Acme S.A.,buy@acme.example,FR,enterprise,2021-07-01\n",
			log: "read 4 rows: kept 4 customers, dropped 0\n",
		},
		{
			name: "drops malformed rows and duplicates",
			in: header +
				"C1,Mia Hoffmann,mia@example.com,Germany,consumer,2023-06-12\n" +
				"C2,,buyer@example.com,FR,consumer,2023-09-01\n" +
				"C3,Pietro Gallo,pietro@example.com,IT,vip,2022-11-20\n" +
				"C4,Eva Lindqvist,not-an-email,FI,consumer,2024-01-05\n" +
				"C5,Ruairí Doyle,ruairi@example.com,IE,smb,31/12/2023\n" +
				"C6,Jan Novák,jan@example.com,CZ\n" +
				"C7,Ok Customer,ok@example.com,NL,smb,2024-01-01\n" +
				"C7,Ok Customer (old),old@example.com,NL,smb,2020-01-01\n" +
				",No Id,noid@example.com,NL,smb,2024-01-01\n" +
				"C8,Two Ats,a@b@example.com,NL,smb,2024-01-01\n" +
				"C9,No Dot,a@example,NL,smb,2024-01-01\n" +
				"C10,Bad Date,ten@example.com,NL,smb,2023-02-29\n" +
				"C11,Numeric Country,eleven@example.com,D1,smb,2023-02-28\n",
			want: header + "C7,Ok Customer,ok@example.com,NL,smb,2024-01-01\n",
			log: "dropped line 2: customer C1: country \"Germany\" is not a two-letter code like DE\n" +
				"dropped line 3: customer C2: an empty name\n" +
				"dropped line 4: customer C3: segment \"vip\" is not one of consumer, smb, enterprise\n" +
				"dropped line 5: customer C4: email \"not-an-email\" is not an address like name@example.com\n" +
				"dropped line 6: customer C5: signup_date \"31/12/2023\" is not a date like 2024-05-01\n" +
				"read 13 rows: kept 1 customers, dropped 12 " +
				"(country 2, customer_id 1, duplicate 1, email 3, field count 1, name 1, segment 1, signup_date 2)\n",
		},
		{
			name: "finds columns by name",
			in: "\ufeffsegment,country,signup_date,email,name,customer_id,notes\n" +
				"smb,AT,2023-03-03,x@y.example,Huber GmbH,C42,\"pays late, but pays\"\n",
			want: header + "C42,Huber GmbH,x@y.example,AT,smb,2023-03-03\n",
			log:  "read 1 rows: kept 1 customers, dropped 0\n",
		},
		{
			name: "goes on after a row CSV cannot read",
			in: header +
				"C1,Bad \"Quote,a@b.example,DE,smb,2023-01-01\n" +
				"C2,Good,c@d.example,DE,smb,2023-01-01\n",
			want: header + "C2,Good,c@d.example,DE,smb,2023-01-01\n",
			log: "dropped line 2: column 8: bare \" in non-quoted-field\n" +
				"read 2 rows: kept 1 customers, dropped 1 (csv 1)\n",
		},
		{
			name: "empty input",
			in:   "",
			want: header,
			log:  "customers_raw is empty: wrote no customers\n",
		},
		{
			name: "header only",
			in:   header,
			want: header,
			log:  "read 0 rows: kept 0 customers, dropped 0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			etltest.Check(t, run, tasktest.Config{
				Task:    "clean_customers",
				Inputs:  map[string][]byte{"customers_raw": []byte(tt.in)},
				Outputs: []string{"customers"},
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
			name: "missing columns",
			in:   "id,name,email,country\nC1,A,a@b.example,DE\n",
			msg:  `customers_raw: the header row "id,name,email,country" lacks the column(s) customer_id, segment, signup_date; the first row must name the columns customer_id, name, email, country, segment, signup_date`,
		},
		{
			name: "unreadable header",
			in:   "customer_id,\"name\n",
			msg:  `customers_raw: read the header row: parse error on line 1, column 19: extraneous or missing " in quoted-field`,
		},
		{
			name: "no input yet", missing: true,
			msg: `task: open input "customers_raw": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tasktest.Config{
				Task:    "clean_customers",
				Inputs:  map[string][]byte{"customers_raw": []byte(tt.in)},
				Outputs: []string{"customers"},
			}
			if tt.missing {
				cfg.Inputs, cfg.MissingInputs = nil, []string{"customers_raw"}
			}
			etltest.Fails(t, run, cfg, tt.msg)
		})
	}
}

// Only the first few dropped rows are shown, so the log stays short.
func TestRunLogIsBounded(t *testing.T) {
	in := header + strings.Repeat("C1,A,a@b.example,DE,smb,2023-01-01\n", 1000)
	res := etltest.Run(t, run, tasktest.Config{
		Inputs:  map[string][]byte{"customers_raw": []byte(in)},
		Outputs: []string{"customers"},
	})
	lines := strings.Split(strings.TrimSuffix(res.Log, "\n"), "\n")
	if len(lines) != shop.MaxExamples+1 {
		t.Errorf("log has %d lines, want %d:\n%s", len(lines), shop.MaxExamples+1, res.Log)
	}
	if want := "read 1000 rows: kept 1 customers, dropped 999 (duplicate 999)"; lines[len(lines)-1] != want {
		t.Errorf("last log line = %q, want %q", lines[len(lines)-1], want)
	}
}

// The task turns the example's sample data into exactly the committed
// output, and logs the same summary.
func TestSampleData(t *testing.T) {
	res := etltest.Run(t, run, tasktest.Config{
		Task:    "clean_customers",
		Inputs:  map[string][]byte{"customers_raw": golden.Data(t, "customers.csv")},
		Outputs: []string{"customers"},
	})
	golden.Check(t, "customers.csv", res.Outputs["customers"])
	golden.Check(t, "clean_customers.log", []byte(res.Log))
}
