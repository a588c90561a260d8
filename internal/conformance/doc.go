// Package conformance checks that the guest SDK, its native test double and
// the Glacier runtime agree: a task gives the same outputs, and fails with
// the same messages, under wasmrt as under tasktest, and a task written in
// WAT against docs/abi.md alone runs like one written with the Go SDK.
//
// The package has only tests; tasks holds the task function they share, and
// testdata/sdktask is the main package that builds it for wasmrt.
package conformance
