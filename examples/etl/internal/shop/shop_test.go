package shop

import (
	"strings"
	"testing"
)

func TestAverage(t *testing.T) {
	tests := []struct{ sum, n, want int64 }{
		{0, 0, 0}, {10, 1, 10}, {5, 2, 3}, {7, 2, 4}, {1, 3, 0}, {2, 3, 1}, {7, 4, 2}, {6, 4, 2},
	}
	for _, tt := range tests {
		if got := Average(tt.sum, tt.n); got != tt.want {
			t.Errorf("Average(%d, %d) = %d, want %d", tt.sum, tt.n, got, tt.want)
		}
	}
}

// Asking for a column ReadExport was not given is a bug in the task, not
// a bad row: Get says so rather than return another column.
func TestExportGetUnknownColumn(t *testing.T) {
	rows, err := ReadExport(strings.NewReader("a,b\n1,2\n"), "in", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("Next = false, err %v; want the row", rows.Err())
	}
	if got := rows.Get("a"); got != "1" {
		t.Errorf(`Get("a") = %q, want "1"`, got)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"b"`) {
			t.Errorf(`Get("b") panicked with %v, want a panic naming "b"`, r)
		}
	}()
	rows.Get("b")
}
