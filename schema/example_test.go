package schema_test

import (
	"fmt"
	"strings"

	"github.com/glacier-pipeline/glacier/schema"
)

func ExampleContract_NewValidator() {
	c, err := schema.Compile(&schema.Schema{Format: schema.CSV, Columns: []schema.Column{
		{Name: "order_id", Type: schema.Integer},
		{Name: "amount", Type: schema.Number, Nullable: true},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := c.NewValidator("orders")
	// Bytes arrive in pieces of any size, as a task writes them.
	for _, piece := range []string{"order_id,amount\n1,12.5\n2,", "\n3,12x\n"} {
		if _, err := v.Write([]byte(piece)); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(v.Close())
	// Output:
	// dataset "orders": line 4 (record 3), column 2 "amount": "12x" is not a number (like 12, -0.5 or 1e9) (header order_id,amount)
}

func ExampleCompile() {
	_, err := schema.Compile(&schema.Schema{Format: schema.JSONL, JSONSchema: []byte(`{"type": "object", "required": "id"}`)})
	fmt.Println(strings.ReplaceAll(err.Error(), "'", `"`))
	// Output:
	// schema /json_schema/required: json_schema is not a valid JSON Schema (draft 2020-12): at /required: got string, want array
}
