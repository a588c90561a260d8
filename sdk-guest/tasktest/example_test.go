package tasktest_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// upper is a task that upper-cases its input "words" into its output "shout".
func upper(t *task.Context) error {
	var words []string
	if err := task.ReadJSON(t, "words", &words); err != nil {
		return err
	}
	for i, w := range words {
		words[i] = strings.ToUpper(w)
	}
	t.Logf("shouted %d words", len(words))
	return task.WriteJSON(t, "shout", words)
}

func ExampleRun() {
	res, err := tasktest.Run(upper, tasktest.Config{
		Task:    "upper",
		Inputs:  map[string][]byte{"words": []byte(`["quiet", "please"]`)},
		Outputs: []string{"shout"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Outputs["shout"]))
	fmt.Print(res.Log)
	// Output:
	// ["QUIET","PLEASE"]
	// shouted 2 words
}

// A failing task returns a *tasktest.Error that reads like the runtime's,
// and its outputs are not kept.
func ExampleRun_failure() {
	res, err := tasktest.Run(upper, tasktest.Config{
		Task:    "upper",
		Inputs:  map[string][]byte{"words": []byte(`"not a list"`)},
		Outputs: []string{"shout"},
	})
	var te *tasktest.Error
	if errors.As(err, &te) {
		fmt.Println("exit code:", te.ExitCode)
		fmt.Println("message:", te.Message)
	}
	fmt.Println("outputs kept:", res.Outputs != nil)
	// Output:
	// exit code: 1
	// message: task: read JSON input "words": json: cannot unmarshal string into Go value of type []string
	// outputs kept: false
}
