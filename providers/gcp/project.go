package gcp

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Versions of the Pulumi SDKs the written program depends on. The embedded
// go.mod and go.sum list them and every module they need; a test builds a
// written project to prove go.sum complete, and
// `GLACIER_PULUMI_TESTS=1 go test ./providers/gcp -run TestProject -update`
// rewrites both after a change here.
const (
	PulumiSDKVersion    = pulumiproject.PulumiSDKVersion
	PulumiGCPSDKVersion = "v9.6.0"
)

// requires are the written project's direct requirements.
var requires = map[string]string{
	"github.com/pulumi/pulumi/sdk/v3":     PulumiSDKVersion,
	"github.com/pulumi/pulumi-gcp/sdk/v9": PulumiGCPSDKVersion,
}

// marker starts Pulumi.yaml, so a later compilation knows the directory
// is its own to overwrite.
var marker = pulumiproject.Marker(Target)

// write lays out the project under opts.Out. It replaces bundles/ and
// sources/ wholesale, so nothing from an earlier compilation lingers, and
// leaves other files (such as a stack's Pulumi.<stack>.yaml) alone.
func write(opts Options, dep *deployment, bundles []bundle) error {
	files, err := projectFiles(dep, bundles)
	if err != nil {
		return fmt.Errorf("gcp: %w", err)
	}
	p := pulumiproject.Project{Marker: marker, Clear: []string{"bundles", "sources"}, Files: files}
	for _, b := range bundles {
		p.Files = append(p.Files, pulumiproject.File{Name: b.Path, Data: b.Zip})
	}
	for _, d := range dep.Datasets {
		if d.Source != "" {
			p.Copies = append(p.Copies, pulumiproject.Copy{Src: d.SourcePath(opts.Dir), Name: d.SourceFile()})
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
	// HostReserveMiB is what each function has beyond its task's memory,
	// before rounding up to a tier.
	HostReserveMiB int
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
	pulumiYAML, err := tmpl.Render("Pulumi.yaml.tmpl", pulumiData{deployment: dep, Marker: marker})
	if err != nil {
		return nil, err
	}
	goMod, goSum, err := pulumiproject.ModuleFiles(templates, "templates", modulePath(dep.Pipeline))
	if err != nil {
		return nil, err
	}
	goVersion, err := pulumiproject.GoDirective(goMod.Data)
	if err != nil {
		return nil, fmt.Errorf("embedded %w", err)
	}
	rd := readmeData{deployment: dep, Artifacts: bundles, GoVersion: goVersion, HostReserveMiB: plan.HostReserveMiB}
	for _, d := range dep.Datasets {
		if d.Producer != "" && len(d.Readers) == 0 {
			rd.Outputs = append(rd.Outputs, d.Name)
		}
	}
	readme, err := tmpl.Render("README.md.tmpl", rd)
	if err != nil {
		return nil, err
	}
	return []pulumiproject.File{
		{Name: "Pulumi.yaml", Data: pulumiYAML},
		{Name: "main.go", Data: mainGo},
		goMod,
		goSum,
		{Name: "workflow.yaml", Data: definition(dep)},
		{Name: "README.md", Data: readme},
	}, nil
}

// modulePath is the written project's module path.
func modulePath(pipeline string) string { return pipeline + "/gcp" }
