// Package task is the Glacier guest SDK: what a task's main package imports.
//
// A task is a Go main package built with GOOS=wasip1 GOARCH=wasm. The Glacier
// runtime runs it in a sandbox where it sees only what glacier.yaml declares
// for it: its inputs for reading, its outputs for writing and its params. It
// has no environment, no files and no network; datasets stream through the
// host, so a task never holds a whole dataset in memory unless it wants to.
//
// A complete task, ./tasks/clean in a project whose glacier.yaml says
//
//	tasks:
//	  clean:
//	    build: ./tasks/clean
//	    inputs: [raw_orders]
//	    outputs: [clean_orders]
//	    params: {currency: EUR}
//
// looks like this:
//
//	package main
//
//	import (
//		"bufio"
//		"fmt"
//		"strings"
//
//		"github.com/glacier-pipeline/glacier/sdk-guest/task"
//	)
//
//	func main() {
//		task.Run(clean)
//	}
//
//	// clean keeps the orders in the wanted currency.
//	func clean(t *task.Context) error {
//		in, err := t.Input("raw_orders")
//		if err != nil {
//			return err
//		}
//		defer in.Close()
//		out, err := t.Output("clean_orders")
//		if err != nil {
//			return err
//		}
//		currency := t.Param("currency")
//		kept := 0
//		lines := bufio.NewScanner(in)
//		for lines.Scan() {
//			if strings.HasSuffix(lines.Text(), ","+currency) {
//				fmt.Fprintln(out, lines.Text())
//				kept++
//			}
//		}
//		if err := lines.Err(); err != nil {
//			return err
//		}
//		t.Logf("kept %d orders in %s", kept, currency)
//		return out.Close()
//	}
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -o clean.wasm ./tasks/clean
//
// (glacier build does this for every task) and test the function natively,
// with plain go test, through package tasktest.
//
// # Success and failure
//
// Run calls the task function once. If it returns nil, Run closes the
// datasets the task left open and the runtime commits every output at once.
// If it returns an error or panics, the task fails, the runtime reports the
// message and nothing the task wrote is kept. Every declared output must be
// opened for writing, even to write nothing, or the task fails. If the
// storage behind any dataset fails, the task fails too, even when the
// function ignores the error it got, so a partial output is never committed.
//
// Errors from Input and Output name the dataset and say how to fix
// glacier.yaml; they match the abi.Errno the host returned (errors.Is), so
// a task can treat an input without a version (abi.ErrnoNoent) as optional.
//
// # Partitioned datasets
//
// A partitioned dataset (partitioned: true in glacier.yaml) is a set of
// parts, each named by a key such as 2026-12-01.log or eu/2026/12.csv. A
// map task (map: in glacier.yaml) runs once per part of its mapped input,
// and each invocation reads that part with Input and writes its outputs
// with Output, exactly as a task over whole datasets does; the runtime
// files each output under the part's key, which Part returns. Any other
// task reads and writes its partitioned datasets, which Partitioned lists,
// part by part:
//
//	keys, err := t.Parts("logs")
//	if err != nil {
//		return err
//	}
//	for _, key := range keys {
//		in, err := t.InputPart("logs", key)
//		if err != nil {
//			return err
//		}
//		out, err := t.OutputPart("clean_logs", key)
//		if err != nil {
//			return err
//		}
//		// ... copy in to out, then close both.
//	}
//
// Opening a partitioned dataset with Input or Output, or a dataset that is
// not partitioned part by part, fails with an error that says which to use.
//
// The rules between the SDK and the runtime are in docs/abi.md; a task in
// another language follows them directly.
package task
