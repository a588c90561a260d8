package task_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// clean keeps the orders in the currency named by the "currency" param.
func clean(t *task.Context) error {
	in, err := t.Input("raw_orders")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("clean_orders")
	if err != nil {
		return err
	}
	currency := t.Param("currency")
	kept := 0
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if strings.HasSuffix(lines.Text(), ","+currency) {
			fmt.Fprintln(out, lines.Text())
			kept++
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	t.Logf("kept %d orders in %s", kept, currency)
	return out.Close()
}

// A task's main calls task.Run(clean); in a test, tasktest runs the same
// function natively.
func Example() {
	res, err := tasktest.Run(clean, tasktest.Config{
		Task:    "clean",
		Params:  map[string]string{"currency": "EUR"},
		Inputs:  map[string][]byte{"raw_orders": []byte("1,EUR\n2,USD\n3,EUR\n")},
		Outputs: []string{"clean_orders"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Outputs["clean_orders"]))
	fmt.Print(res.Log)
	// Output:
	// 1,EUR
	// 3,EUR
	// kept 2 orders in EUR
}

// Copying an input to an output streams it in large chunks.
func ExampleContext_Input() {
	copyTask := func(t *task.Context) error {
		in, err := t.Input("in")
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := t.Output("out")
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Close()
	}
	res, err := tasktest.Run(copyTask, tasktest.Config{
		Inputs:  map[string][]byte{"in": []byte("same bytes")},
		Outputs: []string{"out"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", res.Outputs["out"])
	// Output: same bytes
}

// Reading a dataset the task did not declare fails with a message that says
// how to fix glacier.yaml.
func ExampleContext_Input_undeclared() {
	_, err := tasktest.Run(func(t *task.Context) error {
		_, err := t.Input("customers")
		return err
	}, tasktest.Config{Task: "clean", Inputs: map[string][]byte{"raw_orders": nil}})
	fmt.Println(err)
	// Output: task "clean" failed: task: open input "customers": not a declared input of task "clean" (inputs: raw_orders); add it to inputs: in glacier.yaml (exit code 1); nothing was committed
}

// An input that nothing has produced yet can be optional.
func ExampleContext_Input_optional() {
	_, err := tasktest.Run(func(t *task.Context) error {
		in, err := t.Input("overrides")
		if errors.Is(err, abi.ErrnoNoent) {
			t.Logf("no overrides yet")
			return nil
		}
		if err != nil {
			return err
		}
		return in.Close()
	}, tasktest.Config{MissingInputs: []string{"overrides"}})
	fmt.Println(err)
	// Output: <nil>
}

// ReadJSON and WriteJSON move one JSON value per dataset.
func ExampleReadJSON() {
	type totals struct {
		Orders int     `json:"orders"`
		Sum    float64 `json:"sum"`
	}
	sum := func(t *task.Context) error {
		var amounts []float64
		if err := task.ReadJSON(t, "amounts", &amounts); err != nil {
			return err
		}
		var tot totals
		for _, a := range amounts {
			tot.Orders++
			tot.Sum += a
		}
		return task.WriteJSON(t, "totals", tot)
	}
	res, err := tasktest.Run(sum, tasktest.Config{
		Inputs:  map[string][]byte{"amounts": []byte("[1.5, 2, 4]")},
		Outputs: []string{"totals"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Outputs["totals"]))
	// Output: {"orders":3,"sum":7.5}
}
