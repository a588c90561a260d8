//go:build glacier_program

package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// dataset is a dataset's bucket. The dataset's current version is the object
// named after the dataset.
type dataset struct {
	Name    string
	Logical string
	Bucket  *storage.Bucket
}

// URL is where the task runtime finds the dataset.
func (d *dataset) URL() pulumi.StringOutput {
	return pulumi.Sprintf("gs://%s/%s", d.Bucket.Name, d.Name)
}

// datasetArgs configure a dataset's bucket.
type datasetArgs struct {
	Name string
	// StorageClass is the bucket's default class, which every object
	// written to it takes.
	StorageClass string
	Versioning   bool
	// RetentionDays deletes the object this many days after it is written
	// or, with versioning, earlier versions this many days after they were
	// replaced; zero keeps them.
	RetentionDays int
	// Staging deletes what a failed run left staged, a day after it was
	// written, in a deployment that keeps a store.
	Staging bool
	// RetiredDays deletes the versions the store retired (moved under
	// retiredPrefix once no ref named them) this many days after they
	// were retired; zero keeps them.
	RetiredDays int
}

// newDataset declares a dataset's bucket, auto-named from logical, with
// lifecycle rules for retention and staged outputs.
func newDataset(ctx *pulumi.Context, logical string, args datasetArgs) (*dataset, error) {
	rules := storage.BucketLifecycleRuleArray{}
	if args.RetentionDays > 0 {
		condition := &storage.BucketLifecycleRuleConditionArgs{Age: pulumi.Int(args.RetentionDays)}
		if args.Versioning {
			condition = &storage.BucketLifecycleRuleConditionArgs{
				DaysSinceNoncurrentTime: pulumi.Int(args.RetentionDays),
				WithState:               pulumi.String("ARCHIVED"),
			}
		}
		rules = append(rules, &storage.BucketLifecycleRuleArgs{
			Action:    &storage.BucketLifecycleRuleActionArgs{Type: pulumi.String("Delete")},
			Condition: condition,
		})
	}
	if args.Staging {
		rules = append(rules, &storage.BucketLifecycleRuleArgs{
			Action: &storage.BucketLifecycleRuleActionArgs{Type: pulumi.String("Delete")},
			Condition: &storage.BucketLifecycleRuleConditionArgs{
				Age:             pulumi.Int(1),
				MatchesPrefixes: pulumi.StringArray{pulumi.String(stagingPrefix)},
			},
		})
	}
	if args.RetiredDays > 0 {
		rules = append(rules, &storage.BucketLifecycleRuleArgs{
			Action: &storage.BucketLifecycleRuleActionArgs{Type: pulumi.String("Delete")},
			Condition: &storage.BucketLifecycleRuleConditionArgs{
				Age:             pulumi.Int(args.RetiredDays),
				MatchesPrefixes: pulumi.StringArray{pulumi.String(retiredPrefix)},
			},
		})
	}
	return newBucket(ctx, logical, args.Name, args.StorageClass, args.Versioning, rules, labelled("glacier-dataset", args.Name))
}

// stateName is the state bucket's name as a dataset: no dataset may take
// it, since its bucket would share the state's name.
const stateName = "glacier-state"

// newState declares the store's state bucket, auto-named from logical:
// memo entries, refs and run records (docs/store.md in Glacier). Grants
// name it as they name a dataset.
func newState(ctx *pulumi.Context, logical string) (*dataset, error) {
	return newBucket(ctx, logical, stateName, "STANDARD", false, nil, labelled("glacier-state", "true"))
}

// newBucket declares a bucket, auto-named from logical: in the region,
// private (uniform bucket-level access, public access prevented,
// encrypted at rest with Google-managed keys), versioned if asked, with
// the given lifecycle rules.
func newBucket(ctx *pulumi.Context, logical, name, class string, versioning bool, rules storage.BucketLifecycleRuleArray,
	labels pulumi.StringMap) (*dataset, error) {
	bucket, err := storage.NewBucket(ctx, logical, &storage.BucketArgs{
		Location:                 pulumi.String(strings.ToUpper(region)),
		StorageClass:             pulumi.String(class),
		UniformBucketLevelAccess: pulumi.Bool(true),
		PublicAccessPrevention:   pulumi.String("enforced"),
		Versioning:               &storage.BucketVersioningArgs{Enabled: pulumi.Bool(versioning)},
		LifecycleRules:           rules,
		Labels:                   labels,
	})
	if err != nil {
		return nil, err
	}
	return &dataset{Name: name, Logical: logical, Bucket: bucket}, nil
}

// uploadSource uploads a source dataset's file as the dataset's object.
func uploadSource(ctx *pulumi.Context, d *dataset, file string) error {
	_, err := storage.NewBucketObject(ctx, d.Logical, &storage.BucketObjectArgs{
		Bucket: d.Bucket.Name,
		Name:   pulumi.String(d.Name),
		Source: pulumi.NewFileAsset(file),
	})
	return err
}

// recordSource puts a source dataset's file into the store: as the version
// named object in its bucket, and then, in the state bucket, the record
// (the file record) naming it as the source's current version, at
// recordKey. Changing the file uploads a new version and a new record.
// The version goes up after the resources in after: a part list's parts.
func recordSource(ctx *pulumi.Context, d, state *dataset, file, object, record, recordKey string, after ...pulumi.Resource) error {
	// The version's resource is named after the dataset, not the digest,
	// so a new version replaces the old resource; deleting an old version
	// is the lifecycle's business, so Pulumi leaves it.
	version, err := storage.NewBucketObject(ctx, d.Logical+"-version", &storage.BucketObjectArgs{
		Bucket: d.Bucket.Name,
		Name:   pulumi.String(object),
		Source: pulumi.NewFileAsset(file),
	}, pulumi.RetainOnDelete(true), pulumi.DependsOn(after))
	if err != nil {
		return err
	}
	// The record goes up after its version, so it never names a missing one.
	_, err = storage.NewBucketObject(ctx, d.Logical+"-record", &storage.BucketObjectArgs{
		Bucket:      state.Bucket.Name,
		Name:        pulumi.String(recordKey),
		Source:      pulumi.NewFileAsset(record),
		ContentType: pulumi.String("application/json"),
	}, pulumi.DependsOn([]pulumi.Resource{version}))
	return err
}

// recordLayout writes, in the state bucket at key, where each dataset's
// versions live ({"pipeline": ..., "datasets": {name: "gs://<bucket>"}}),
// so that glacier --remote, given the state's URL, finds them all, and
// the digest of each task's deployed module, which glacier run --push
// checks its own against.
func recordLayout(ctx *pulumi.Context, state *dataset, key, pipeline string, datasets []*dataset, modules map[string]string) error {
	roots := pulumi.StringMap{}
	for _, d := range datasets {
		roots[d.Name] = pulumi.Sprintf("gs://%s", d.Bucket.Name)
	}
	_, err := storage.NewBucketObject(ctx, "layout", &storage.BucketObjectArgs{
		Bucket: state.Bucket.Name,
		Name:   pulumi.String(key),
		Content: pulumi.JSONMarshal(pulumi.Map{"pipeline": pulumi.String(pipeline), "datasets": roots,
			"modules": pulumi.ToStringMap(modules)}),
		ContentType: pulumi.String("application/json"),
	})
	return err
}

// partEntry is the part of an entry of a part list that uploading needs:
// the part's key and the object, relative to the list's folder, the
// bucket's root, that holds it.
type partEntry struct {
	Key    string `json:"key"`
	Object string `json:"object"`
}

// uploadParts uploads a partitioned source: each part of the list in
// listFile, from dir/<key>, as the object the list names for it (its
// version in the store, named by its digest), and then the list as the
// dataset's stable name, so that the list never names a part not yet
// uploaded. It returns the parts, which the source's record must follow.
// A part's resource is named after a digest of its object, which may hold
// any character a resource name should not, and is uploaded once however
// many keys share its bytes; a replaced one is retained, as memo entries
// may name it.
func uploadParts(ctx *pulumi.Context, d *dataset, listFile, dir string) ([]pulumi.Resource, error) {
	data, err := os.ReadFile(listFile)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w; compile the pipeline again", d.Name, err)
	}
	var entries []partEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("dataset %s: %s is not a part list: %w; compile the pipeline again", d.Name, listFile, err)
	}
	var parts []pulumi.Resource
	uploaded := map[string]bool{}
	for _, e := range entries {
		if !fs.ValidPath(e.Key) || !fs.ValidPath(e.Object) {
			return nil, fmt.Errorf("dataset %s: %s names part %q at %q, which is not a clean relative name; compile the pipeline again",
				d.Name, listFile, e.Key, e.Object)
		}
		if uploaded[e.Object] {
			continue
		}
		uploaded[e.Object] = true
		sum := sha256.Sum256([]byte(e.Object))
		part, err := storage.NewBucketObject(ctx, fmt.Sprintf("%s-part-%x", d.Logical, sum[:8]), &storage.BucketObjectArgs{
			Bucket: d.Bucket.Name,
			Name:   pulumi.String(e.Object),
			Source: pulumi.NewFileAsset(filepath.Join(dir, filepath.FromSlash(e.Key))),
		}, pulumi.RetainOnDelete(true))
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	_, err = storage.NewBucketObject(ctx, d.Logical, &storage.BucketObjectArgs{
		Bucket: d.Bucket.Name,
		Name:   pulumi.String(d.Name),
		Source: pulumi.NewFileAsset(listFile),
	}, pulumi.DependsOn(parts))
	return parts, err
}

// labelled returns labels plus one naming the dataset or task a resource
// belongs to.
func labelled(key, value string) pulumi.StringMap {
	out := pulumi.StringMap{key: pulumi.String(value)}
	for k, v := range labels {
		out[k] = pulumi.String(v)
	}
	return out
}
