package gcsstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
	"github.com/glacier-pipeline/glacier/storage"
)

func Example() {
	// A Cloud Storage-compatible server for the example; in Cloud
	// Functions, NewFromEnv uses the function's service account instead.
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "example"})
	ctx := context.Background()

	drv, err := gcsstore.New(srv.Client(), nil)
	if err != nil {
		log.Fatal(err)
	}
	// Programs reach it through a URL mux, as storage.URLs reaches the
	// driver the package registers on storage.DefaultURLMux.
	mux := new(storage.URLMux)
	mux.RegisterScheme(gcsstore.Scheme, drv)
	out, err := mux.Stage(ctx, "gs://example/greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprint(out, "hello, Cloud Storage")

	// Nothing is visible before Commit.
	_, err = mux.Open(ctx, "gs://example/greeting")
	fmt.Println("before commit, not found:", errors.Is(err, storage.ErrNotFound))

	if err := out.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	in, err := mux.Open(ctx, "gs://example/greeting")
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	b, err := io.ReadAll(in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// before commit, not found: true
	// hello, Cloud Storage
}
