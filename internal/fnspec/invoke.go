package fnspec

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/glacier-pipeline/glacier/abi"
	"regexp"
	"time"
)

// Request is an invocation's payload. Every field is optional.
type Request struct {
	// RunID identifies the pipeline run; empty means a new one (NewRunID).
	// A non-empty one must pass CheckRunID.
	RunID string `json:"run_id,omitempty"`

	// A map task is invoked in one of these ways instead, each with the
	// run's RunID: to run some of its parts (Parts, or Batch) and stage
	// their outputs under the run; to count its batches (Plan); and, once
	// every part has run, to Commit the run's parts as its outputs' new
	// versions.
	//
	// Parts are the keys of the parts to run (Step Functions' ItemBatcher
	// sends them). Batch is the index of a batch of the mapped input's
	// parts, TaskSpec.MapBatch of them in key order (Workflows sends it,
	// so no list of keys passes through its variables). Plan answers with
	// Response.Batches.
	Parts  []string `json:"parts,omitempty"`
	Batch  *int     `json:"batch,omitempty"`
	Plan   bool     `json:"plan,omitempty"`
	Commit bool     `json:"commit,omitempty"`
}

// MaxRequestParts bounds Request.Parts.
const MaxRequestParts = 10000

// Validate reports what is wrong with the request, with the offending
// value quoted, so nothing from a request reaches a log unescaped.
func (r Request) Validate() error {
	if r.RunID != "" {
		if err := CheckRunID(r.RunID); err != nil {
			return err
		}
	}
	modes := 0
	for _, set := range []bool{r.Parts != nil, r.Batch != nil, r.Plan, r.Commit} {
		if set {
			modes++
		}
	}
	switch {
	case modes > 1:
		return fmt.Errorf("a request may hold at most one of parts, batch, plan and commit")
	case modes == 1 && r.RunID == "" && !r.Plan:
		return fmt.Errorf("a map task's parts and commit need the run's run_id, so the commit finds what the parts staged")
	case r.Batch != nil && *r.Batch < 0:
		return fmt.Errorf("batch %d is negative", *r.Batch)
	case len(r.Parts) > MaxRequestParts:
		return fmt.Errorf("parts holds %d keys, over the limit of %d", len(r.Parts), MaxRequestParts)
	}
	for _, k := range r.Parts {
		if err := abi.CheckKey(k); err != nil {
			return fmt.Errorf("parts: key %.200q: %w", k, err)
		}
	}
	return nil
}

// MapMode reports whether r asks a map task for parts, a plan or a commit
// rather than a whole invocation.
func (r Request) MapMode() bool {
	return r.Parts != nil || r.Batch != nil || r.Plan || r.Commit
}

// Response is a successful invocation's result.
type Response struct {
	Task  string `json:"task"`
	RunID string `json:"run_id"`
	// Status is "succeeded", or "cached" when the outputs came from the
	// memo and no guest ran.
	Status  string                `json:"status"`
	Outputs map[string]OutputInfo `json:"outputs"`
	// DurationMS is the invocation's wall time in milliseconds, from the
	// request to the outputs' commit.
	DurationMS int64 `json:"duration_ms"`
	// Parts says what became of the parts an invocation of a map task ran
	// or committed.
	Parts *PartCounts `json:"parts,omitempty"`
	// Batches answers a Plan: how many batches the mapped input's parts
	// make.
	Batches *int `json:"batches,omitempty"`
}

// OutputInfo describes a committed output.
type OutputInfo struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// MaxRunID is the longest run id.
const MaxRunID = 128

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

// CheckRunID reports whether id is a run id: at most MaxRunID bytes of
// letters, digits and . _ : -, starting with a letter or digit. Such an id
// can appear in logs, object names and file names as it is, so everything
// that takes a run id from outside (an invocation's payload, a path in the
// local store) checks it. The error quotes id, escaped.
func CheckRunID(id string) error {
	if len(id) > MaxRunID || !runIDPattern.MatchString(id) {
		return fmt.Errorf("run_id %.200q is not a run id: it must be 1 to %d letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
			id, MaxRunID)
	}
	return nil
}

// NewRunID returns a new run id: the UTC time and a random suffix, such as
// 20240501T120000.000Z-a1b2c3. Run ids made this way sort by start time;
// glacier run names its runs so, and a function invoked without one names
// its run the same way.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}
