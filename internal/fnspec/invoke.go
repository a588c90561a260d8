package fnspec

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// Request is an invocation's payload. Every field is optional.
type Request struct {
	// RunID identifies the pipeline run; empty means a new one (NewRunID).
	// A non-empty one must pass CheckRunID.
	RunID string `json:"run_id,omitempty"`
}

// Validate reports what is wrong with the request, with the offending
// value quoted, so nothing from a request reaches a log unescaped.
func (r Request) Validate() error {
	if r.RunID == "" {
		return nil
	}
	return CheckRunID(r.RunID)
}

// Response is a successful invocation's result.
type Response struct {
	Task    string                `json:"task"`
	RunID   string                `json:"run_id"`
	Status  string                `json:"status"` // always "succeeded"
	Outputs map[string]OutputInfo `json:"outputs"`
	// DurationMS is the invocation's wall time in milliseconds, from the
	// request to the outputs' commit.
	DurationMS int64 `json:"duration_ms"`
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
