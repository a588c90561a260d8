package store_test

import (
	"path/filepath"
	"testing"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/store/storetest"
)

// TestFiles runs the conformance suite on directories: the store glacier
// run keeps under .glacier/, one of them for dataset "a" apart.
func TestFiles(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Mux: storage.DefaultURLMux(),
		Layout: func(t *testing.T) store.Layout {
			dir := t.TempDir()
			return store.Layout{
				State:    filestore.URL(filepath.Join(dir, "state")),
				Datasets: map[string]string{"a": filestore.URL(filepath.Join(dir, "a"))},
			}
		},
	})
}
