package aws

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"q":       strconv.Quote,
	"last":    func(n int) int { return n - 1 },
	"comment": comment,
}).ParseFS(templates, "templates/*.tmpl"))

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
			ReadVars:  joinVars(vars, t.Reads),
			WriteVars: joinVars(vars, t.Writes),
		})
	}
	src, err := render("main.go.tmpl", data)
	if err != nil {
		return nil, err
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("aws: main.go does not parse: %w\n%s", err, src)
	}
	return out, nil
}

func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("aws: %s: %w", name, err)
	}
	return b.Bytes(), nil
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

func joinVars(vars map[string]string, datasets []string) string {
	v := make([]string, len(datasets))
	for i, d := range datasets {
		v[i] = vars[d]
	}
	return strings.Join(v, ", ")
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
