// Command hostfiles tries to reach the host's file system and reports, as
// JSON in its output "report", what each attempt returned.
package main

import (
	"os"
	"strings"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

type attempt struct {
	What  string `json:"what"`
	Data  string `json:"data,omitempty"`
	Error string `json:"error,omitempty"`
}

func try(what string, fn func() (string, error)) attempt {
	data, err := fn()
	a := attempt{What: what, Data: data}
	if err != nil {
		a.Error = err.Error()
	}
	return a
}

func readDir(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return strings.Join(names, ","), err
}

func main() {
	task.Run(func(c *task.Context) error {
		report := []attempt{
			try("read /etc/passwd", func() (string, error) { b, err := os.ReadFile("/etc/passwd"); return string(b), err }),
			try("readdir /", func() (string, error) { return readDir("/") }),
			try("readdir .", func() (string, error) { return readDir(".") }),
			try("create /tmp/glacier-escape", func() (string, error) {
				f, err := os.Create("/tmp/glacier-escape")
				if err == nil {
					f.Close()
				}
				return "", err
			}),
			try("read stdin", func() (string, error) { b, err := os.ReadFile("/dev/stdin"); return string(b), err }),
		}
		return task.WriteJSON(c, "report", report)
	})
}
