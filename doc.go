// Package glacier is the core model of a Glacier pipeline: datasets with
// generic storage, tasks with generic compute that read and write them, the
// validation that checks a pipeline before anything runs, and the Compiler and
// Executor interfaces that providers implement.
//
// The package knows no cloud, no Pulumi and no WebAssembly engine; a test
// enforces it. Providers are injected late:
//
//	p := glacier.New("etl")
//	_ = p.AddDataset(glacier.Dataset{Name: "raw", Storage: glacier.ObjectStorage{}, Source: "data/raw.csv"})
//	_ = p.AddDataset(glacier.Dataset{Name: "clean", Storage: glacier.ObjectStorage{}})
//	_ = p.AddTask(glacier.Task{
//		Name: "clean", Build: "./tasks/clean",
//		Inputs: []string{"raw"}, Outputs: []string{"clean"},
//		Compute: glacier.Serverless{Memory: 512, Timeout: 60},
//	})
//	report, err := p.Run(ctx, executor)   // e.g. providers/local
//	out, err := p.Compile(ctx, compiler)  // e.g. providers/aws
//
// The same model is written as a glacier.yaml manifest; see package
// manifest and docs/manifest.md.
package glacier
