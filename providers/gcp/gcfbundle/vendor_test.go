package gcfbundle

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
)

func TestParseModulesTxt(t *testing.T) {
	txt := []byte(`# example.com/a v1.0.0
## explicit; go 1.21
example.com/a
example.com/a/sub
# example.com/b v0.2.0
## explicit
# example.com/c v1.1.0 => ./local
## explicit; go 1.26.0
example.com/c/pkg
# example.com/c => ./local
`)
	assert.Equal(t, map[string]modInfo{
		"example.com/a": {version: "v1.0.0", packages: true},
		"example.com/b": {version: "v0.2.0"},
		"example.com/c": {version: "v1.1.0", packages: true},
	}, parseModulesTxt(txt))
}

func TestFilterSum(t *testing.T) {
	sum := []byte(`example.com/a v1.0.0 h1:aaa=
example.com/a v1.0.0/go.mod h1:amod=
example.com/a v0.9.0/go.mod h1:old=
example.com/b v0.2.0/go.mod h1:bmod=
example.com/z v1.0.0 h1:zzz=
`)
	got := filterSum(sum, map[string]modInfo{"example.com/a": {version: "v1.0.0"}, "example.com/b": {version: "v0.2.0"}})
	assert.Equal(t, `example.com/a v1.0.0 h1:aaa=
example.com/a v1.0.0/go.mod h1:amod=
example.com/b v0.2.0/go.mod h1:bmod=
`, string(got))
}

func TestGoMod(t *testing.T) {
	got := goMod("1.26.0", map[string]string{
		frameworkModule:                    "v1.9.2",
		"example.com/z":                    "v1.0.0",
		"example.com/a":                    "v0.1.0",
		"github.com/x/unused":              "v2.0.0",
		artifact.ModulePath:                "v0.0.0",
		artifact.ModulePath + "/abi":       "v0.0.0",
		artifact.ModulePath + "/sdk-guest": "v0.0.0",
	}, "./vendor/github.com/glacier-pipeline/glacier")
	assert.Equal(t, `module glacier.local/function

go 1.26.0

require (
	github.com/GoogleCloudPlatform/functions-framework-go v1.9.2
	github.com/glacier-pipeline/glacier v0.0.0
	github.com/glacier-pipeline/glacier/abi v0.0.0
	github.com/glacier-pipeline/glacier/sdk-guest v0.0.0
)

require (
	example.com/a v0.1.0 // indirect
	example.com/z v1.0.0 // indirect
	github.com/x/unused v2.0.0 // indirect
)

// The Glacier modules are not published: the function is built from
// their packages in vendor/.
replace github.com/glacier-pipeline/glacier => ./vendor/github.com/glacier-pipeline/glacier

replace github.com/glacier-pipeline/glacier/abi => ./vendor/github.com/glacier-pipeline/glacier/abi

replace github.com/glacier-pipeline/glacier/sdk-guest => ./vendor/github.com/glacier-pipeline/glacier/sdk-guest
`, string(got))
}

// TestVendorDeterministic vendors twice, bypassing the per-process memo,
// and checks the files are the same bytes.
func TestVendorDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: vendors the function's dependencies twice; run without -short")
	}
	src, err := artifact.SourceDir(t.Context())
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	digest := func() ([32]byte, int) {
		tree, err := vendor(t.Context(), src)
		require.NoError(t, err)
		var b bytes.Buffer
		for _, f := range tree.files {
			b.WriteString(f.Name + "\x00" + f.Mode.String() + "\x00")
			b.Write(f.Data)
		}
		return sha256.Sum256(b.Bytes()), len(tree.files)
	}
	a, n := digest()
	b, _ := digest()
	assert.Equal(t, a, b, "vendoring twice gave different files")
	t.Logf("%d shared files", n)
}
