package aws_test

import (
	"context"
	"fmt"
	"log"

	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/aws"
)

// Compile examples/etl into a Pulumi project under infra/, for functions
// on arm64 named prod-<task>.
func ExampleNew() {
	m, err := manifest.Load("examples/etl/glacier.yaml")
	if err != nil {
		log.Fatal(err)
	}
	c := aws.New(aws.Options{Dir: m.Dir, Out: "infra", Prefix: "prod", Region: "eu-west-3",
		Tags: map[string]string{"team": "data"}})
	out, err := m.Pipeline.Compile(context.Background(), c)
	if err != nil {
		log.Fatal(err) // every problem at once, each naming its task or dataset
	}
	for _, a := range out.Artifacts {
		fmt.Printf("%s  %d bytes  wasm sha256 %s\n", a.Path, a.Size, a.ModuleSHA256)
	}
	for _, w := range out.Warnings {
		fmt.Println("warning:", w)
	}
}
