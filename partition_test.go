package glacier_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier"
)

// project writes files (path → content) under a new project directory.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(data), 0o644))
	}
	return dir
}

func keys(t *testing.T, dir, source string) []string {
	t.Helper()
	parts, err := glacier.SourceParts(dir, glacier.Dataset{Name: "logs", Source: source, Partitioned: true})
	must(t, err)
	var out []string
	for _, p := range parts {
		if data, err := os.ReadFile(p.Path); err != nil || string(data) != p.Key {
			t.Errorf("part %s reads %q (%v), want its own key", p.Key, data, err)
		}
		out = append(out, p.Key)
	}
	return out
}

func TestSourceParts(t *testing.T) {
	dir := project(t, map[string]string{
		"logs/b.log": "b.log", "logs/a.log": "a.log", "logs/2026/01/c.log": "2026/01/c.log",
		"logs/notes.txt": "notes.txt", "logs/.hidden": "x", "logs/.git/config": "x",
	})
	must(t, os.Symlink(filepath.Join(dir, "logs", "2026"), filepath.Join(dir, "logs", "again")))
	tests := []struct {
		source string
		want   string
	}{
		{"logs", "2026/01/c.log a.log b.log notes.txt"},
		{"logs/", "2026/01/c.log a.log b.log notes.txt"},
		{"logs/*.log", "a.log b.log"},
		{"logs/**/*.log", "2026/01/c.log a.log b.log"},
		{"logs/*/*/*.log", "2026/01/c.log"},
		{"logs/[ab].log", "a.log b.log"},
		{"logs/*.csv", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(keys(t, dir, tt.source), " "); got != tt.want {
			t.Errorf("SourceParts(%q) keys = %q, want %q", tt.source, got, tt.want)
		}
	}
}

func TestSourcePartsRefuses(t *testing.T) {
	dir := project(t, map[string]string{"logs/a.log": "a", "one.csv": "x", "bad/a\\b": "x"})
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644))
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "logs", "link")))
	tests := []struct {
		source, says string
	}{
		{"one.csv", "is a file, but dataset \"logs\" is partitioned; point source: at a folder or a glob"},
		{"missing", "source missing does not exist (looked for " + filepath.Join(dir, "missing") + "); fix source: or create the folder"},
		{"../elsewhere/*", "leads outside the project directory"},
		{"logs", "leads outside the project directory"},
		{"bad", `file a\b cannot be a part: the part key holds '\'`},
	}
	for _, tt := range tests {
		_, err := glacier.SourceParts(dir, glacier.Dataset{Name: "logs", Source: tt.source, Partitioned: true})
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("SourceParts(%q) = %v, want an error saying %q", tt.source, err, tt.says)
		}
	}
	// A folder given to a dataset that is not partitioned says how to make it one.
	_, err := glacier.SourcePath(dir, glacier.Dataset{Name: "logs", Source: "logs"})
	if err == nil || !strings.Contains(err.Error(), "set partitioned: true") {
		t.Errorf("SourcePath(folder) = %v, want it to suggest partitioned: true", err)
	}
}

// mapping returns a pipeline in which task parse maps over logs with a
// broadcast input, and task report reads every part of parsed.
func mapping(t *testing.T, change func(p *glacier.Pipeline)) *glacier.Pipeline {
	t.Helper()
	p := glacier.New("logs")
	must(t, p.AddDataset(glacier.Dataset{Name: "logs", Storage: glacier.ObjectStorage{}, Source: "logs", Partitioned: true}))
	must(t, p.AddDataset(glacier.Dataset{Name: "lookup", Storage: glacier.ObjectStorage{}, Source: "lookup.csv"}))
	must(t, p.AddDataset(glacier.Dataset{Name: "parsed", Storage: glacier.ObjectStorage{}, Partitioned: true}))
	must(t, p.AddDataset(glacier.Dataset{Name: "report", Storage: glacier.ObjectStorage{}}))
	if change != nil {
		change(p)
	}
	return p
}

func TestValidateMapTasks(t *testing.T) {
	parse := glacier.Task{Name: "parse", Module: "p.wasm", Inputs: []string{"logs", "lookup"}, Outputs: []string{"parsed"}, Map: "logs", ToleratedFailures: 5}
	report := glacier.Task{Name: "report", Module: "r.wasm", Inputs: []string{"parsed"}, Outputs: []string{"report"}}
	ok := mapping(t, func(p *glacier.Pipeline) {
		must(t, p.AddTask(parse))
		must(t, p.AddTask(report))
	})
	if ps := ok.Validate(); len(ps) != 0 {
		t.Fatalf("a map task, a broadcast input and a fan-in: %v", ps)
	}

	// Every problem at once.
	bad := mapping(t, func(p *glacier.Pipeline) {
		must(t, p.AddDataset(glacier.Dataset{Name: "whole", Storage: glacier.ObjectStorage{}}))
		must(t, p.AddTask(glacier.Task{Name: "parse", Module: "p.wasm", Inputs: []string{"logs", "lookup"}, Outputs: []string{"parsed", "whole"}, Map: "lookup"}))
		must(t, p.AddTask(glacier.Task{Name: "typo", Module: "t.wasm", Inputs: []string{"parsed"}, Outputs: []string{"report"}, Map: "parsd"}))
		must(t, p.AddDataset(glacier.Dataset{Name: "other", Storage: glacier.ObjectStorage{}}))
		must(t, p.AddTask(glacier.Task{Name: "tolerant", Module: "t.wasm", Inputs: []string{"whole"}, Outputs: []string{"other"}, ToleratedFailures: 100, MaxConcurrency: 3}))
	})
	got := bad.Validate().Errors()
	for _, want := range []string{
		`task "parse": maps over "lookup", which is not partitioned; set partitioned: true on dataset "lookup", or remove map:`,
		`task "parse": maps over "lookup", so it writes each output once per part, but output "whole" is not partitioned`,
		`task "typo": maps over "parsd", which is not one of its inputs (did you mean "parsed"?)`,
		`task "tolerant": sets tolerated_failures but maps over nothing`,
		`task "tolerant": tolerated_failures is 100%; it must be at least 0% and under 100%`,
		`task "tolerant": sets max_concurrency but maps over nothing`,
	} {
		found := false
		for _, p := range got {
			found = found || strings.Contains(p.String(), want)
		}
		if !found {
			t.Errorf("no problem says %q; got:\n%v", want, got)
		}
	}
}
