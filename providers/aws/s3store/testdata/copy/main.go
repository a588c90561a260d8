// Command copy is a Lambda bootstrap for the s3store tests: it copies one
// S3 object to another through a driver built from the function's
// environment, as the Glacier runtime does.
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/glacier-pipeline/glacier/providers/aws/s3store"
)

// Request names the object to read and the one to write.
type Request struct {
	In  string `json:"in"`
	Out string `json:"out"`
}

// Response reports what was copied.
type Response struct {
	Bytes int64 `json:"bytes"`
}

func main() {
	drv, err := s3store.NewFromEnv(context.Background(), nil)
	if err != nil {
		panic(err)
	}
	lambda.Start(func(ctx context.Context, req Request) (Response, error) {
		in, err := drv.Open(ctx, req.In)
		if err != nil {
			return Response{}, err
		}
		defer in.Close()
		out, err := drv.Stage(ctx, req.Out)
		if err != nil {
			return Response{}, err
		}
		n, err := io.Copy(out, in)
		if err != nil {
			return Response{}, fmt.Errorf("copy: %w (discard: %v)", err, out.Discard(ctx))
		}
		return Response{Bytes: n}, out.Commit(ctx)
	})
}
