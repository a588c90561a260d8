package aws

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// Versions of the Pulumi SDKs the written program depends on. The
// embedded go.mod and go.sum list them and every module they need; a test
// builds a written project to prove go.sum complete, and
// `GLACIER_PULUMI_TESTS=1 go test ./providers/aws -run TestProject -update`
// rewrites both after a change here.
const (
	PulumiSDKVersion    = pulumiproject.PulumiSDKVersion
	PulumiAWSSDKVersion = "v6.83.4"
)

// requires are the written project's direct requirements.
var requires = map[string]string{
	"github.com/pulumi/pulumi/sdk/v3":     PulumiSDKVersion,
	"github.com/pulumi/pulumi-aws/sdk/v6": PulumiAWSSDKVersion,
}

// write lays out the project under opts.Out. It replaces artifacts/ and
// sources/ wholesale, so nothing from an earlier compilation lingers, and
// leaves other files (such as a stack's Pulumi.<stack>.yaml) alone.
func write(opts Options, dep *deployment, arts []artifact) error {
	files, err := projectFiles(dep, arts)
	if err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	p := pulumiproject.Project{Marker: marker, Clear: []string{"artifacts", "sources"}}
	for _, a := range arts {
		p.Files = append(p.Files, pulumiproject.File{Name: a.Path, Data: a.Zip})
	}
	p.Files = append(p.Files, files...)
	for _, d := range dep.Datasets {
		if d.Source != "" {
			p.Copies = append(p.Copies, pulumiproject.Copy{Src: d.SourcePath(opts.Dir), Name: d.SourceFile()})
		}
	}
	if err := pulumiproject.Write(opts.Out, p); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	return nil
}

// projectFiles renders every text file of the project.
func projectFiles(dep *deployment, arts []artifact) ([]pulumiproject.File, error) {
	asl, err := definition(dep)
	if err != nil {
		return nil, err
	}
	mainGo, err := program(dep)
	if err != nil {
		return nil, err
	}
	pulumiYAML, err := tmpl.Render("Pulumi.yaml.tmpl", dep)
	if err != nil {
		return nil, err
	}
	readme, err := tmpl.Render("README.md.tmpl", readmeData{deployment: dep, Artifacts: arts, Marker: marker, HostReserveMiB: plan.HostReserveMiB})
	if err != nil {
		return nil, err
	}
	goMod, goSum, err := pulumiproject.ModuleFiles(templates, "templates", modulePath(dep.Pipeline))
	if err != nil {
		return nil, err
	}
	return []pulumiproject.File{
		{Name: "Pulumi.yaml", Data: pulumiYAML},
		{Name: "main.go", Data: mainGo},
		goMod,
		goSum,
		{Name: "statemachine.asl.json", Data: asl},
		{Name: "README.md", Data: readme},
	}, nil
}

type readmeData struct {
	*deployment
	Artifacts []artifact
	Marker    string
	// HostReserveMiB is what each function has beyond its task's memory.
	HostReserveMiB int
}

// modulePath is the written project's module path.
func modulePath(pipeline string) string { return pipeline + "/aws" }
