package projecttest_test

import (
	"fmt"
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
	assert.Equal(t, "t:a/b:C::n", r.Ref())

	rs := []projecttest.Resource{r, {Type: "t:x/y:Z", Name: "m"}, {Type: "t:a/b:C", Name: "o"}}
	assert.Equal(t, []projecttest.Resource{rs[0], rs[2]}, projecttest.Of(rs, "t:a/b:C"))
	assert.Empty(t, projecttest.Of(rs, "t:none"))

	prog := projecttest.Program{Resources: rs}
	assert.Equal(t, projecttest.Of(rs, "t:a/b:C"), prog.Of("t:a/b:C"))
	got, ok := prog.Get("t:a/b:C", "o")
	assert.True(t, ok)
	assert.Equal(t, rs[2], got)
	_, ok = prog.Get("t:x/y:Z", "n")
	assert.False(t, ok, "the name under another type")
}

func TestRequire(t *testing.T) {
	if os.Getenv(projecttest.EnvVar) == "1" && !testing.Short() {
		t.Skip("the gate is open")
	}
	ran := false
	t.Run("gated", func(t *testing.T) {
		projecttest.Require(t)
		ran = true
	})
	assert.False(t, ran, "Require skips without %s=1 or under -short", projecttest.EnvVar)
}

// recordingTB records what a check reports instead of failing the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestCheckRequires(t *testing.T) {
	goMod := []byte("module etl/aws\n\ngo 1.26.6\n\nrequire (\n\tgithub.com/a/sdk v1.2.0\n\tgithub.com/b/sdk/v3 v3.0.1\n)\n\n" +
		"require (\n\tgithub.com/c/dep v0.1.0 // indirect\n)\n")
	tests := []struct {
		name     string
		requires map[string]string
		fails    bool
	}{
		{"agree", map[string]string{"github.com/a/sdk": "v1.2.0", "github.com/b/sdk/v3": "v3.0.1"}, false},
		{"other version", map[string]string{"github.com/a/sdk": "v1.3.0", "github.com/b/sdk/v3": "v3.0.1"}, true},
		{"one missing from go.mod", map[string]string{"github.com/a/sdk": "v1.2.0", "github.com/b/sdk/v3": "v3.0.1", "x/y": "v1.0.0"}, true},
		{"one more in go.mod", map[string]string{"github.com/a/sdk": "v1.2.0"}, true},
		{"indirect is not direct", map[string]string{"github.com/a/sdk": "v1.2.0", "github.com/b/sdk/v3": "v3.0.1", "github.com/c/dep": "v0.1.0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			projecttest.CheckRequires(rec, goMod, tt.requires)
			if tt.fails {
				assert.Len(t, rec.errors, 1)
				assert.Contains(t, rec.errors[0], "-update")
			} else {
				assert.Empty(t, rec.errors)
			}
		})
	}
}
