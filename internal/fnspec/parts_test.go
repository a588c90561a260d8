package fnspec_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

func TestPartList(t *testing.T) {
	entries := []fnspec.PartEntry{
		{Key: "b/2", Object: "objects/11/" + strings.Repeat("1", 64), Size: 2},
		{Key: "a", Object: "objects/00/" + strings.Repeat("0", 64), Size: 1, SHA256: strings.Repeat("0", 64)},
	}
	data, err := fnspec.EncodeParts(entries)
	require.NoError(t, err)
	assert.Equal(t, `[{"key":"a","object":"objects/00/`+strings.Repeat("0", 64)+`","size":1,"sha256":"`+strings.Repeat("0", 64)+`"},`+
		`{"key":"b/2","object":"objects/11/`+strings.Repeat("1", 64)+`","size":2}]`+"\n", string(data), "sorted by key, an array at the top")
	got, err := fnspec.DecodeParts(data)
	require.NoError(t, err)
	assert.Equal(t, []fnspec.PartEntry{entries[1], entries[0]}, got)

	empty, err := fnspec.EncodeParts(nil)
	require.NoError(t, err)
	assert.Equal(t, "[]\n", string(empty))

	for list, want := range map[string]string{
		`{"parts":[]}`:                                                          "not a part list",
		`[{"key":"../x","object":"o","size":1}]`:                                "part list entry 0",
		`[{"key":"a","object":"../o","size":1}]`:                                "not a clean relative name",
		`[{"key":"a","object":"/o","size":1}]`:                                  "not a clean relative name",
		`[{"key":"b","object":"o","size":1},{"key":"a","object":"p","size":1}]`: "not sorted",
		`[{"key":"a","object":"o","size":1},{"key":"a","object":"p","size":1}]`: "without duplicates",
		`[{"key":"a","object":"x/./o","size":1}]`:                               "not a clean relative name",
		`[{"key":"a","object":"","size":1}]`:                                    "not a clean relative name",
		`[{"key":"a/","object":"o","size":1}]`:                                  "part list entry 0",
		`[{"key":"a","object":"o","size":1},{"key":"b\n","object":"p"}]`:        "entry 1",
	} {
		_, err := fnspec.DecodeParts([]byte(list))
		assert.ErrorContains(t, err, want, "%s", list)
	}
}

func TestTolerated(t *testing.T) {
	assert.True(t, fnspec.Tolerated(0, 10, 0))
	assert.False(t, fnspec.Tolerated(1, 10, 0))
	assert.True(t, fnspec.Tolerated(1, 10, 10))
	assert.False(t, fnspec.Tolerated(2, 10, 10))
	assert.True(t, fnspec.Tolerated(0, 0, 0), "nothing to run, nothing failed")

	var c fnspec.PartCounts
	c.Total = 30
	for i := range 25 {
		c.AddFailure(string(rune('a'+i)), errors.New("boom"))
	}
	assert.Equal(t, 25, c.Failed)
	assert.Len(t, c.FailedKeys, fnspec.MaxFailedKeys)
	s := c.Summary(5)
	assert.True(t, strings.HasPrefix(s, "25 of 30 parts failed, more than tolerated_failures: 5% allows\n    part \"a\": boom"), s)
	c = fnspec.PartCounts{Total: 50}
	c.AddFailure("x", errors.New("bad"))
	assert.Equal(t, "1 of 50 parts failed, within tolerated_failures: 2%\n    part \"x\": bad", c.Summary(2))
	assert.Equal(t, "1 of 50 parts failed, more than tolerated_failures: 1% allows\n    part \"x\": bad", c.Summary(1))
	assert.True(t, strings.HasSuffix(s, "\n    and 5 more"), s)
}

func TestRequestModes(t *testing.T) {
	one := 1
	neg := -1
	for _, tt := range []struct {
		req  fnspec.Request
		want string
	}{
		{fnspec.Request{}, ""},
		{fnspec.Request{RunID: "r", Parts: []string{"a", "b/c"}}, ""},
		{fnspec.Request{RunID: "r", Batch: &one}, ""},
		{fnspec.Request{Plan: true}, ""},
		{fnspec.Request{RunID: "r", Commit: true}, ""},
		{fnspec.Request{Parts: []string{"a"}}, "need the run's run_id"},
		{fnspec.Request{Commit: true}, "need the run's run_id"},
		{fnspec.Request{RunID: "r", Commit: true, Plan: true}, "at most one"},
		{fnspec.Request{RunID: "r", Batch: &neg}, "negative"},
		{fnspec.Request{RunID: "r", Parts: []string{"a", "../b"}}, `key "../b"`},
		{fnspec.Request{RunID: "r", Parts: make([]string, fnspec.MaxRequestParts+1)}, "over the limit"},
	} {
		err := tt.req.Validate()
		if tt.want == "" {
			assert.NoError(t, err, "%+v", tt.req)
			continue
		}
		assert.ErrorContains(t, err, tt.want, "%+v", tt.req)
	}
	assert.False(t, fnspec.Request{RunID: "r"}.MapMode())
	assert.True(t, fnspec.Request{RunID: "r", Parts: []string{}}.MapMode(), "an empty batch of parts is still a batch")
}

// TestPartListVersion: a partitioned version's bytes are those of
// {"parts": [...]} as json.Marshal writes them, and reading refuses what
// no writer makes.
func TestPartListVersion(t *testing.T) {
	parts := []fnspec.Part{{Key: "a", Version: fnspec.Version{Digest: strings.Repeat("a", 64), Size: 3}}, {Key: "b/c", Version: fnspec.Version{Digest: strings.Repeat("b", 64)}}}
	var buf strings.Builder
	require.NoError(t, fnspec.WritePartList(&buf, parts))
	want, err := json.Marshal(map[string]any{"parts": parts})
	require.NoError(t, err)
	assert.Equal(t, string(want), buf.String())
	got, err := fnspec.ReadPartList([]byte(buf.String()))
	require.NoError(t, err)
	assert.Equal(t, parts, got)

	for list, msg := range map[string]string{
		`[]`: "not a list of parts",
		`{"parts":[{"key":"a","sha256":"x","size":1}]}`: "not a hex SHA-256",
		`{"parts":[{"key":"b","sha256":"` + strings.Repeat("a", 64) + `","size":1},{"key":"a","sha256":"` + strings.Repeat("a", 64) + `","size":1}]}`: "not sorted",
		`{"parts":[{"key":"../a","sha256":"` + strings.Repeat("a", 64) + `","size":1}]}`:                                                              "key",
		`{"parts":[],"more":1}`: "unknown field",
	} {
		_, err := fnspec.ReadPartList([]byte(list))
		assert.ErrorContains(t, err, msg, list)
	}
}
