// Command clean_customers is a task of the etl example. It reads the CRM's
// customer export, normalises it and drops the rows it cannot trust.
//
// Input customers_raw is CSV with a header row naming at least
// customer_id, name, email, country, segment and signup_date, in any order;
// other columns are ignored. Output customers is CSV with the columns
//
//	customer_id,name,email,country,segment,signup_date
//
// with surrounding spaces trimmed, the email in lower case, the country as
// an upper-case ISO 3166 alpha-2 code, the segment one of consumer, smb or
// enterprise, and signup_date as YYYY-MM-DD. A customer listed twice keeps
// its first row; a malformed row is dropped. The log counts both by cause
// and shows the first few.
package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/examples/etl/internal/shop"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() { task.Run(run) }

// columns is the header of customers, and what customers_raw must have.
var columns = []string{"customer_id", "name", "email", "country", "segment", "signup_date"}

// segments are the known customer segments.
var segments = []string{"consumer", "smb", "enterprise"}

func run(t *task.Context) error {
	in, err := t.Input("customers_raw")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("customers")
	if err != nil {
		return err
	}
	w, err := shop.NewCSVWriter(out, columns)
	if err != nil {
		return err
	}

	rows, err := shop.ReadExport(in, "customers_raw", columns)
	if errors.Is(err, io.EOF) {
		t.Logf("customers_raw is empty: wrote no customers")
		return w.Close()
	}
	if err != nil {
		return err
	}
	kept := 0
	seen := make(map[string]bool) // ids written so far, a few bytes per customer
	for rows.Next() {
		rec, cause, problem := parse(rows.Get)
		if problem != "" {
			rows.Drop(cause, problem)
			continue
		}
		if seen[rec[0]] {
			rows.Drop("duplicate", fmt.Sprintf("customer %s: listed again; the first row is kept", rec[0]))
			continue
		}
		seen[rec[0]] = true
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
	dropped := rows.Dropped.ByCause.Total()
	msg := fmt.Sprintf("read %d rows: kept %d customers, dropped %d", rows.Rows, kept, dropped)
	if dropped > 0 {
		msg += " (" + rows.Dropped.ByCause.String() + ")"
	}
	t.Logf("%s", msg)
	return nil
}

// parse normalises one row, whose columns get returns, into the columns of
// customers. For a malformed row it returns the column at fault and what is
// wrong with it.
func parse(get func(column string) string) (rec []string, cause, problem string) {
	id := get("customer_id")
	if id == "" {
		return nil, "customer_id", "an empty customer_id"
	}
	name := get("name")
	if name == "" {
		return nil, "name", fmt.Sprintf("customer %s: an empty name", id)
	}
	email := strings.ToLower(get("email"))
	if !isEmail(email) {
		return nil, "email", fmt.Sprintf("customer %s: email %q is not an address like name@example.com", id, get("email"))
	}
	country := strings.ToUpper(get("country"))
	if !isCountry(country) {
		return nil, "country", fmt.Sprintf("customer %s: country %q is not a two-letter code like DE", id, get("country"))
	}
	segment := strings.ToLower(get("segment"))
	if !slices.Contains(segments, segment) {
		return nil, "segment", fmt.Sprintf("customer %s: segment %q is not one of %s", id, get("segment"), strings.Join(segments, ", "))
	}
	signup := get("signup_date")
	if _, err := time.Parse(time.DateOnly, signup); err != nil {
		return nil, "signup_date", fmt.Sprintf("customer %s: signup_date %q is not a date like 2024-05-01", id, signup)
	}
	return []string{id, name, email, country, segment, signup}, "", ""
}

// isEmail is a plausibility check, not RFC 5322: one @, something before
// it, a dotted domain after it, and no spaces or list separators.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.ContainsAny(s, " ,;\t") && !strings.Contains(domain, "@") &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
