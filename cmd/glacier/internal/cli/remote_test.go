package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
)

// TestCheckPush: results are pushed only for the modules the deployment
// runs, and a refusal names every task that differs.
func TestCheckPush(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	mods := []build.Module{{Task: "clean", SHA256: a}, {Task: "report", SHA256: b}}
	if err := checkPush(mods, map[string]string{"clean": a, "report": b}); err != nil {
		t.Errorf("the deployed modules: %v", err)
	}
	err := checkPush(mods, map[string]string{"clean": b})
	if err == nil {
		t.Fatal("pushing other modules' results was not refused")
	}
	for _, want := range []string{`task "clean": the module built here is sha256:aaaaaaaaaaaa, the deployed one sha256:bbbbbbbbbbbb`,
		`task "report" is not deployed`, "compile and deploy this project again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestRemoteParts: a deployed store's partitioned dataset is listed with
// its parts, cat lists its keys and writes one part, and a misspelt key
// gets a suggestion.
func TestRemoteParts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, err := manifest.Parse(filepath.Join(dir, "glacier.yaml"), []byte(`name: p
datasets:
  logs: {source: data/logs, partitioned: true}
  counts: {}
tasks:
  count: {build: ./count, inputs: [logs], outputs: [counts]}
`))
	if err != nil {
		t.Fatal(err)
	}
	root := filestore.URL(filepath.Join(dir, "state"))
	s, err := store.New(nil, store.Layout{State: root, Datasets: map[string]string{"logs": root}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []fnspec.Part
	for key, data := range map[string]string{"a/1.log": "one\n", "b.log": "two!\n"} {
		sum := sha256.Sum256([]byte(data))
		v := store.Version{Digest: hex.EncodeToString(sum[:]), Size: int64(len(data))}
		if err := s.PutObject(ctx, "deploy", "deploy", "logs", v, strings.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fnspec.Part{Key: key, Version: v})
	}
	v, err := s.PutParts(ctx, "deploy", "deploy", "logs", parts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSource(ctx, "p", store.SourceRef{Dataset: "logs", Version: v}); err != nil {
		t.Fatal(err)
	}

	infos, err := remoteDatasets(ctx, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].Parts != 2 || infos[0].Size != 9 || infos[0].SHA256 != v.Digest {
		t.Errorf("remoteDatasets = %+v; want logs with 2 parts of 9 bytes, version %s", infos, v.Digest)
	}
	cat := func(part string) (string, error) {
		var b strings.Builder
		err := remoteCat(ctx, s, m, "logs", part, &b)
		return b.String(), err
	}
	if got, err := cat(""); err != nil || got != "a/1.log\nb.log\n" {
		t.Errorf("cat logs = %q, %v; want its keys", got, err)
	}
	if got, err := cat("b.log"); err != nil || got != "two!\n" {
		t.Errorf("cat --part b.log = %q, %v", got, err)
	}
	if _, err := cat("b.lgo"); err == nil || !strings.Contains(err.Error(), `no part "b.lgo" (did you mean "b.log"?)`) {
		t.Errorf("cat --part b.lgo: %v", err)
	}
}

// TestPushParts: pushing a run uploads a partitioned output's parts, its
// list and the task's memo entry, so the deployed store reads the same
// parts.
func TestPushParts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for key, data := range map[string]string{"a.log": "A", "b/c.log": "C"} {
		path := filepath.Join(dir, "data", "logs", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := glacier.New("p")
	for _, d := range []glacier.Dataset{
		{Name: "logs", Storage: glacier.ObjectStorage{}, Source: "data/logs", Partitioned: true},
		{Name: "parsed", Storage: glacier.ObjectStorage{}, Partitioned: true},
	} {
		if err := p.AddDataset(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AddTask(glacier.Task{Name: "parse", Module: wasmbuild.Build(t, "../../../../testdata/wasm/concat"), Inputs: []string{"logs"},
		Outputs: []string{"parsed"}, Map: "logs", Params: map[string]string{"suffix": "!"}, Compute: glacier.Local{Timeout: 60}}); err != nil {
		t.Fatal(err)
	}
	ex := local.New(local.Options{Dir: dir})
	if _, err := p.Run(ctx, ex); err != nil {
		t.Fatal(err)
	}
	root := filestore.URL(filepath.Join(t.TempDir(), "remote"))
	remote, err := store.New(nil, store.Layout{State: root})
	if err != nil {
		t.Fatal(err)
	}
	n, err := push(ctx, &manifest.Manifest{Dir: dir, Pipeline: p}, ex.LastRun(), remote)
	if err != nil || n != 1 {
		t.Fatalf("push = %d, %v; want 1 task pushed", n, err)
	}
	ls, err := local.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ls.TaskRef("p", "parse")
	got, ok, err := remote.Memo(ctx, "parse", e.Key)
	if err != nil || !ok {
		t.Fatalf("the remote memo has no entry of parse's run: %v", err)
	}
	parts, err := remote.Parts(ctx, "parsed", got.Outputs["parsed"])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.log": "A!", "b/c.log": "C!"}
	for _, part := range parts {
		var b strings.Builder
		if err := copyVersion(ctx, remote, "parsed", part.Version, &b); err != nil || b.String() != want[part.Key] {
			t.Errorf("part %q in the remote store reads %q, %v; want %q", part.Key, b.String(), err, want[part.Key])
		}
	}
	if len(parts) != len(want) {
		t.Errorf("the remote list has %d parts, want %d", len(parts), len(want))
	}
	// Each part's memo entry went too, naming the part's version there.
	memos, err := remote.Memos(ctx, "parse")
	if err != nil {
		t.Fatal(err)
	}
	byPart := map[string]store.Version{}
	for _, e := range memos {
		if e.Part != "" {
			byPart[e.Part] = e.Outputs["parsed"]
		}
	}
	for _, part := range parts {
		if byPart[part.Key] != part.Version {
			t.Errorf("the remote memo's entry of part %q names %v, want %v", part.Key, byPart[part.Key], part.Version)
		}
	}
}

// TestRemoteRunsSkipped: a task that never started (skipped) records no
// start, and leaves the run's start and duration to the tasks that ran.
func TestRemoteRunsSkipped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, err := manifest.Parse(filepath.Join(dir, "glacier.yaml"), []byte(`name: p
datasets:
  a: {}
  b: {}
tasks:
  one: {build: ./one, outputs: [a]}
  two: {build: ./two, inputs: [a], outputs: [b]}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.New(nil, store.Layout{State: filestore.URL(filepath.Join(dir, "state"))})
	if err != nil {
		t.Fatal(err)
	}
	const run = "20261207T100000.000Z-aaaaaa"
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, r := range []store.RunTask{
		{Task: "one", RunID: run, Status: "failed", Start: start, DurationMS: 1500},
		{Task: "two", RunID: run, Status: "skipped"},
	} {
		if err := s.PutRunTask(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := remoteRuns(ctx, s, m, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !runs[0].Started.Equal(start) || runs[0].Duration != 1500*time.Millisecond {
		t.Errorf("runs = %+v; want one run started at %v, lasting 1.5s", runs, start)
	}
}
