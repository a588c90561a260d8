package gcp

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

//go:embed templates
var templates embed.FS

var tmpl = pulumiproject.ParseTemplates(templates, "templates/*.tmpl", template.FuncMap{"join": strings.Join})

// programData is what main.go.tmpl renders.
type programData struct {
	*deployment
	// Labels are every label but the per-resource one, sorted by key.
	Labels   []label
	Datasets []programDataset
	Tasks    []programTask
	URLsLine string
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
	data := programData{
		deployment: dep,
		Labels:     append([]label{{labelPipeline, dep.Pipeline}}, dep.Labels...),
		URLsLine:   urlsLine,
	}
	sort.SliceStable(data.Labels, func(i, j int) bool { return data.Labels[i].Key < data.Labels[j].Key })
	vars := map[string]string{}
	for _, d := range dep.Datasets {
		vars[d.Name] = d.Var
		data.Datasets = append(data.Datasets, programDataset{datasetDecl: d, Comment: datasetComment(d)})
	}
	for _, t := range dep.Tasks {
		data.Tasks = append(data.Tasks, programTask{
			taskDecl:  t,
			Comment:   taskComment(t),
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
		parts = append(parts, "read by "+strings.Join(d.Readers, ", "))
	}
	return d.Name + " " + strings.Join(parts, " and ") + "."
}

// taskComment says what a task reads and writes.
func taskComment(t taskDecl) string {
	s := t.Name + " reads " + list(t.Reads) + " and writes " + list(t.Writes)
	if t.Retries > 0 {
		s += fmt.Sprintf("; a failed run is retried %d times", t.Retries)
	}
	return s + "."
}

func list(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}
