package aws

import (
	"context"
	"fmt"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
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
	report := plan.Reporter(&probs)
	for _, t := range dep.Tasks {
		zb, err := c.pack(ctx, dep, t, opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("aws: packaging task %q: %w", t.Name, err)
		}
		packed, err := t.Inspect("zip", zb)
		if err != nil {
			return nil, fmt.Errorf("aws: packaging task %q: %w", t.Name, err)
		}
		problem := report(glacier.Error, "task", t.Name)
		if len(zb) > MaxZipBytes {
			problem("its zip is %s, over the %s Lambda accepts uploaded directly; make the module smaller",
				plan.MiB(int64(len(zb))), plan.MiB(MaxZipBytes))
		}
		if packed.Unzipped > MaxUnzippedBytes {
			problem("its code is %s unzipped, over Lambda's %s; make the module smaller", plan.MiB(packed.Unzipped), plan.MiB(MaxUnzippedBytes))
		}
		out = append(out, artifact{
			Artifact: glacier.Artifact{Task: t.Name, Path: t.Artifact, Size: int64(len(zb)), ModuleSHA256: packed.ModuleSHA256},
			Zip:      zb,
		})
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("cannot compile pipeline %q for AWS: %w", dep.Pipeline, err)
	}
	return out, nil
}
