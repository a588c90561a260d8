package gcp

import (
	"embed"
	"fmt"

	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// files are the written project's templates and its program's static
// files, which the repository compiles only as part of a written project
// (see pulumiproject.ProgramTag).
//
//go:embed templates program
var files embed.FS

var tmpl = pulumiproject.ParseTemplates(files, "templates/*.tmpl", nil)

// mainNames are the names main.go.tmpl declares, imports and uses in
// program, which no dataset's or task's variable may take.
var mainNames = []string{"pulumi", "definition", "region", "labels", "datasetsEnv", "stateEnv", "stagingPrefix", "retiredPrefix", "main", "program",
	"ctx", "err", "shared", "workflow", "state"}

// Grant returns g as the program's grant type, a Go composite literal.
func (dep *deployment) Grant(g grant) string {
	v := "state"
	if g.Dataset != compile.StateName {
		v = dep.DatasetVars([]string{g.Dataset})
	}
	s := fmt.Sprintf("{What: %q, Dataset: %s, Role: %q", g.What, v, g.Role)
	if g.Scope != bucketScope {
		s += ", Scope: " + scopeNames[g.Scope]
	}
	if len(g.Keys) > 0 {
		s += fmt.Sprintf(", Keys: %#v", g.Keys)
	}
	return s + "}"
}
