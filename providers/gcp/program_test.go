package gcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestGrant: main.go lists each grant as the program's grant type.
func TestGrant(t *testing.T) {
	m := etl(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	if !assert.NoError(t, probs.Err()) {
		return
	}
	assert.Equal(t, `{What: "reads", Dataset: ordersRaw, Role: "roles/storage.objectViewer"}`,
		dep.Grant(grant{What: "reads", Dataset: "orders_raw", Role: roleObjectViewer}))
	assert.Equal(t, `{What: "replaces", Dataset: orders, Role: "glacier_etl_objectReplacer", Keys: []string{"staging/*/t/orders", "orders"}}`,
		dep.Grant(grant{What: "replaces", Dataset: "orders", Role: dep.WriterRole, Keys: []string{"staging/*/t/orders", "orders"}}))
	assert.Equal(t, `{What: "reads", Dataset: state, Role: "roles/storage.objectViewer", Keys: []string{"memo/t/*"}}`,
		dep.Grant(grant{What: "reads", Dataset: "glacier-state", Role: roleObjectViewer, Keys: []string{"memo/t/*"}}))
}
