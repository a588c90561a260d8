// Command bootstrap is the AWS Lambda custom runtime (provided.al2023) of
// every Glacier task: one generic program that runs the task module shipped
// beside it in the wasmrt sandbox, with its datasets in S3. The lambdazip
// package builds it and packages it with each task.
//
// At cold start it reads the task's spec and module from its directory
// (LAMBDA_TASK_ROOT) and the dataset URLs from GLACIER_DATASETS, and starts
// the sandbox; each invocation then runs the task once. A payload of
// {"run_id": "..."} names the pipeline run (optional); the response is the
// fnspec.Response as JSON. A failed task returns a handler error whose
// errorType is "Glacier." followed by an fnspec Kind (Glacier.TaskFailed,
// Glacier.Timeout, Glacier.Storage, ...; fnspec.Kind.ErrorType) and whose
// errorMessage says what happened; it commits nothing. The state machine
// never retries Glacier.StorageDenied (fnspec.PermanentKinds). A deployment error found at cold start
// (a missing dataset URL, a corrupt artifact) fails every invocation with
// errorType Glacier.Init.
//
// S3 is reached with the function's credentials through s3store; setting
// AWS_ENDPOINT_URL_S3 points it at an S3-compatible server, addressed
// path-style. The task itself sees none of the environment.
//
// Build it with lambdazip.BuildBootstrap, or by hand:
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid=' -o bootstrap .
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	// Registers the s3 scheme on storage.DefaultURLMux.
	_ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

func main() {
	// The sandbox worker, a copy of this program, reads and writes the
	// datasets through the s3 scheme s3store registered when it was
	// imported (configured from the environment on first use).
	fnrt.ServeIfRequested()

	dir := os.Getenv("LAMBDA_TASK_ROOT")
	if dir == "" {
		if exe, err := os.Executable(); err == nil {
			dir = filepath.Dir(exe)
		}
	}
	mem, _ := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	h, err := fnrt.New(context.Background(), fnrt.Options{Dir: dir, PlatformMemoryMiB: mem, LogsURL: logsURL(os.Getenv)})
	if err != nil {
		fmt.Fprintf(os.Stderr, "glacier: cold start failed: %v\n", err)
		lambda.Start(failing{messages.InvokeResponse_Error{Message: "cold start failed: " + err.Error(), Type: fnspec.KindInit.ErrorType()}})
		return
	}
	lambda.Start(handler{h})
}

// handler serves invocations. It takes the payload as bytes, so an empty
// one (a plain invoke) means an empty Request.
type handler struct{ h *fnrt.Handler }

func (s handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req fnspec.Request
	if p := bytes.TrimSpace(payload); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		if err := json.Unmarshal(p, &req); err != nil {
			return nil, messages.InvokeResponse_Error{
				Message: fmt.Sprintf(`the payload is not a JSON object such as {"run_id": "..."}: %v`, err),
				Type:    fnspec.KindBadRequest.ErrorType(),
			}
		}
	}
	resp, err := s.h.Invoke(ctx, req)
	if err != nil {
		kind := fnspec.KindError
		var fe *fnrt.Error
		if errors.As(err, &fe) {
			kind = fe.Kind
		}
		return nil, messages.InvokeResponse_Error{Message: err.Error(), Type: kind.ErrorType()}
	}
	return json.Marshal(resp)
}

// failing fails every invocation with the error found at cold start.
type failing struct{ err messages.InvokeResponse_Error }

func (f failing) Invoke(context.Context, []byte) ([]byte, error) { return nil, f.err }

// logsURL returns the link to the CloudWatch console's view of this
// function instance's log stream between two times, from the variables
// Lambda sets; nil if one is missing.
func logsURL(getenv func(string) string) func(start, end time.Time) string {
	region, group, stream := getenv("AWS_REGION"), getenv("AWS_LAMBDA_LOG_GROUP_NAME"), getenv("AWS_LAMBDA_LOG_STREAM_NAME")
	if region == "" || group == "" || stream == "" {
		return nil
	}
	// The console's fragment escapes as a URL component with "$" for "%",
	// and the names in it twice.
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%", "$") }
	return func(start, end time.Time) string {
		return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logsV2:log-groups/log-group/%s/log-events/%s%s",
			region, region, esc(url.QueryEscape(group)), esc(url.QueryEscape(stream)),
			esc(fmt.Sprintf("?start=%d&end=%d", start.UnixMilli(), end.Add(time.Second).UnixMilli())))
	}
}
