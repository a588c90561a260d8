package hostabi

import "testing"

// TestTaskContextEncoding checks the bytes task_context returns, as
// docs/abi.md specifies them: compact JSON, fields in order, no HTML
// escaping.
func TestTaskContextEncoding(t *testing.T) {
	s, err := NewState(Config{Task: "t", RunID: "r-1", Params: map[string]string{"q": "<a&b>"},
		Inputs: []string{"z", "a"}, Outputs: []string{"o"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"abi":1,"task":"t","run_id":"r-1","params":{"q":"<a&b>"},"inputs":["a","z"],"outputs":["o"]}`
	if got := string(s.taskJSON); got != want {
		t.Errorf("task context =\n%s\nwant\n%s", got, want)
	}
}
