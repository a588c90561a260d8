package fnspec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/glacier-pipeline/glacier/abi"
)

// Version names a dataset version by content.
type Version struct {
	Digest string `json:"sha256"`
	Size   int64  `json:"size"`
}

// CacheKey is what decides whether an invocation's outputs can be reused:
// the same key means the same module, fed the same bytes with the same
// params and limits, writing the same outputs, and so the same results.
// glacier run and the function runtimes compute it with Sum, so a result
// made on one target is found on every other.
type CacheKey struct {
	Task string
	// Module is the module's hex SHA-256: it covers the whole program.
	Module string
	// Inputs are the versions read, by dataset; for a map task's part,
	// the mapped input is the part's version.
	Inputs map[string]Version
	Params map[string]string
	// MemoryMiB and TimeoutSecs are the sandbox's limits (a task that ran
	// out of either may succeed with more). The compile budget is left
	// out: it cannot change what a task computes.
	MemoryMiB, TimeoutSecs int
	Outputs                []string
	// Part is the key of a map task's part; empty otherwise.
	Part string
	// Schemas holds the SHA-256 of each output's contract (see
	// SchemaDigests); a contract added or changed makes the task run
	// again, so an output made before it is checked against it.
	Schemas map[string]string
}

// SchemaDigests returns the hex SHA-256 of the contract of each of
// outputs that schemas (encoded contracts, by dataset) holds, or nil when
// none has one. A contract is hashed compacted: a spec written with
// indentation carries the same contract, and must give the same key.
func SchemaDigests(schemas map[string]json.RawMessage, outputs []string) map[string]string {
	var out map[string]string
	for _, o := range outputs {
		raw, ok := schemas[o]
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		var compact bytes.Buffer
		if json.Compact(&compact, raw) == nil {
			raw = compact.Bytes()
		}
		sum := sha256.Sum256(raw)
		out[o] = hex.EncodeToString(sum[:])
	}
	return out
}

// Limits formats the key's limits as messages and memo entries show them.
func (k CacheKey) Limits() string {
	return FormatLimits(k.MemoryMiB, k.TimeoutSecs)
}

// FormatLimits formats a sandbox's memory and timeout.
func FormatLimits(memoryMiB, timeoutSecs int) string {
	return fmt.Sprintf("memory=%dMiB timeout=%ds", memoryMiB, timeoutSecs)
}

// Sum returns the key as hex: the SHA-256 of its canonical JSON, with the
// host ABI version, outputs sorted and map keys in order.
func (k CacheKey) Sum() string {
	outs := slices.Sorted(slices.Values(k.Outputs))
	data, _ := json.Marshal(struct {
		ABI     int                `json:"abi"`
		Task    string             `json:"task"`
		Module  string             `json:"module"`
		Inputs  map[string]Version `json:"inputs"`
		Params  map[string]string  `json:"params"`
		Limits  string             `json:"limits"`
		Outputs []string           `json:"outputs"`
		Part    string             `json:"part,omitempty"`
		Schemas map[string]string  `json:"schemas,omitempty"`
	}{abi.Version, k.Task, k.Module, k.Inputs, k.Params, k.Limits(), outs, k.Part, k.Schemas})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
