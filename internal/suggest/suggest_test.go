package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"requests", "responses", "orders", "customers"}
	for s, want := range map[string]string{
		"requestz":  "requests",
		"order":     "orders",
		"custmers":  "customers",
		"invoices":  "",
		"":          "",
		"responsse": "responses",
		"z":         "",
	} {
		if got := Closest(s, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", s, got, want)
		}
	}
	if got := DidYouMean("requestz", names); got != ` (did you mean "requests"?)` {
		t.Errorf("DidYouMean = %q", got)
	}
}
