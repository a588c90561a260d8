package aws

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// files are the written project's templates and its program's static
// files, which the repository compiles only as part of a written project
// (see pulumiproject.ProgramTag).
//
//go:embed templates program
var files embed.FS

var tmpl = pulumiproject.ParseTemplates(files, "templates/*.tmpl", template.FuncMap{
	"last": func(n int) int { return n - 1 },
})

// mainNames are the names main.go.tmpl declares, imports and uses in
// program, which no dataset's or task's variable may take.
var mainNames = []string{"lambda", "pulumi", "definition", "tags", "datasetsEnv", "stateEnv", "stagingPrefix", "retiredPrefix", "main", "program", "ctx", "err", "machine", "state"}

// HasPartitioned reports whether a dataset is partitioned, for the
// template.
func (dep *deployment) HasPartitioned() bool {
	return slices.ContainsFunc(dep.Datasets, func(d datasetDecl) bool { return d.Partitioned })
}

// Placeholder is bucketPlaceholder, for the template.
func (dep *deployment) Placeholder(dataset string) string { return bucketPlaceholder(dataset) }

// DatasetVar is the variable of the named dataset in main.go.
func (dep *deployment) DatasetVar(name string) string { return dep.DatasetVars([]string{name}) }

// Statement returns s as the program's statement type, a Go composite
// literal.
func (dep *deployment) Statement(s iamStatement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{\nSid: %q,\nActions: []string{", s.Sid)
	for _, a := range s.Actions {
		if len(s.Actions) > 2 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%q, ", a)
	}
	if len(s.Actions) > 2 {
		b.WriteString("\n")
	}
	b.WriteString("},\n")
	if len(s.Objects) > 0 {
		fmt.Fprintf(&b, "Objects: []*dataset{%s},\n", dep.DatasetVars(s.Objects))
	}
	if len(s.Keys) > 0 {
		b.WriteString("Keys: []objectKey{\n")
		for _, k := range s.Keys {
			fmt.Fprintf(&b, "{%s, %q},\n", dep.DatasetVars([]string{k.Dataset}), k.Key)
		}
		b.WriteString("},\n")
	}
	if len(s.Buckets) > 0 {
		fmt.Fprintf(&b, "Buckets: []*dataset{%s},\n", dep.DatasetVars(s.Buckets))
	}
	if len(s.State) > 0 {
		fmt.Fprintf(&b, "State: %#v,\n", s.State)
	}
	if s.StateBucket {
		b.WriteString("StateBucket: true,\n")
	}
	if len(s.Functions) > 0 {
		fmt.Fprintf(&b, "Functions: []*lambda.Function{%s},\n", dep.TaskVars(s.Functions))
	}
	if s.OwnLogs {
		b.WriteString("OwnLogs: true,\n")
	}
	if s.OwnStateMachine {
		b.WriteString("OwnStateMachine: true,\n")
	}
	if s.OwnExecutions {
		b.WriteString("OwnExecutions: true,\n")
	}
	if s.Any {
		b.WriteString("Any: true,\n")
	}
	b.WriteString("}")
	return b.String()
}
