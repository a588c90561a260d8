package aws

import (
	"fmt"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// StorageClass is an S3 storage class: a value of the aws_storage_class
// hint.
type StorageClass string

// S3 storage classes that aws_storage_class knows.
const (
	ClassStandard           StorageClass = "STANDARD"
	ClassReducedRedundancy  StorageClass = "REDUCED_REDUNDANCY"
	ClassStandardIA         StorageClass = "STANDARD_IA"
	ClassOneZoneIA          StorageClass = "ONEZONE_IA"
	ClassIntelligentTiering StorageClass = "INTELLIGENT_TIERING"
	ClassGlacier            StorageClass = "GLACIER"
	ClassDeepArchive        StorageClass = "DEEP_ARCHIVE"
	ClassGlacierIR          StorageClass = "GLACIER_IR"
	// ClassExpressOneZone is known but refused: it lives only in
	// directory buckets, which Glacier does not deploy.
	ClassExpressOneZone StorageClass = "EXPRESS_ONEZONE"
)

// StorageClasses returns the values the aws_storage_class hint knows: S3's
// object storage classes.
func StorageClasses() []StorageClass {
	return []StorageClass{
		ClassStandard, ClassReducedRedundancy, ClassStandardIA, ClassOneZoneIA, ClassIntelligentTiering,
		ClassGlacier, ClassDeepArchive, ClassGlacierIR, ClassExpressOneZone,
	}
}

// transitionDays is when an S3 lifecycle rule may move a new object to each
// class: STANDARD_IA and ONEZONE_IA only after 30 days, the others at once.
// STANDARD and REDUCED_REDUNDANCY are not transition targets.
var transitionDays = map[StorageClass]int{
	ClassStandardIA:         30,
	ClassOneZoneIA:          30,
	ClassIntelligentTiering: 0,
	ClassGlacierIR:          0,
	ClassGlacier:            0,
	ClassDeepArchive:        0,
}

// accessClass is the storage class an access pattern asks for when no
// aws_storage_class hint is given. Archive picks Glacier Instant Retrieval,
// the coldest class a task can still read without a restore.
var accessClass = map[glacier.AccessPattern]StorageClass{
	"":                       ClassStandard,
	glacier.AccessFrequent:   ClassStandard,
	glacier.AccessInfrequent: ClassStandardIA,
	glacier.AccessArchive:    ClassGlacierIR,
}

// bucketPlan is how one dataset's bucket is configured.
type bucketPlan struct {
	// Class is the storage class the dataset asks for.
	Class StorageClass
	// SourceClass is the storage class its source object is uploaded
	// with; empty for STANDARD.
	SourceClass StorageClass
	// TransitionTo and TransitionDays describe the lifecycle rule that
	// moves objects written by tasks to Class; TransitionTo is empty when
	// there is none.
	TransitionTo   StorageClass
	TransitionDays int
	Versioning     bool
	RetentionDays  int
}

// planBucket decides d's bucket settings, with retention the days its
// lifecycle rule expires the bucket's objects after
// (compile.Deployment.BucketRetentionDays), and reports what stops or
// weakens them.
func planBucket(d plan.Dataset, retention int, errorf, warnf func(format string, args ...any)) bucketPlan {
	s, _ := d.Object()
	bp := bucketPlan{Versioning: s.Versioning, RetentionDays: retention}
	class, known := compile.Class(d, hintStorageClass, accessClass, StorageClasses(), "an S3 storage class", errorf)
	switch {
	case !known:
		return bp
	case class == ClassExpressOneZone:
		errorf("aws_storage_class EXPRESS_ONEZONE exists only in S3 directory buckets, which need session-based access " +
			"beyond s3:GetObject and s3:PutObject; Glacier deploys general purpose buckets, so use STANDARD or INTELLIGENT_TIERING")
		return bp
	case (class == ClassGlacier || class == ClassDeepArchive) && len(d.Readers) > 0:
		errorf("aws_storage_class %s objects must be restored before they can be read, and %s reads this dataset; "+
			"use GLACIER_IR (read at once) or INTELLIGENT_TIERING", class, taskList(d.Readers))
		return bp
	}
	bp.Class = class
	if d.Source != "" && class != ClassStandard {
		bp.SourceClass = class
	}
	if d.Producer == "" || class == ClassStandard {
		return bp
	}
	days, ok := transitionDays[class]
	switch {
	case !ok:
		warnf("objects written by task %q stay STANDARD: no S3 lifecycle rule moves objects to %s", d.Producer, class)
	case !s.Versioning && retention > 0 && retention <= days:
		warnf("objects expire after %d days (retention_days), before S3 may move them to %s after %d; they stay STANDARD",
			retention, class, days)
	default:
		bp.TransitionTo, bp.TransitionDays = class, days
	}
	return bp
}

func taskList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "task " + q[0]
	}
	return "tasks " + strings.Join(q, ", ")
}
