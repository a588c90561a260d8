package cli

import "testing"

func TestTableAlignsVisibleText(t *testing.T) {
	got := table([][]string{
		{"TASK", "STATUS", "TIME"},
		{"clean", "\x1b[32mdone\x1b[0m", "5ms"},
		{"enrich_all", "failed", "1.2s"},
	})
	want := "TASK        STATUS  TIME\n" +
		"clean       \x1b[32mdone\x1b[0m    5ms\n" +
		"enrich_all  failed  1.2s\n"
	if got != want {
		t.Errorf("table =\n%q\nwant\n%q", got, want)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestProjectName(t *testing.T) {
	for dir, want := range map[string]string{
		"demo":         "demo",
		"My Project":   "my-project",
		"__x__":        "x",
		"2024-reports": "pipeline",
		"ünïcode":      "n-code",
		"a-very-long-directory-name-that-goes-on-and-on": "a-very-long-directory-name-that-goes-on",
	} {
		if got := projectName(dir); got != want {
			t.Errorf("projectName(%q) = %q, want %q", dir, got, want)
		}
	}
}
