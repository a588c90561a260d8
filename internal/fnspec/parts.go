package fnspec

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier/abi"
)

// Partitioned datasets in the cloud.
//
// A partitioned dataset's stable name (the URL DatasetsEnv gives for it)
// holds its current parts as readers outside Glacier see them: the JSON
// array of its PartEntry values sorted by key, each naming the object
// holding that part's bytes, in the same bucket, relative to the list's
// folder (its version in the store). It is also what a Step Functions
// Distributed Map reads its items from (ItemReader, InputType JSON), so it
// is an array at the top level. The version the store's refs name is the
// part list WritePartList encodes.

// PartEntry is one part in a part list.
type PartEntry struct {
	Key string `json:"key"`
	// Object is the name of the object holding the part, relative to the
	// list's folder.
	Object string `json:"object"`
	Size   int64  `json:"size"`
	// SHA256 is the part's hex SHA-256, where the writer knew it.
	SHA256 string `json:"sha256,omitempty"`
}

// EncodeParts returns the part list of entries, sorted by key.
func EncodeParts(entries []PartEntry) ([]byte, error) {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b PartEntry) int { return strings.Compare(a.Key, b.Key) })
	if entries == nil {
		entries = []PartEntry{}
	}
	if err := checkEntries(entries); err != nil {
		return nil, err
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeParts parses a part list and checks every key and object name, so
// nothing read from a bucket reaches an object name unchecked.
func DecodeParts(data []byte) ([]PartEntry, error) {
	var entries []PartEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("not a part list (a JSON array of {key, object, size}): %w", err)
	}
	if err := checkEntries(entries); err != nil {
		return nil, err
	}
	return entries, nil
}

// checkEntries checks that entries are sorted by key, without duplicates,
// and that every key and object name is safe.
func checkEntries(entries []PartEntry) error {
	for i, e := range entries {
		prev := ""
		if i > 0 {
			prev = entries[i-1].Key
		}
		if err := checkKey(i, e.Key, prev); err != nil {
			return err
		}
		if e.Object == "" || path.IsAbs(e.Object) || path.Clean(e.Object) != e.Object || strings.HasPrefix(e.Object, "../") {
			return fmt.Errorf("part %q: object name %q is not a clean relative name", e.Key, e.Object)
		}
	}
	return nil
}

// checkKey checks entry i's key, and that it sorts after prev, the key
// before it.
func checkKey(i int, key, prev string) error {
	if err := abi.CheckKey(key); err != nil {
		return fmt.Errorf("part list entry %d, key %.200q: %w", i, key, err)
	}
	if i > 0 && prev >= key {
		return fmt.Errorf("part list is not sorted by key, without duplicates: %q after %q", key, prev)
	}
	return nil
}

// PartCounts says what became of a map task's parts.
type PartCounts struct {
	Total  int `json:"total"`
	Ran    int `json:"ran"`
	Cached int `json:"cached"`
	Failed int `json:"failed"`
	// FailedKeys are the keys of the first parts that failed, with why.
	FailedKeys []PartFailure `json:"failed_keys,omitempty"`
}

// PartFailure is a part that failed and why.
type PartFailure struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// MaxFailedKeys bounds the failures a PartCounts names; the rest are only
// counted.
const MaxFailedKeys = 20

// AddFailure counts a failed part, naming it if there is room.
func (c *PartCounts) AddFailure(key string, err error) {
	c.Failed++
	if len(c.FailedKeys) < MaxFailedKeys {
		c.FailedKeys = append(c.FailedKeys, PartFailure{Key: key, Error: err.Error()})
	}
}

// Tolerated reports whether failed parts of total are within a tolerance
// of percent per cent: the rule every target applies before committing a
// map task's outputs.
func Tolerated(failed, total int, percent float64) bool {
	return float64(failed)*100 <= percent*float64(total)
}

// Summary says how many of c's parts failed, under what tolerance, and
// names the failures it knows, one per line.
func (c PartCounts) Summary(percent float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d parts failed", c.Failed, c.Total)
	switch {
	case percent <= 0:
	case Tolerated(c.Failed, c.Total, percent):
		fmt.Fprintf(&b, ", within tolerated_failures: %g%%", percent)
	default:
		fmt.Fprintf(&b, ", more than tolerated_failures: %g%% allows", percent)
	}
	failed := slices.Clone(c.FailedKeys)
	slices.SortFunc(failed, func(a, b PartFailure) int { return strings.Compare(a.Key, b.Key) })
	for _, f := range failed {
		fmt.Fprintf(&b, "\n    part %q: %s", f.Key, f.Error)
	}
	if n := c.Failed - len(c.FailedKeys); n > 0 {
		fmt.Fprintf(&b, "\n    and %d more", n)
	}
	return b.String()
}
