// Command gendata writes the sample data of the etl example:
// data/customers.csv and data/orders.csv, a month of orders from an online
// shop, with the flaws real exports have (malformed rows, orders in other
// currencies, customers listed twice or missing). The output depends only on
// a fixed seed, so running it again rewrites the same bytes.
//
// From the repository root:
//
//	go run ./examples/etl/internal/gendata
//
// then rewrite the tasks' golden outputs as package
// examples/etl/internal/golden describes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", filepath.Join("examples", "etl", "data"), "the directory to write customers.csv and orders.csv into")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

// write generates both files into dir, which must exist.
func write(dir string) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory; run from the repository root or pass -dir examples/etl/data", dir)
	}
	customers, orders := generate()
	for name, data := range map[string][]byte{"customers.csv": customers, "orders.csv": orders} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generate returns the contents of customers.csv and orders.csv.
func generate() (customers, orders []byte) {
	rng := newRand(20240501)
	cs := makeCustomers(rng)
	var cb, ob bytes.Buffer
	writeCustomers(&cb, rng, cs)
	writeOrders(&ob, rng, cs)
	return cb.Bytes(), ob.Bytes()
}

// rand is a small splitmix64 generator. The example's data must not change
// when the standard library's generators do, so it has its own.
type rand struct{ state uint64 }

func newRand(seed uint64) *rand { return &rand{state: seed} }

func (r *rand) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the tiny modulo bias does not matter here.
func (r *rand) intn(n int) int { return int(r.uint64() % uint64(n)) }

// pick returns one of xs.
func pick[T any](r *rand, xs []T) T { return xs[r.intn(len(xs))] }
