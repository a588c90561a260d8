package gcp

import (
	"context"
	"errors"
)

// entryPoint is the Go function Cloud Functions calls in every bundle.
const entryPoint = "Run"

// packBundle packs a task's source bundle.
func packBundle(ctx context.Context, pipeline string, t taskDecl, cacheDir string) ([]byte, error) {
	return nil, errors.New("the Cloud Functions bundle packer is not available yet")
}
