package gcp

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/glacier-pipeline/glacier/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// packFunc makes one task's source bundle: the zip Cloud Functions builds
// the task's function from.
type packFunc func(ctx context.Context, pipeline string, t taskDecl, cacheDir string) ([]byte, error)

// bundle is one task's packed source bundle, ready to write.
type bundle struct {
	glacier.Artifact
	Zip []byte
	// GoVersion is the go line of the bundle's go.mod.
	GoVersion string
}

// MaxBundleBytes bounds a source bundle: Cloud Functions deploys sources
// of at most 100 MiB compressed from Cloud Storage.
const MaxBundleBytes = 100 << 20

// bundles packs every task and checks each bundle: its module must be the
// one built, byte for byte, and Cloud Functions must be able to build it.
// It fills in each task's bundle object, runtime and entry point, and
// reports every problem at once.
func (c *Compiler) bundles(ctx context.Context, dep *deployment, cacheDir string) ([]bundle, error) {
	var out []bundle
	var probs glacier.Problems
	for i := range dep.Tasks {
		t := &dep.Tasks[i]
		zb, err := c.pack(ctx, dep.Pipeline, *t, cacheDir)
		if err != nil {
			return nil, fmt.Errorf("gcp: packaging task %q: %w", t.Name, err)
		}
		b, err := inspectBundle(zb)
		if err != nil {
			return nil, fmt.Errorf("gcp: packaging task %q: %w", t.Name, err)
		}
		if b.ModuleSHA256 != t.Module.SHA256 {
			return nil, fmt.Errorf("gcp: packaging task %q: the bundle's module has sha256 %s, not the built module's %s",
				t.Name, b.ModuleSHA256, t.Module.SHA256)
		}
		problem := func(format string, args ...any) {
			probs = append(probs, glacier.Problem{Severity: glacier.Error, Kind: "task", Name: t.Name, Msg: fmt.Sprintf(format, args...)})
		}
		if len(zb) > MaxBundleBytes {
			problem("its source bundle is %s, over the %s Cloud Functions deploys; make the module smaller",
				mib(int64(len(zb))), mib(MaxBundleBytes))
		}
		rt, err := runtimeFor(b.GoVersion, dep.Runtime)
		if err != nil {
			problem("%v", err)
		}
		sum := sha256.Sum256(zb)
		t.BundleObject = fmt.Sprintf("%s-%s.zip", t.Name, hex.EncodeToString(sum[:])[:16])
		t.Runtime = rt
		t.EntryPoint = entryPoint
		b.Task, b.Path, b.Size = t.Name, t.Bundle, int64(len(zb))
		out = append(out, b)
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("cannot compile pipeline %q for GCP: %w", dep.Pipeline, err)
	}
	return out, nil
}

// inspectBundle reads what the compiler needs from a bundle: the sha256 of
// the one WebAssembly module in it and the go line of its go.mod, which
// must be at the root, where Cloud Functions looks for it.
func inspectBundle(zb []byte) (bundle, error) {
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		return bundle{}, fmt.Errorf("the bundle is not a zip: %w", err)
	}
	b := bundle{Zip: zb}
	for _, f := range zr.File {
		switch {
		case f.Name == "go.mod":
			data, err := readZipped(f, 1<<20)
			if err != nil {
				return bundle{}, err
			}
			if b.GoVersion, err = pulumiproject.GoDirective(data); err != nil {
				return bundle{}, fmt.Errorf("the bundle's %w", err)
			}
		case strings.HasSuffix(f.Name, ".wasm"):
			if b.ModuleSHA256 != "" {
				return bundle{}, errors.New("the bundle holds more than one .wasm file")
			}
			r, err := f.Open()
			if err != nil {
				return bundle{}, err
			}
			h := sha256.New()
			_, err = io.Copy(h, r)
			r.Close()
			if err != nil {
				return bundle{}, fmt.Errorf("reading %s: %w", f.Name, err)
			}
			b.ModuleSHA256 = hex.EncodeToString(h.Sum(nil))
		}
	}
	switch {
	case b.ModuleSHA256 == "":
		return bundle{}, errors.New("the bundle holds no .wasm module")
	case b.GoVersion == "":
		return bundle{}, errors.New("the bundle has no go.mod at its root, which Cloud Functions needs to build it")
	}
	return b, nil
}

func readZipped(f *zip.File, limit int64) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path.Clean(f.Name), err)
	}
	return data, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
