//go:build glacier_program

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// dataset is a dataset's bucket. The dataset's current version is the object
// whose key is the dataset's name.
type dataset struct {
	Name    string
	Logical string
	Bucket  *s3.BucketV2
}

// ObjectARN is the ARN of the dataset's object.
func (d *dataset) ObjectARN() pulumi.StringOutput {
	return pulumi.Sprintf("%s/%s", d.Bucket.Arn, d.Name)
}

// URL is where the task runtime finds the dataset.
func (d *dataset) URL() pulumi.StringOutput {
	return pulumi.Sprintf("s3://%s/%s", d.Bucket.Bucket, d.Name)
}

// datasetArgs configure a dataset's bucket.
type datasetArgs struct {
	Name       string
	Versioning bool
	// RetentionDays expires the object (with versioning, its earlier
	// versions) after this many days; zero keeps them.
	RetentionDays int
	// TransitionTo moves objects to this storage class TransitionDays days
	// after they are written; empty leaves them STANDARD.
	TransitionTo   string
	TransitionDays int
	// Staging expires what a failed run left staged, a day after it was
	// written, in a deployment that keeps a store.
	Staging bool
	// RetiredDays expires the versions the store retired (moved under
	// retiredPrefix once no ref named them) this many days after they
	// were retired; zero keeps them.
	RetiredDays int
	// MapResults is the prefix where a map task's Distributed Map writes
	// its results; they expire after MapResultsDays.
	MapResults     string
	MapResultsDays int
}

// newDataset declares a dataset's bucket, auto-named from logical, with
// lifecycle rules for retention, storage class and abandoned uploads.
func newDataset(ctx *pulumi.Context, logical string, args datasetArgs) (*dataset, error) {
	bucket, err := newBucket(ctx, logical, tagged("glacier:dataset", args.Name), args.Versioning, lifecycleRules(args))
	if err != nil {
		return nil, err
	}
	return &dataset{Name: args.Name, Logical: logical, Bucket: bucket}, nil
}

// newState declares the store's state bucket, auto-named from logical:
// memo entries, refs and run records (docs/store.md in Glacier).
func newState(ctx *pulumi.Context, logical string) (*s3.BucketV2, error) {
	return newBucket(ctx, logical, tagged("glacier:state", "true"), false, lifecycleRules(datasetArgs{}))
}

// newBucket declares a bucket, auto-named from logical: private, refusing
// plain HTTP, encrypted at rest with S3-managed keys, versioned if asked,
// with the given lifecycle rules.
func newBucket(ctx *pulumi.Context, logical string, tags pulumi.StringMap, versioning bool,
	rules s3.BucketLifecycleConfigurationV2RuleArray) (*s3.BucketV2, error) {
	bucket, err := s3.NewBucketV2(ctx, logical, &s3.BucketV2Args{Tags: tags})
	if err != nil {
		return nil, err
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, logical, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	// Plain HTTP is refused, whoever asks.
	if _, err := s3.NewBucketPolicy(ctx, logical, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: pulumi.JSONMarshal(pulumi.Map{
			"Version": pulumi.String("2012-10-17"),
			"Statement": pulumi.Array{pulumi.Map{
				"Sid":       pulumi.String("DenyInsecureTransport"),
				"Effect":    pulumi.String("Deny"),
				"Principal": pulumi.String("*"),
				"Action":    pulumi.String("s3:*"),
				"Resource":  pulumi.StringArray{bucket.Arn, pulumi.Sprintf("%s/*", bucket.Arn)},
				"Condition": pulumi.Map{"Bool": pulumi.Map{"aws:SecureTransport": pulumi.String("false")}},
			}},
		}),
	}, pulumi.DependsOn([]pulumi.Resource{pab})); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, logical, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"),
				},
			},
		},
	}); err != nil {
		return nil, err
	}
	if versioning {
		if _, err := s3.NewBucketVersioningV2(ctx, logical, &s3.BucketVersioningV2Args{
			Bucket: bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{
				Status: pulumi.String("Enabled"),
			},
		}); err != nil {
			return nil, err
		}
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, logical, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  rules,
	}); err != nil {
		return nil, err
	}
	return bucket, nil
}

// lifecycleRules are a dataset's bucket's lifecycle rules. A task whose
// output is larger than one part uploads it in parts; if the task fails,
// its role may not abort the upload, so S3 removes the parts a day later.
func lifecycleRules(args datasetArgs) s3.BucketLifecycleConfigurationV2RuleArray {
	rule := func(id string) *s3.BucketLifecycleConfigurationV2RuleArgs {
		return &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String(id),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
		}
	}
	abort := rule("abort-incomplete-multipart-uploads")
	abort.AbortIncompleteMultipartUpload = &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
		DaysAfterInitiation: pulumi.Int(1),
	}
	rules := s3.BucketLifecycleConfigurationV2RuleArray{abort}
	if args.Staging {
		r := rule("expire-staged-outputs")
		r.Filter = &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(stagingPrefix)}
		r.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(1)}
		rules = append(rules, r)
	}
	if args.RetiredDays > 0 {
		r := rule("expire-retired-versions")
		r.Filter = &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(retiredPrefix)}
		r.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.RetiredDays)}
		rules = append(rules, r)
	}
	if args.MapResults != "" && args.MapResultsDays > 0 {
		r := rule("expire-map-results")
		r.Filter = &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(args.MapResults)}
		r.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.MapResultsDays)}
		rules = append(rules, r)
	}
	if args.RetentionDays > 0 && args.Versioning {
		r := rule("expire-earlier-versions")
		r.NoncurrentVersionExpiration = &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(args.RetentionDays),
		}
		rules = append(rules, r)
	}
	if args.RetentionDays > 0 && !args.Versioning {
		r := rule("expire")
		r.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.RetentionDays)}
		rules = append(rules, r)
	}
	if args.TransitionTo != "" {
		r := rule("storage-class")
		r.Transitions = s3.BucketLifecycleConfigurationV2RuleTransitionArray{
			&s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
				Days:         pulumi.Int(args.TransitionDays),
				StorageClass: pulumi.String(args.TransitionTo),
			},
		}
		rules = append(rules, r)
	}
	return rules
}

// uploadSource uploads a source dataset's file as the dataset's object, in
// storageClass (empty means STANDARD).
func uploadSource(ctx *pulumi.Context, d *dataset, file, storageClass string) error {
	args := &s3.BucketObjectv2Args{
		Bucket: d.Bucket.ID(),
		Key:    pulumi.String(d.Name),
		Source: pulumi.NewFileAsset(file),
	}
	if storageClass != "" {
		args.StorageClass = pulumi.String(storageClass)
	}
	_, err := s3.NewBucketObjectv2(ctx, d.Logical, args)
	return err
}

// recordSource puts a source dataset's file into the store: as the version
// named object in its bucket, and then, in the state bucket, the record
// (the file record) naming it as the source's current version, at
// recordKey. Changing the file uploads a new version and a new record;
// the functions find it through the record. The version goes up after
// the resources in after: a part list's parts.
func recordSource(ctx *pulumi.Context, d *dataset, state *s3.BucketV2, file, object, record, recordKey, storageClass string, after ...pulumi.Resource) error {
	args := &s3.BucketObjectv2Args{
		Bucket: d.Bucket.ID(),
		Key:    pulumi.String(object),
		Source: pulumi.NewFileAsset(file),
	}
	if storageClass != "" {
		args.StorageClass = pulumi.String(storageClass)
	}
	// The version's resource is named after the dataset, not the digest,
	// so a new version replaces the old resource; deleting an old version
	// is the lifecycle's business, so Pulumi leaves it.
	version, err := s3.NewBucketObjectv2(ctx, d.Logical+"/version", args, pulumi.RetainOnDelete(true), pulumi.DependsOn(after))
	if err != nil {
		return err
	}
	// The record goes up after its version, so it never names a missing one.
	_, err = s3.NewBucketObjectv2(ctx, d.Logical+"/record", &s3.BucketObjectv2Args{
		Bucket:      state.ID(),
		Key:         pulumi.String(recordKey),
		Source:      pulumi.NewFileAsset(record),
		ContentType: pulumi.String("application/json"),
	}, pulumi.DependsOn([]pulumi.Resource{version}))
	return err
}

// recordLayout writes, in the state bucket at key, where each dataset's
// versions live ({"pipeline": ..., "datasets": {name: "s3://<bucket>"}}),
// so that glacier --remote, given the state's URL, finds them all, and
// the digest of each task's deployed module, which glacier run --push
// checks its own against.
func recordLayout(ctx *pulumi.Context, state *s3.BucketV2, key, pipeline string, datasets []*dataset, modules map[string]string) error {
	roots := pulumi.StringMap{}
	for _, d := range datasets {
		roots[d.Name] = pulumi.Sprintf("s3://%s", d.Bucket.Bucket)
	}
	_, err := s3.NewBucketObjectv2(ctx, "layout", &s3.BucketObjectv2Args{
		Bucket: state.ID(),
		Key:    pulumi.String(key),
		Content: pulumi.JSONMarshal(pulumi.Map{"pipeline": pulumi.String(pipeline), "datasets": roots,
			"modules": pulumi.ToStringMap(modules)}),
		ContentType: pulumi.String("application/json"),
	})
	return err
}

// uploadParts uploads a partitioned source dataset's parts, from the
// folder dir, each to the object its entry in the part list names (its
// version in the store, named by its digest), and then the list, the file
// list, as the dataset's stable name. It returns the parts, which the
// source's record must follow. Each part is a resource named after its
// object, uploaded once however many keys share its bytes, so adding or
// changing one file uploads that file alone; a replaced one is retained,
// as memo entries may name it.
func uploadParts(ctx *pulumi.Context, d *dataset, dir, list, storageClass string) ([]pulumi.Resource, error) {
	data, err := os.ReadFile(list)
	if err != nil {
		return nil, err
	}
	var entries []struct{ Key, Object string }
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("part list %s: %w", list, err)
	}
	var parts []pulumi.Resource
	uploaded := map[string]bool{}
	for _, e := range entries {
		if uploaded[e.Object] {
			continue
		}
		uploaded[e.Object] = true
		args := &s3.BucketObjectv2Args{
			Bucket: d.Bucket.ID(),
			Key:    pulumi.String(e.Object),
			Source: pulumi.NewFileAsset(path.Join(dir, e.Key)),
		}
		if storageClass != "" {
			args.StorageClass = pulumi.String(storageClass)
		}
		// Resource names may not hold "::"; escaping ':' and '%' keeps
		// distinct objects distinct.
		name := d.Logical + "/" + strings.NewReplacer("%", "%25", ":", "%3A").Replace(e.Object)
		obj, err := s3.NewBucketObjectv2(ctx, name, args, pulumi.RetainOnDelete(true))
		if err != nil {
			return nil, err
		}
		parts = append(parts, obj)
	}
	// The list goes up after its parts, so it never names a missing one.
	_, err = s3.NewBucketObjectv2(ctx, d.Logical, &s3.BucketObjectv2Args{
		Bucket:      d.Bucket.ID(),
		Key:         pulumi.String(d.Name),
		Source:      pulumi.NewFileAsset(list),
		ContentType: pulumi.String("application/json"),
	}, pulumi.DependsOn(parts))
	return parts, err
}

// tagged returns the tags for a resource: the pipeline's, plus the given
// key and value pairs.
func tagged(pairs ...string) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range tags {
		m[k] = pulumi.String(v)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pulumi.String(pairs[i+1])
	}
	return m
}
