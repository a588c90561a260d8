package aws

import (
	"embed"
	"sort"
	"strings"
	"text/template"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

//go:embed templates
var templates embed.FS

var tmpl = pulumiproject.ParseTemplates(templates, "templates/*.tmpl", template.FuncMap{
	"last":    func(n int) int { return n - 1 },
	"comment": comment,
})

// programData is what main.go.tmpl renders.
type programData struct {
	*deployment
	// AllTags are the user's tags and glacier:pipeline, sorted.
	AllTags  []tag
	Datasets []programDataset
	Tasks    []programTask
}

type programDataset struct {
	datasetDecl
	Comment string
}

type programTask struct {
	taskDecl
	Comment             string
	ReadVars, WriteVars string
}

// program renders main.go, gofmt'd.
func program(dep *deployment) ([]byte, error) {
	data := programData{deployment: dep, AllTags: append([]tag{{tagPipeline, dep.Pipeline}}, dep.Tags...)}
	sort.SliceStable(data.AllTags, func(i, j int) bool { return data.AllTags[i].Key < data.AllTags[j].Key })
	vars := map[string]string{}
	for _, d := range dep.Datasets {
		vars[d.Name] = d.Var
		data.Datasets = append(data.Datasets, programDataset{datasetDecl: d, Comment: datasetComment(d)})
	}
	for _, t := range dep.Tasks {
		data.Tasks = append(data.Tasks, programTask{
			taskDecl:  t,
			Comment:   strings.TrimPrefix(flowComment(t), "Task "),
			ReadVars:  pulumiproject.JoinVars(vars, t.Reads),
			WriteVars: pulumiproject.JoinVars(vars, t.Writes),
		})
	}
	return tmpl.Go("main.go.tmpl", data)
}

// datasetComment says where a dataset comes from and who reads it.
func datasetComment(d datasetDecl) string {
	var parts []string
	if d.Source != "" {
		parts = append(parts, "is uploaded from "+d.Source)
	} else {
		parts = append(parts, "is written by "+d.Producer)
	}
	if len(d.Readers) > 0 {
		parts = append(parts, "read by "+list(d.Readers))
	}
	s := d.Name + " " + strings.Join(parts, " and ")
	if c := d.Bucket.Class; c != "" && c != classStandard {
		s += "; it is kept in " + c
	}
	return s + "."
}

// comment formats text as a // comment indented by one tab, wrapped at 80
// columns.
func comment(text string) string {
	const width = 80 - 8 - 3 // a tab counts 8, then "// "
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	lines = append(lines, line)
	return "// " + strings.Join(lines, "\n\t// ")
}
