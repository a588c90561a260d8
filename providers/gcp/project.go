package gcp

import (
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
)

// spec is Google Cloud as the compile pipeline sees it. A task's timeout
// is bounded by the workflow's call, not by Cloud Functions, and a bundle
// must have a go.mod at its root.
var spec = compile.Spec{
	Name:          Target,
	Cloud:         "GCP",
	Service:       "Cloud Functions",
	DefaultRegion: DefaultRegion,
	DatasetHints:  datasetHints,
	Tagging:       labelling,
	Memory:        functionMemory,
	Buckets:       bucketNaming,
	Functions:     functionNaming,
	Artifacts:     "bundles",
	Artifact:      "bundle",
	Read:          []string{"go.mod"},
	Program:       files,
	Templates:     tmpl,
	MainNames:     mainNames,

	MaxTimeoutSecs:   MaxCallTimeoutSecs,
	MaxArtifactBytes: MaxBundleBytes,
	ArtifactLimit:    "Cloud Functions deploys",
	SDK:              compile.Module{Path: "github.com/pulumi/pulumi-gcp/sdk/v9", Version: PulumiGCPSDKVersion},
}

// Spec implements compile.Target.
func (target) Spec() *compile.Spec { return &spec }
