// Command echo is a Lambda custom-runtime bootstrap for the lambdarie tests:
// it echoes its input, reports chosen environment variables, fails or sleeps
// on request.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Request is what a test sends.
type Request struct {
	Echo    string   `json:"echo"`
	Env     []string `json:"env,omitempty"`      // variables to report
	Fail    string   `json:"fail,omitempty"`     // return this error
	SleepMS int      `json:"sleep_ms,omitempty"` // sleep this long first
	Print   string   `json:"print,omitempty"`    // write this line to stdout
}

// Response is what the function returns.
type Response struct {
	Echo       string            `json:"echo"`
	Env        map[string]string `json:"env,omitempty"`
	RequestID  string            `json:"request_id"`
	DeadlineMS int64             `json:"deadline_ms"` // time left when called
	PID        int               `json:"pid"`
	Cwd        string            `json:"cwd"`
}

var started = time.Now()

func handle(ctx context.Context, req Request) (Response, error) {
	if req.Print != "" {
		fmt.Println(req.Print)
	}
	if req.SleepMS > 0 {
		// Ignore ctx, as a runaway task would.
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	}
	if req.Fail != "" {
		return Response{}, errors.New(req.Fail)
	}
	resp := Response{Echo: req.Echo, PID: os.Getpid()}
	resp.Cwd, _ = os.Getwd()
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		resp.RequestID = lc.AwsRequestID
	}
	if d, ok := ctx.Deadline(); ok {
		resp.DeadlineMS = time.Until(d).Milliseconds()
	}
	if len(req.Env) > 0 {
		resp.Env = map[string]string{}
		for _, k := range req.Env {
			if v, ok := os.LookupEnv(k); ok {
				resp.Env[k] = v
			}
		}
	}
	return resp, nil
}

func main() {
	fmt.Fprintf(os.Stderr, "echo bootstrap started in %v\n", time.Since(started))
	lambda.Start(handle)
}
