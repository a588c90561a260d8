package fnspec_test

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

func ExampleTaskSpec_ParseDatasets() {
	spec := fnspec.TaskSpec{Task: "clean", Inputs: []string{"raw"}, Outputs: []string{"clean"}}
	_, err := spec.ParseDatasets(`{"raw": "s3://data/raw", "report": "s3://data/report"}`)
	fmt.Println(err)
	// Output:
	// GLACIER_DATASETS does not match task "clean" (inputs ["raw"], outputs ["clean"]): it has no URL for output dataset "clean"
	// it names dataset "report", which task "clean" neither reads nor writes
}
