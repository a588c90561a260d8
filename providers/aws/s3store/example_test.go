package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/storage"
)

func Example() {
	// An S3-compatible server for the example; in Lambda, NewFromEnv
	// configures the client from the function's environment instead.
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("id", "secret", ""),
	})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("example")}); err != nil {
		log.Fatal(err)
	}

	drv, err := s3store.New(client, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Programs reach it through a URL mux, as storage.URLs reaches the
	// driver the package registers on storage.DefaultURLMux.
	mux := new(storage.URLMux)
	mux.RegisterScheme(s3store.Scheme, drv)
	out, err := mux.Stage(ctx, "s3://example/greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprint(out, "hello, S3")

	// Nothing is visible before Commit.
	_, err = mux.Open(ctx, "s3://example/greeting")
	fmt.Println("before commit, not found:", errors.Is(err, storage.ErrNotFound))

	if err := out.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	in, err := mux.Open(ctx, "s3://example/greeting")
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
	// hello, S3
}
