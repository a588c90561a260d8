package local_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/testutil/daylogs"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// mapProject is a project whose partitioned source logs (a folder of
// files) is mapped by task parse, concat with the whole source lookup as a
// broadcast input, into the partitioned dataset parsed.
func mapProject(t *testing.T, files map[string]string, params map[string]string, tolerated float64) *project {
	pr := newProject(t)
	for key, data := range files {
		pr.writeSource("logs/"+key, data)
	}
	pr.source("lookup", "+lookup")
	require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "logs", Storage: glacier.ObjectStorage{}, Source: "data/logs", Partitioned: true}))
	require.NoError(t, pr.p.AddDataset(glacier.Dataset{Name: "parsed", Storage: glacier.ObjectStorage{}, Partitioned: true}))
	require.NoError(t, pr.p.AddTask(glacier.Task{Name: "parse", Module: pr.module, Inputs: []string{"logs", "lookup"}, Outputs: []string{"parsed"},
		Map: "logs", Params: params, ToleratedFailures: tolerated, Compute: glacier.Local{Timeout: 60}}))
	require.Empty(t, pr.p.Validate())
	return pr
}

// parts returns the current parts of a partitioned dataset, key → bytes.
func (pr *project) parts(dataset string) map[string]string {
	pr.t.Helper()
	store, err := local.OpenStore(pr.dir)
	require.NoError(pr.t, err)
	v, err := store.Current(pr.p, dataset)
	require.NoError(pr.t, err)
	parts, err := store.Parts(v)
	require.NoError(pr.t, err)
	out := map[string]string{}
	for _, p := range parts {
		b, err := os.ReadFile(store.ObjectPath(p.Digest))
		require.NoError(pr.t, err)
		out[p.Key] = string(b)
	}
	return out
}

// counts runs the pipeline and returns what became of parse's parts.
func (pr *project) mapRun(opts local.Options) (local.PartCounts, string, error) {
	pr.t.Helper()
	ex := &capture{}
	opts.Events = ex.event
	_, st, err := pr.run(opts)
	return ex.last, st["parse"], err
}

// capture keeps the last part counts a run reported.
type capture struct{ last local.PartCounts }

func (c *capture) event(ev local.Event) {
	if ev.Record != nil && ev.Record.Parts != nil {
		c.last = *ev.Record.Parts
	}
}

func TestMapTaskRunsOnlyWhatChanged(t *testing.T) {
	pr := mapProject(t, map[string]string{"a.log": "A", "b.log": "B", "2026/c.log": "C"}, nil, 0)

	c, st, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, local.PartCounts{Total: 3, Ran: 3}, c)
	assert.Equal(t, map[string]string{"a.log": "A+lookup", "b.log": "B+lookup", "2026/c.log": "C+lookup"}, pr.parts("parsed"))
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	lin, err := store.Lineage(pr.p, "parsed")
	require.NoError(t, err)
	assert.Equal(t, 3, lin.Parts, "lineage counts the parts")
	assert.EqualValues(t, 3*len("A+lookup"), lin.PartsSize)
	assert.Equal(t, "parse", lin.Task)

	c, st, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "cached", st, "nothing changed")
	assert.Zero(t, c.Ran)

	pr.writeSource("logs/b.log", "BB")
	c, st, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, local.PartCounts{Total: 3, Ran: 1, Cached: 2}, c, "one file changed")
	assert.Equal(t, "BB+lookup", pr.parts("parsed")["b.log"])

	pr.writeSource("logs/d.log", "D")
	c, _, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, local.PartCounts{Total: 4, Ran: 1, Cached: 3}, c, "one file added")

	require.NoError(t, os.Remove(filepath.Join(pr.dir, "data", "logs", "a.log")))
	c, _, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, local.PartCounts{Total: 3, Cached: 3}, c, "one file deleted")
	assert.Equal(t, map[string]string{"b.log": "BB+lookup", "2026/c.log": "C+lookup", "d.log": "D+lookup"}, pr.parts("parsed"),
		"a deleted file's part is gone from the output")

	pr.writeSource("lookup", "+LOOKUP")
	c, _, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, local.PartCounts{Total: 3, Ran: 3}, c, "a broadcast input changed: every part reruns")
}

func TestMapTaskPoisonPart(t *testing.T) {
	files := map[string]string{"a.log": "A", "b.log": "B", "c.log": "C", "d.log": "D", "e.log": "E"}
	pr := mapProject(t, files, map[string]string{"poison": "POISON"}, 0)
	_, _, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	before := pr.parts("parsed")

	pr.writeSource("logs/c.log", "POISON")
	pr.writeSource("logs/d.log", "DD")
	c, st, err := pr.mapRun(local.Options{})
	require.Error(t, err)
	assert.Equal(t, "failed", st)
	assert.Equal(t, 1, c.Failed)
	assert.Equal(t, 1, c.Ran, "d.log changed and ran")
	assert.Contains(t, err.Error(), `1 of 5 parts failed`)
	assert.Contains(t, err.Error(), `part "c.log": `)
	assert.Contains(t, err.Error(), `holds "POISON"`)
	assert.Equal(t, before, pr.parts("parsed"), "a failed map commits nothing: downstream sees the last complete version")

	pr.writeSource("logs/c.log", "CC")
	c, st, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, local.PartCounts{Total: 5, Ran: 1, Cached: 4}, c, "only the part that failed runs again")
	assert.Equal(t, "CC+lookup", pr.parts("parsed")["c.log"])
	assert.Equal(t, "DD+lookup", pr.parts("parsed")["d.log"])
}

func TestMapTaskToleratedFailures(t *testing.T) {
	files := map[string]string{"a.log": "A", "b.log": "POISON", "c.log": "C", "d.log": "D", "e.log": "E"}
	pr := mapProject(t, files, map[string]string{"poison": "POISON"}, 20)
	c, st, err := pr.mapRun(local.Options{})
	require.NoError(t, err, "one part of five is within 20%")
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, 1, c.Failed)
	parts := pr.parts("parsed")
	assert.Len(t, parts, 4)
	assert.NotContains(t, parts, "b.log", "committed without the failed part")

	// The failed part is tried again, and only it.
	pr.writeSource("logs/b.log", "B")
	c, _, err = pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, local.PartCounts{Total: 5, Ran: 1, Cached: 4}, c)
	assert.Equal(t, "B+lookup", pr.parts("parsed")["b.log"])

	// Two of five is over 20%: nothing is committed.
	pr.writeSource("logs/c.log", "POISON")
	pr.writeSource("logs/d.log", "POISON")
	_, st, err = pr.mapRun(local.Options{})
	require.Error(t, err)
	assert.Equal(t, "failed", st)
	assert.True(t, strings.Contains(err.Error(), "2 of 5 parts failed, more than tolerated_failures: 20% allows"), err.Error())
	assert.Equal(t, "C+lookup", pr.parts("parsed")["c.log"])
}

// TestPartitionedPipeline runs, over a generated folder of 2,000 files of
// "day,value" lines, a map task with a broadcast input (parse), dynamic
// fan-out (split: one part per day), a second map task (daysum) and a
// fan-in (total), checks the report against a computation made here, then
// changes one file, adds one and deletes one, and checks after each
// exactly which invocations ran.
func TestPartitionedPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 2,000 parts")
	}
	const files, days = 2000, 30
	pr := newProject(t)
	partsum := wasmbuild.Build(t, "../../testdata/wasm/partsum")
	data := daylogs.Files(files, days)
	for key, text := range data {
		pr.writeSource("logs/"+key, text)
	}
	pr.source("header", "# parsed v1\n")
	add := func(d glacier.Dataset) { require.NoError(t, pr.p.AddDataset(d)) }
	add(glacier.Dataset{Name: "logs", Storage: glacier.ObjectStorage{}, Source: "data/logs", Partitioned: true})
	for _, name := range []string{"parsed", "days", "daysums"} {
		add(glacier.Dataset{Name: name, Storage: glacier.ObjectStorage{}, Partitioned: true})
	}
	add(glacier.Dataset{Name: "report", Storage: glacier.ObjectStorage{}})
	task := func(tk glacier.Task) {
		tk.Compute = glacier.Local{Timeout: 60}
		require.NoError(t, pr.p.AddTask(tk))
	}
	task(glacier.Task{Name: "parse", Module: pr.module, Inputs: []string{"header", "logs"}, Outputs: []string{"parsed"}, Map: "logs"})
	task(glacier.Task{Name: "split", Module: partsum, Inputs: []string{"parsed"}, Outputs: []string{"days"}, Params: map[string]string{"mode": "split"}})
	task(glacier.Task{Name: "daysum", Module: partsum, Inputs: []string{"days"}, Outputs: []string{"daysums"}, Map: "days", Params: map[string]string{"mode": "sum"}})
	task(glacier.Task{Name: "total", Module: partsum, Inputs: []string{"daysums"}, Outputs: []string{"report"}, Params: map[string]string{"mode": "total"}})
	require.Empty(t, pr.p.Validate())

	// want computes the report from the files alone.
	want := func() string {
		r, err := daylogs.Report(data)
		require.NoError(t, err)
		return r
	}

	// run runs the pipeline and returns, by task, its status and, for a
	// map task, how many parts ran.
	run := func() map[string]string {
		t.Helper()
		ran := map[string]string{}
		_, st, err := pr.run(local.Options{Parallel: 2, Events: func(ev local.Event) {
			if ev.Record != nil && ev.Record.Parts != nil {
				ran[ev.Task] = fmt.Sprintf("%d of %d ran", ev.Record.Parts.Ran, ev.Record.Parts.Total)
			}
		}})
		require.NoError(t, err)
		for name, s := range st {
			if r, ok := ran[name]; ok {
				s += ", " + r
			}
			ran[name] = s
		}
		require.Equal(t, want(), pr.current("report"))
		return ran
	}

	assert.Equal(t, map[string]string{"parse": "succeeded, 2000 of 2000 ran", "split": "succeeded",
		"daysum": "succeeded, 30 of 30 ran", "total": "succeeded"}, run())
	assert.Equal(t, map[string]string{"parse": "cached", "split": "cached", "daysum": "cached", "total": "cached"}, run(),
		"nothing changed: each task's inputs are as they were, so not even a part is looked up")

	// One file changed: one part parsed, two days (its lines') summed again.
	data["07/0007.log"] = "d07,1000\nd19,1\n"
	pr.writeSource("logs/07/0007.log", data["07/0007.log"])
	assert.Equal(t, map[string]string{"parse": "succeeded, 1 of 2000 ran", "split": "succeeded",
		"daysum": "succeeded, 1 of 30 ran", "total": "succeeded"}, run(), "one file changed")

	// One file added, with a day of its own: one part parsed, one day new.
	data["99/new.log"] = "d99,5\n"
	pr.writeSource("logs/99/new.log", data["99/new.log"])
	assert.Equal(t, map[string]string{"parse": "succeeded, 1 of 2001 ran", "split": "succeeded",
		"daysum": "succeeded, 1 of 31 ran", "total": "succeeded"}, run(), "one file added")

	// One file deleted: nothing parsed, its two days summed again.
	delete(data, "00/0000.log")
	require.NoError(t, os.Remove(filepath.Join(pr.dir, "data", "logs", "00", "0000.log")))
	assert.Equal(t, map[string]string{"parse": "cached, 0 of 2000 ran", "split": "succeeded",
		"daysum": "succeeded, 1 of 31 ran", "total": "succeeded"}, run(), "one file deleted")
}

// TestFsckChecksParts removes one part's object from the store: fsck names
// the records whose lists of parts lead to it, --repair removes them, and
// the next run makes the part again.
func TestFsckChecksParts(t *testing.T) {
	pr := mapProject(t, map[string]string{"a.log": "A", "b.log": "B"}, nil, 0)
	_, _, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	v, err := store.Current(pr.p, "parsed")
	require.NoError(t, err)
	parts, err := store.Parts(v)
	require.NoError(t, err)
	obj := store.ObjectPath(parts[0].Digest) // a.log's part: "A+lookup"
	require.NoError(t, os.Chmod(obj, 0o600))
	require.NoError(t, os.Remove(obj))

	rpt, err := store.Fsck(false)
	require.NoError(t, err)
	var flagged []string
	for _, p := range rpt.Problems {
		flagged = append(flagged, p.Path)
		assert.Contains(t, p.What, "which is not in the store")
	}
	assert.Contains(t, flagged, filepath.Join("pipelines", "test", "tasks", "parse.json"), "the task's ref, through its list")
	_, err = store.Fsck(true)
	require.NoError(t, err)

	c, st, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, 1, c.Ran, "only the part whose object was lost runs again")
	assert.Equal(t, "A+lookup", pr.parts("parsed")["a.log"])
}

// TestMapMaxConcurrency runs a map task with max_concurrency 1 on two
// workers: no two parts' invocations overlap, as their logged spans show
// (each stays busy 30 ms, so without the bound they do).
func TestMapMaxConcurrency(t *testing.T) {
	files := map[string]string{}
	for i := range 8 {
		files[fmt.Sprintf("%d.log", i)] = "x"
	}
	pr := mapProject(t, files, map[string]string{"span": "30"}, 0)
	pr.p = rebuild(t, pr.p, "parse", func(tk *glacier.Task) { tk.MaxConcurrency = 1 })
	_, _, err := pr.mapRun(local.Options{Parallel: 2})
	require.NoError(t, err)
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	rec, tr, err := store.LatestRunOf(pr.p.Name(), "parse")
	require.NoError(t, err, rec.RunID)
	keys, err := store.PartLogs(tr)
	require.NoError(t, err)
	require.Len(t, keys, 8)
	type span struct{ start, end int64 }
	var spans []span
	for _, k := range keys {
		r, err := store.OpenPartLog(tr, k)
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err)
		var s span
		_, err = fmt.Sscanf(string(b[strings.Index(string(b), "span "):]), "span %d %d", &s.start, &s.end)
		require.NoError(t, err, "%s", b)
		spans = append(spans, s)
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		assert.GreaterOrEqual(t, spans[i].start, spans[i-1].end, "parts %d and %d overlapped", i-1, i)
	}
}

// TestMapPartEntryCutShort: a part's memo entry is not synced until the
// map task commits, so a machine that fails first can leave it cut short.
// Such an entry is a miss: its part runs again, and the entry is replaced
// whole.
func TestMapPartEntryCutShort(t *testing.T) {
	pr := mapProject(t, map[string]string{"a.log": "A", "b.log": "B", "c.log": "C"}, nil, 0)
	c, _, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	require.Equal(t, local.PartCounts{Total: 3, Ran: 3}, c)

	entry := partEntry(t, pr, "a.log")
	data, err := os.ReadFile(entry)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(entry, data[:len(data)/2], 0o600))
	pr.writeSource("logs/b.log", "BB") // so the map task runs, not its memo hit

	c, st, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", st)
	assert.Equal(t, local.PartCounts{Total: 3, Ran: 2, Cached: 1}, c, "the changed part and the one whose entry was cut short run")
	again, err := os.ReadFile(entry)
	require.NoError(t, err)
	var e local.MemoEntry
	require.NoError(t, json.Unmarshal(again, &e), "the entry is whole again")
	assert.Equal(t, "a.log", e.Part)
	assert.Equal(t, map[string]string{"a.log": "A+lookup", "b.log": "BB+lookup", "c.log": "C+lookup"}, pr.parts("parsed"))
}

// partEntry returns the file of the memo entry of task parse's part key.
func partEntry(t *testing.T, pr *project, key string) string {
	t.Helper()
	dir := filepath.Join(pr.dir, local.StateDir, "memo", "parse")
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		require.NoError(t, err)
		var e local.MemoEntry
		if json.Unmarshal(data, &e) == nil && e.Task == "parse" && e.Part == key {
			return filepath.Join(dir, f.Name())
		}
	}
	t.Fatalf("no memo entry for part %q of parse in %s", key, dir)
	return ""
}

// TestPartListBytes: a list of parts is written part by part, and must
// hold exactly the bytes json.Marshal makes of it, as lists stored before
// did, so that the same parts keep the same version.
func TestPartListBytes(t *testing.T) {
	pr := mapProject(t, map[string]string{"a.log": "A", "b/c.log": "<C&>"}, nil, 0)
	_, _, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	store, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	for _, name := range []string{"logs", "parsed"} {
		v, err := store.Current(pr.p, name)
		require.NoError(t, err)
		parts, err := store.Parts(v)
		require.NoError(t, err)
		require.Len(t, parts, 2)
		want, err := json.Marshal(struct {
			Parts []local.Part `json:"parts"`
		}{parts})
		require.NoError(t, err)
		got, err := os.ReadFile(store.ObjectPath(v.Digest))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
}

// TestForcedMapRerunStays: a forced rerun of a map task whose parts differ
// every run (they write the time) makes new parts current, and the plain
// run after it finds that run in the memo and keeps them, with the entry
// lineage and --push read.
func TestForcedMapRerunStays(t *testing.T) {
	pr := mapProject(t, map[string]string{"a.log": "A", "b.log": "B"}, map[string]string{"clock": "1"}, 0)
	_, _, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	first := pr.parts("parsed")
	_, _, err = pr.mapRun(local.Options{Force: true})
	require.NoError(t, err)
	forced := pr.parts("parsed")
	require.NotEqual(t, first, forced, "the forced run made other parts")

	_, st, err := pr.mapRun(local.Options{})
	require.NoError(t, err)
	assert.Equal(t, "cached", st)
	assert.Equal(t, forced, pr.parts("parsed"), "the plain run keeps what the forced one made")
	ls, err := local.OpenStore(pr.dir)
	require.NoError(t, err)
	e, ok := ls.TaskRef(pr.p.Name(), "parse")
	require.True(t, ok)
	assert.Equal(t, []string{"parsed"}, e.Lists, "the ref's entry is the run's own")
	assert.NotEmpty(t, e.Module)
}
