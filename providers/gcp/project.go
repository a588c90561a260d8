package gcp

import (
	"fmt"
	"path/filepath"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Versions of the Pulumi SDKs the written program depends on. The embedded
// go.mod and go.sum list them and every module they need; a test builds a
// written project to prove go.sum complete, and
// `GLACIER_PULUMI_TESTS=1 go test ./providers/gcp -run TestProject -update`
// rewrites both after a change here.
const (
	PulumiSDKVersion    = "v3.274.1"
	PulumiGCPSDKVersion = "v9.6.0"
)

// marker starts Pulumi.yaml, so a later compilation knows the directory
// is its own to overwrite.
const marker = "# Written by glacier compile --target gcp."

// write lays out the project under opts.Out. It replaces bundles/ and
// sources/ wholesale, so nothing from an earlier compilation lingers, and
// leaves other files (such as a stack's Pulumi.<stack>.yaml) alone.
func write(opts Options, dep *deployment, bundles []bundle) error {
	files, err := projectFiles(dep, bundles)
	if err != nil {
		return err
	}
	p := pulumiproject.Project{Marker: marker, Clear: []string{"bundles", "sources"}, Files: files}
	for _, b := range bundles {
		p.Files = append(p.Files, pulumiproject.File{Name: b.Path, Data: b.Zip})
	}
	for _, d := range dep.Datasets {
		if d.SourceFile != "" {
			p.Copies = append(p.Copies, pulumiproject.Copy{Src: filepath.Join(opts.Dir, filepath.FromSlash(d.Source)), Name: d.SourceFile})
		}
	}
	if err := pulumiproject.Write(opts.Out, p); err != nil {
		return fmt.Errorf("gcp: %w", err)
	}
	return nil
}

// readmeData is what README.md.tmpl renders.
type readmeData struct {
	*deployment
	Artifacts []bundle
	// GoVersion is the Go the project needs, from its go.mod.
	GoVersion string
	// Outputs are the datasets no task reads: the pipeline's results.
	Outputs []string
}

// pulumiData is what Pulumi.yaml.tmpl renders.
type pulumiData struct {
	*deployment
	Marker string
}

// projectFiles renders every text file of the project.
func projectFiles(dep *deployment, bundles []bundle) ([]pulumiproject.File, error) {
	mainGo, err := program(dep)
	if err != nil {
		return nil, err
	}
	pulumiYAML, err := render("Pulumi.yaml.tmpl", pulumiData{deployment: dep, Marker: marker})
	if err != nil {
		return nil, err
	}
	goMod, goSum, err := moduleFiles(dep.Pipeline)
	if err != nil {
		return nil, err
	}
	goVersion, err := pulumiproject.GoDirective(goMod)
	if err != nil {
		return nil, fmt.Errorf("gcp: embedded %w", err)
	}
	rd := readmeData{deployment: dep, Artifacts: bundles, GoVersion: goVersion}
	for _, d := range dep.Datasets {
		if d.Producer != "" && len(d.Readers) == 0 {
			rd.Outputs = append(rd.Outputs, d.Name)
		}
	}
	readme, err := render("README.md.tmpl", rd)
	if err != nil {
		return nil, err
	}
	return []pulumiproject.File{
		{Name: "Pulumi.yaml", Data: pulumiYAML},
		{Name: "main.go", Data: mainGo},
		{Name: "go.mod", Data: goMod},
		{Name: "go.sum", Data: goSum},
		{Name: "workflow.yaml", Data: definition(dep)},
		{Name: "README.md", Data: readme},
	}, nil
}

// moduleFiles returns go.mod and go.sum for a project: the embedded
// templates, with the module named after the pipeline.
func moduleFiles(pipeline string) (goMod, goSum []byte, err error) {
	mod, err := templates.ReadFile("templates/go.mod.txt")
	if err != nil {
		return nil, nil, err
	}
	sum, err := templates.ReadFile("templates/go.sum.txt")
	if err != nil {
		return nil, nil, err
	}
	goMod, err = pulumiproject.GoMod(mod, pipeline+"/gcp")
	if err != nil {
		return nil, nil, fmt.Errorf("gcp: %w", err)
	}
	return goMod, sum, nil
}
