package aws

import (
	"embed"
	"fmt"
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
var mainNames = []string{"lambda", "pulumi", "definition", "tags", "datasetsEnv", "main", "program", "ctx", "err", "machine"}

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
	if len(s.Functions) > 0 {
		fmt.Fprintf(&b, "Functions: []*lambda.Function{%s},\n", dep.TaskVars(s.Functions))
	}
	if s.OwnLogs {
		b.WriteString("OwnLogs: true,\n")
	}
	if s.Any {
		b.WriteString("Any: true,\n")
	}
	b.WriteString("}")
	return b.String()
}
