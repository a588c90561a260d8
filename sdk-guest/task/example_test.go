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

// ReadJSONLines decodes JSON Lines into a struct, one record at a time, as
// the input streams.
func ExampleReadJSONLines() {
	type order struct {
		Customer string  `json:"customer"`
		Amount   float64 `json:"amount"`
	}
	sum := func(t *task.Context) error {
		totals := map[string]float64{}
		err := task.ReadJSONLines(t, "orders", func(o order) error {
			totals[o.Customer] += o.Amount
			return nil
		})
		if err != nil {
			return err
		}
		return task.WriteJSON(t, "totals", totals)
	}
	res, err := tasktest.Run(sum, tasktest.Config{
		Inputs:  map[string][]byte{"orders": []byte("{\"customer\":\"C1\",\"amount\":2.5}\n{\"customer\":\"C2\",\"amount\":1}\n{\"customer\":\"C1\",\"amount\":4}\n")},
		Outputs: []string{"totals"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Outputs["totals"]))
	// Output: {"C1":6.5,"C2":1}
}

// A task that is not mapping reads every part of a partitioned input: here
// it counts the lines of each day's log into one report.
func ExampleContext_Parts() {
	count := func(t *task.Context) error {
		keys, err := t.Parts("access_logs")
		if err != nil {
			return err
		}
		out, err := t.Output("report")
		if err != nil {
			return err
		}
		for _, key := range keys {
			in, err := t.InputPart("access_logs", key)
			if err != nil {
				return err
			}
			lines := 0
			for s := bufio.NewScanner(in); s.Scan(); {
				lines++
			}
			in.Close()
			fmt.Fprintf(out, "%s %d\n", key, lines)
		}
		return out.Close()
	}
	res, err := tasktest.Run(count, tasktest.Config{
		PartitionedInputs: map[string]map[string][]byte{"access_logs": {
			"2026/12/02.log": []byte("GET /\n"),
			"2026/12/01.log": []byte("GET /\nGET /about\n"),
		}},
		Outputs: []string{"report"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Outputs["report"]))
	// Output:
	// 2026/12/01.log 2
	// 2026/12/02.log 1
}

// A task writes a partitioned output under keys it chooses, one part per
// day here, for a map task to fan out over.
func ExampleContext_OutputPart() {
	split := func(t *task.Context) error {
		for _, day := range []string{"2026-12-01", "2026-12-02"} {
			out, err := t.OutputPart("daily", day+".csv")
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "orders of %s\n", day)
			if err := out.Close(); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := tasktest.Run(split, tasktest.Config{PartitionedOutputs: []string{"daily"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", res.OutputParts["daily"]["2026-12-02.csv"])
	// Output: "orders of 2026-12-02\n"
}

// Each invocation of a map task reads its part of the mapped input whole,
// with Input, and writes its outputs whole; Part says which part it is.
func ExampleContext_Part() {
	parse := func(t *task.Context) error {
		in, err := t.Input("access_logs")
		if err != nil {
			return err
		}
		defer in.Close()
		data, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		out, err := t.Output("sizes")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d bytes\n", t.Part(), len(data))
		return out.Close()
	}
	res, err := tasktest.Run(parse, tasktest.Config{
		Part:    "2026/12/01.log",
		Inputs:  map[string][]byte{"access_logs": []byte("GET /\n")},
		Outputs: []string{"sizes"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Outputs["sizes"]))
	// Output: 2026/12/01.log: 6 bytes
}

// Opening a partitioned input whole fails with a message that says how to
// read it.
func ExampleContext_Input_partitioned() {
	_, err := tasktest.Run(func(t *task.Context) error {
		_, err := t.Input("access_logs")
		return err
	}, tasktest.Config{Task: "report", PartitionedInputs: map[string]map[string][]byte{"access_logs": nil}})
	fmt.Println(err)
	// Output: task "report" failed: task: open input "access_logs": the dataset is partitioned; list its parts with Parts and open each with InputPart (exit code 1); nothing was committed
}
