package aws

import (
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
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

// spec is AWS as the compile pipeline sees it.
var spec = compile.Spec{
	Name: Target, Cloud: "AWS", Service: "AWS Lambda", DefaultRegion: DefaultRegion,
	DatasetHints: datasetHints, TaskHints: taskHints,
	Tagging: tagging, Memory: lambdaMemory, MaxTimeoutSecs: MaxTimeoutSecs,
	Buckets: bucketNaming, Functions: functionNaming,
	Artifacts: "artifacts", Artifact: "zip",
	MaxArtifactBytes: MaxZipBytes, ArtifactLimit: "Lambda accepts uploaded directly",
	Program: files, MainNames: mainNames,
}

// readmeData is what README.md.tmpl renders.
type readmeData struct {
	*deployment
	Artifacts []compile.Artifact
	Marker    string
	// HostReserveMiB is what each function has beyond its task's memory.
	HostReserveMiB int
}

// Files implements compile.Target.
func (target) Files(dep *deployment, arts []compile.Artifact) ([]pulumiproject.File, error) {
	asl, err := definition(dep)
	if err != nil {
		return nil, err
	}
	mainGo, err := program(dep)
	if err != nil {
		return nil, err
	}
	pulumiYAML, err := tmpl.Render("Pulumi.yaml.tmpl", readmeData{deployment: dep, Marker: spec.Marker()})
	if err != nil {
		return nil, err
	}
	readme, err := tmpl.Render("README.md.tmpl", readmeData{deployment: dep, Artifacts: arts, HostReserveMiB: plan.HostReserveMiB})
	if err != nil {
		return nil, err
	}
	return []pulumiproject.File{
		{Name: "Pulumi.yaml", Data: pulumiYAML},
		{Name: "main.go", Data: mainGo},
		{Name: "statemachine.asl.json", Data: asl},
		{Name: "README.md", Data: readme},
	}, nil
}
