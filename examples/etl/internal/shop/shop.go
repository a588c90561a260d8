// Package shop holds what the tasks of the etl example share: the records
// the tasks pass each other, a lenient reader for the exports the pipeline
// starts from, a CSV writer for task outputs, and arithmetic on money in
// cents. A task's own logic (what it keeps, joins or sums, and what it
// logs) stays in its main.go.
//
// The package uses only the standard library, so the tasks that import it
// still build with GOOS=wasip1 GOARCH=wasm.
package shop

// Average is sum/n rounded to the nearest integer, halves up; 0 for no
// items. sum is never negative: it is money in cents.
func Average(sum, n int64) int64 {
	if n == 0 {
		return 0
	}
	return (sum + n/2) / n
}
