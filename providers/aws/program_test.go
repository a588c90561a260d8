package aws

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

func TestIdents(t *testing.T) {
	ids := pulumiproject.NewIdents(compiletest.ProgramNames(t, &spec)...)
	assert.Equal(t, "s3Dataset", ids.Add(pulumiproject.Camel("s3"), "Dataset"), "an import")
	assert.Equal(t, "errDataset", ids.Add(pulumiproject.Camel("err"), "Dataset"), "a variable of the program")
	assert.Equal(t, "newTaskFunction", ids.Add(pulumiproject.Camel("new_task"), "Function"), "a function of the program")
}

// TestStatement: main.go lists each statement as the program's statement
// type, with its resources as the program's variables.
func TestStatement(t *testing.T) {
	m, _ := etl(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	assert.Equal(t, "{\nSid: \"ReadInputs\",\nActions: []string{\"s3:GetObject\", },\nObjects: []*dataset{orders, customers},\n}",
		dep.Statement(iamStatement{Sid: "ReadInputs", Actions: []string{"s3:GetObject"}, Objects: []string{"orders", "customers"}}))
	assert.Equal(t, "{\nSid: \"InvokeTasks\",\nActions: []string{\"lambda:InvokeFunction\", },\nFunctions: []*lambda.Function{enrichTask},\nAny: true,\n}",
		dep.Statement(iamStatement{Sid: "InvokeTasks", Actions: []string{"lambda:InvokeFunction"}, Functions: []string{"enrich"}, Any: true}))
}
