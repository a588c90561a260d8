package aws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/glacier-pipeline/glacier/glacier"
)

// packFunc builds one task's artifact: the zip its Lambda function runs.
type packFunc func(ctx context.Context, dep *deployment, t taskDecl, cacheDir string) ([]byte, error)

// artifact is one task's zip, ready to write.
type artifact struct {
	glacier.Artifact
	Zip []byte
}

// artifacts packages every task, checks each zip against Lambda's limits
// and that the module inside is the one built, and reports every oversized
// zip at once.
func (c *Compiler) artifacts(ctx context.Context, dep *deployment, opts Options) ([]artifact, error) {
	var out []artifact
	var probs glacier.Problems
	for _, t := range dep.Tasks {
		zb, err := c.pack(ctx, dep, t, opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("aws: packaging task %q: %w", t.Name, err)
		}
		unzipped, sum, err := inspectZip(zb)
		if err != nil {
			return nil, fmt.Errorf("aws: packaging task %q: %w", t.Name, err)
		}
		if sum != t.Module.SHA256 {
			return nil, fmt.Errorf("aws: packaging task %q: the zip's module has sha256 %s, not the built module's %s",
				t.Name, sum, t.Module.SHA256)
		}
		problem := func(format string, args ...any) {
			probs = append(probs, glacier.Problem{Severity: glacier.Error, Kind: "task", Name: t.Name, Msg: fmt.Sprintf(format, args...)})
		}
		if len(zb) > MaxZipBytes {
			problem("its zip is %s, over the %s Lambda accepts uploaded directly; make the module smaller", mib(int64(len(zb))), mib(MaxZipBytes))
		}
		if unzipped > MaxUnzippedBytes {
			problem("its code is %s unzipped, over Lambda's %s; make the module smaller", mib(unzipped), mib(MaxUnzippedBytes))
		}
		out = append(out, artifact{
			Artifact: glacier.Artifact{Task: t.Name, Path: t.Artifact, Size: int64(len(zb)), ModuleSHA256: sum},
			Zip:      zb,
		})
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("cannot compile pipeline %q for AWS: %w", dep.Pipeline, err)
	}
	return out, nil
}

// inspectZip returns the unzipped size of a task zip and the sha256 of the
// one WebAssembly module in it.
func inspectZip(zb []byte) (unzipped int64, moduleSHA256 string, err error) {
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		return 0, "", fmt.Errorf("not a zip: %w", err)
	}
	for _, f := range zr.File {
		unzipped += int64(f.UncompressedSize64)
		if !strings.HasSuffix(f.Name, ".wasm") {
			continue
		}
		if moduleSHA256 != "" {
			return 0, "", errors.New("the zip holds more than one .wasm file")
		}
		r, err := f.Open()
		if err != nil {
			return 0, "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return 0, "", fmt.Errorf("reading %s: %w", f.Name, err)
		}
		moduleSHA256 = hex.EncodeToString(h.Sum(nil))
	}
	if moduleSHA256 == "" {
		return 0, "", errors.New("the zip holds no .wasm module")
	}
	return unzipped, moduleSHA256, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
