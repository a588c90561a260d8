package aws

import (
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
)

// spec is AWS as the compile pipeline sees it.
var spec = compile.Spec{
	Name: Target, Cloud: "AWS", Service: "AWS Lambda", DefaultRegion: DefaultRegion,
	DatasetHints: datasetHints, TaskHints: taskHints,
	Tagging: tagging, Memory: lambdaMemory, MaxTimeoutSecs: MaxTimeoutSecs,
	Buckets: bucketNaming, Functions: functionNaming,
	Artifacts: "artifacts", Artifact: "zip",
	MaxArtifactBytes: MaxZipBytes, ArtifactLimit: "Lambda accepts uploaded directly",
	Program: files, Templates: tmpl, MainNames: mainNames,
	SDK: compile.Module{Path: "github.com/pulumi/pulumi-aws/sdk/v6", Version: PulumiAWSSDKVersion},
}

// Spec implements compile.Target.
func (target) Spec() *compile.Spec { return &spec }
