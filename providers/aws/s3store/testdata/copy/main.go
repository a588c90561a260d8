// Command copy is a Lambda bootstrap for the s3store tests: it copies one
// S3 object to another through storage.URLs and the "s3" scheme the
// s3store package registers, configured from the function's environment as
// in the Glacier runtime.
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/lambda"

	_ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/storage"
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

func handle(ctx context.Context, req Request) (Response, error) {
	st := storage.URLs{"in": req.In, "out": req.Out}
	in, err := st.Open(ctx, "in")
	if err != nil {
		return Response{}, err
	}
	defer in.Close()
	out, err := st.Stage(ctx, "out")
	if err != nil {
		return Response{}, err
	}
	n, err := io.Copy(out, in)
	if err != nil {
		return Response{}, fmt.Errorf("copy: %w (discard: %v)", err, out.Discard(ctx))
	}
	return Response{Bytes: n}, out.Commit(ctx)
}

func main() { lambda.Start(handle) }
