package projecttest_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject/projecttest"
)

func TestResource(t *testing.T) {
	r := projecttest.Resource{Type: "t:a/b:C", Name: "n", Inputs: map[string]any{
		"name":          "fn",
		"serviceConfig": map[string]any{"availableMemory": "256Mi", "timeoutSeconds": 60.0},
	}}
	assert.Equal(t, "fn", r.String("name"))
	assert.Equal(t, "256Mi", r.String("serviceConfig", "availableMemory"))
	assert.Equal(t, "", r.String("serviceConfig", "timeoutSeconds"), "not a string")
	assert.Equal(t, "", r.String("name", "deeper"), "not an object")
	v, ok := r.Get("serviceConfig", "timeoutSeconds")
	assert.True(t, ok)
	assert.Equal(t, 60.0, v)
	_, ok = r.Get("labels")
	assert.False(t, ok)

	rs := []projecttest.Resource{r, {Type: "t:x/y:Z", Name: "m"}, {Type: "t:a/b:C", Name: "o"}}
	assert.Equal(t, []projecttest.Resource{rs[0], rs[2]}, projecttest.Of(rs, "t:a/b:C"))
	assert.Empty(t, projecttest.Of(rs, "t:none"))
}

func TestRequire(t *testing.T) {
	if os.Getenv(projecttest.EnvVar) == "1" {
		t.Skip("the gate is open")
	}
	ran := false
	t.Run("gated", func(t *testing.T) {
		projecttest.Require(t)
		ran = true
	})
	assert.False(t, ran, "Require skips without %s=1", projecttest.EnvVar)
}
