package gcp

import (
	"embed"
	"fmt"
	"slices"

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

// HasMaps reports whether a task maps, for the template.
func (dep *deployment) HasMaps() bool {
	return slices.ContainsFunc(dep.Tasks, func(t taskDecl) bool { return t.Map != "" })
}

// Grant returns g as the program's grant type, a Go composite literal.
func (dep *deployment) Grant(g grant) string {
	v := "state"
	if g.Dataset != compile.StateName {
		v = dep.DatasetVars([]string{g.Dataset})
	}
	s := fmt.Sprintf("{What: %q, Dataset: %s, Role: %q", g.What, v, g.Role)
	if len(g.Keys) > 0 {
		s += fmt.Sprintf(", Keys: %#v", g.Keys)
	}
	return s + "}"
}
