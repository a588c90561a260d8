package pulumiproject_test

import (
	"testing"
	"testing/fstest"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

func TestTemplates(t *testing.T) {
	fsys := fstest.MapFS{
		"t/main.go.tmpl":  {Data: []byte("package main\nvar  x = {{q .}}\nfunc f( ) { {{call .}} }\n")},
		"t/typed.go.tmpl": {Data: []byte("package main\n{{comment \"c\"}}\nvar x = {{q .}}\n")},
		"t/bad.go.tmpl":   {Data: []byte("package main\nfunc {{.}}\n")},
		"t/text.tmpl":     {Data: []byte("name: {{.}}\n")},
	}
	ts := pulumiproject.ParseTemplates(fsys, "t/*.tmpl", template.FuncMap{"call": func(s string) string { return "println(" + s + ")" }})

	got, err := ts.Go("main.go.tmpl", `x`)
	require.NoError(t, err)
	assert.Equal(t, "package main\n\nvar x = \"x\"\n\nfunc f() { println(x) }\n", string(got), "q quotes, funcs are added, the result is gofmt'd")

	type class string
	got, err = ts.Go("typed.go.tmpl", class("STANDARD"))
	require.NoError(t, err)
	assert.Equal(t, "package main\n\n// c\nvar x = \"STANDARD\"\n", string(got), "q quotes any string type; comment is there")

	_, err = ts.Go("bad.go.tmpl", "x")
	assert.ErrorContains(t, err, "bad.go.tmpl renders Go that does not parse")

	got, err = ts.Render("text.tmpl", "etl")
	require.NoError(t, err)
	assert.Equal(t, "name: etl\n", string(got))

	_, err = ts.Render("missing.tmpl", nil)
	assert.ErrorContains(t, err, "rendering missing.tmpl")
}

func TestIdents(t *testing.T) {
	ids := pulumiproject.NewIdents("ctx", "s3")
	tests := []struct{ name, suffix, want string }{
		{"orders_raw", "Dataset", "ordersRaw"},
		{"orders-raw", "Dataset", "ordersRawDataset"},
		{"orders__raw", "Dataset", "ordersRawDataset2"},
		{"s3", "Dataset", "s3Dataset"},   // reserved by the program
		{"ctx", "Dataset", "ctxDataset"}, // reserved by the program
		{"func", "Dataset", "funcDataset"},
		{"string", "Task", "stringTask"},
		{"_lead", "", "lead"},
		{"clean", "", "clean"},
		{"clean", "", "clean2"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ids.Add(pulumiproject.Camel(tt.name), tt.suffix), "%s", tt.name)
	}
}

func TestJoinVars(t *testing.T) {
	vars := map[string]string{"orders_raw": "ordersRaw", "customers": "customers"}
	assert.Equal(t, "ordersRaw, customers", pulumiproject.JoinVars(vars, []string{"orders_raw", "customers"}))
	assert.Equal(t, "", pulumiproject.JoinVars(vars, nil))
}

func TestComment(t *testing.T) {
	assert.Equal(t, "// orders is read by clean.", pulumiproject.Comment("orders  is read\nby clean."))
	long := pulumiproject.Comment("enriched_orders is written by enrich and read by daily_revenue and customer_stats.")
	assert.Equal(t, "// enriched_orders is written by enrich and read by daily_revenue and\n\t// customer_stats.", long,
		"wrapped at 80 columns, a tab counting 8")
}
