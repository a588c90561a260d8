package gcfrt

// Each bundle's function package registers the handler with the Functions
// Framework itself (the buildpack requires the direct import; see gcfbundle's
// function template), and its cmd/main.go, like the buildpack's generated
// main, serves it with funcframework. Importing both here keeps the
// framework, at the version the bundles vendor, and everything it needs in
// this module's go.mod and go.sum, which is what bundles are vendored from.
import (
	_ "github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	_ "github.com/GoogleCloudPlatform/functions-framework-go/functions"
)
