// Command sdktask runs tasks.Conformance as a Glacier task.
package main

import (
	"github.com/glacier-pipeline/glacier/internal/conformance/tasks"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(tasks.Conformance)
}
