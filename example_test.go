package glacier_test

import (
	"fmt"

	"github.com/glacier-pipeline/glacier"
)

// Example declares a pipeline in Go, the same one a glacier.yaml would,
// validates it, and prints the waves its tasks run in.
func Example() {
	p := glacier.New("shop")
	_ = p.AddDataset(glacier.Dataset{Name: "orders_raw", Storage: glacier.ObjectStorage{}, Source: "data/orders.csv"})
	_ = p.AddDataset(glacier.Dataset{Name: "orders", Storage: glacier.ObjectStorage{}})
	_ = p.AddDataset(glacier.Dataset{Name: "revenue", Storage: glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent}})
	_ = p.AddTask(glacier.Task{Name: "clean", Build: "./tasks/clean", Inputs: []string{"orders_raw"}, Outputs: []string{"orders"},
		Compute: glacier.Serverless{Memory: 256, Timeout: 60}, Params: map[string]string{"currency": "EUR"}})
	_ = p.AddTask(glacier.Task{Name: "revenue", Build: "./tasks/revenue", Inputs: []string{"orders"}, Outputs: []string{"revenue"}})

	if problems := p.Validate(); len(problems) > 0 {
		fmt.Println(problems)
		return
	}
	levels, _ := p.Levels()
	for i, level := range levels {
		for _, t := range level {
			fmt.Printf("wave %d: %s (%s)\n", i+1, t.Name, glacier.LimitsOf(t.Compute))
		}
	}
	// Output:
	// wave 1: clean (memory=256MiB timeout=60s)
	// wave 2: revenue (memory=512MiB timeout=300s)
}
