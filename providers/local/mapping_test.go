package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
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
	assert.True(t, strings.Contains(err.Error(), "2 of 5 parts failed (tolerated: 20%)"), err.Error())
	assert.Equal(t, "C+lookup", pr.parts("parsed")["c.log"])
}
