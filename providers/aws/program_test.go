package aws

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

func TestIdents(t *testing.T) {
	ids := pulumiproject.NewIdents(programNames(t)...)
	assert.Equal(t, "s3Dataset", ids.Add(pulumiproject.Camel("s3"), "Dataset"), "an import")
	assert.Equal(t, "errDataset", ids.Add(pulumiproject.Camel("err"), "Dataset"), "a variable of the program")
	assert.Equal(t, "newTaskFunction", ids.Add(pulumiproject.Camel("new_task"), "Function"), "a function of the program")
}
