package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed CSVs are what the generator writes, so editing one by hand,
// or changing the generator without running it, fails here.
func TestCommittedDataIsCurrent(t *testing.T) {
	customers, orders := generate()
	for name, want := range map[string][]byte{"customers.csv": customers, "orders.csv": orders} {
		got, err := os.ReadFile(filepath.Join("..", "..", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("data/%s differs from what gendata writes; run go run ./examples/etl/internal/gendata from the repository root", name)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	c1, o1 := generate()
	c2, o2 := generate()
	if !bytes.Equal(c1, c2) || !bytes.Equal(o1, o2) {
		t.Error("two runs of generate differ")
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	customers, orders := generate()
	for name, want := range map[string][]byte{"customers.csv": customers, "orders.csv": orders} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from generate's output", name)
		}
	}
	err := write(filepath.Join(dir, "missing"))
	if want := filepath.Join(dir, "missing") + " is not a directory; run from the repository root or pass -dir examples/etl/data"; err == nil || err.Error() != want {
		t.Errorf("write to a missing directory: error %v, want %q", err, want)
	}
}
