//go:build race

package wasmrt_test

// raceEnabled: the race detector's shadow memory lives in the same address
// space that a compile budget caps, so real modules need several times
// the memory to compile.
const raceEnabled = true
