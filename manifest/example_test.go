package manifest_test

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/manifest"
)

// Example parses a manifest and reports its problems with their lines, as
// glacier validate does.
func Example() {
	m, err := manifest.Parse("glacier.yaml", []byte(`name: shop
datasets:
  orders_raw: {source: data/orders.csv}
  orders: {}
tasks:
  clean:
    build: ./tasks/clean
    inputs: [orders_raw]
    outputs: [orders, audit]
    compute: {type: serverless, memry: 256}
`))
	fmt.Println(err)
	errs, _ := m.Diagnostics()
	for _, e := range errs {
		fmt.Println(e)
	}
	// Output:
	// glacier.yaml:10: unknown key "memry" in task "clean" compute (type serverless); did you mean "memory"?
	// glacier.yaml:6: task "clean": writes dataset "audit", which is not declared; declare it under datasets: or fix the name
}
