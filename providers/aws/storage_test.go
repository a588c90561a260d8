package aws

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

func TestStorage(t *testing.T) {
	obj := func(s glacier.ObjectStorage) glacier.Storage { return s }
	hint := func(class string) glacier.Hints { return glacier.Hints{"aws_storage_class": class} }
	tests := []struct {
		name string
		// in is read by the task; out is written by it and read by nobody.
		in, out glacier.Storage
		wantIn  bucketPlan
		wantOut bucketPlan
		errs    []string
		warns   []string
	}{
		{name: "standard", in: obj(glacier.ObjectStorage{}), out: obj(glacier.ObjectStorage{}),
			wantIn: bucketPlan{Class: "STANDARD"}, wantOut: bucketPlan{Class: "STANDARD"}},
		// With a store, an unversioned output's retention applies to its
		// retired versions (compile.Dataset.RetireDays), not the bucket.
		{name: "versioning and retention", in: obj(glacier.ObjectStorage{Versioning: true, RetentionDays: 7}),
			out:    obj(glacier.ObjectStorage{RetentionDays: 30}),
			wantIn: bucketPlan{Class: "STANDARD", Versioning: true, RetentionDays: 7}, wantOut: bucketPlan{Class: "STANDARD"}},
		{name: "access patterns", in: obj(glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent}),
			out:     obj(glacier.ObjectStorage{AccessPattern: glacier.AccessArchive}),
			wantIn:  bucketPlan{Class: "STANDARD_IA", SourceClass: "STANDARD_IA"},
			wantOut: bucketPlan{Class: "GLACIER_IR", TransitionTo: "GLACIER_IR"}},
		{name: "hint beats access pattern", in: obj(glacier.ObjectStorage{AccessPattern: glacier.AccessArchive, Hints: hint("STANDARD")}),
			out:    obj(glacier.ObjectStorage{Hints: hint("ONEZONE_IA")}),
			wantIn: bucketPlan{Class: "STANDARD"}, wantOut: bucketPlan{Class: "ONEZONE_IA", TransitionTo: "ONEZONE_IA", TransitionDays: 30}},
		{name: "intelligent tiering", in: obj(glacier.ObjectStorage{Hints: hint("INTELLIGENT_TIERING")}),
			out:     obj(glacier.ObjectStorage{Hints: hint("INTELLIGENT_TIERING")}),
			wantIn:  bucketPlan{Class: "INTELLIGENT_TIERING", SourceClass: "INTELLIGENT_TIERING"},
			wantOut: bucketPlan{Class: "INTELLIGENT_TIERING", TransitionTo: "INTELLIGENT_TIERING"}},
		{name: "archive classes for data nobody reads", in: obj(glacier.ObjectStorage{Hints: hint("GLACIER_IR")}),
			out:     obj(glacier.ObjectStorage{Hints: hint("DEEP_ARCHIVE")}),
			wantIn:  bucketPlan{Class: "GLACIER_IR", SourceClass: "GLACIER_IR"},
			wantOut: bucketPlan{Class: "DEEP_ARCHIVE", TransitionTo: "DEEP_ARCHIVE"}},
		{name: "glacier for data a task reads", in: obj(glacier.ObjectStorage{Hints: hint("GLACIER")}), out: obj(glacier.ObjectStorage{}),
			wantOut: bucketPlan{Class: "STANDARD"},
			errs:    []string{`dataset "in": aws_storage_class GLACIER objects must be restored before they can be read, and task "t" reads this dataset`}},
		{name: "not a storage class", in: obj(glacier.ObjectStorage{}), out: obj(glacier.ObjectStorage{Hints: hint("COLD")}),
			wantIn: bucketPlan{Class: "STANDARD"},
			errs:   []string{`dataset "out": aws_storage_class "COLD" is not an S3 storage class; use one of STANDARD, REDUCED_REDUNDANCY`}},
		{name: "lowercase is not a storage class", in: obj(glacier.ObjectStorage{Hints: hint("standard")}), out: obj(glacier.ObjectStorage{}),
			wantOut: bucketPlan{Class: "STANDARD"},
			errs:    []string{`dataset "in": aws_storage_class "standard" is not an S3 storage class`}},
		{name: "express one zone", in: obj(glacier.ObjectStorage{}), out: obj(glacier.ObjectStorage{Hints: hint("EXPRESS_ONEZONE")}),
			wantIn: bucketPlan{Class: "STANDARD"},
			errs:   []string{`dataset "out": aws_storage_class EXPRESS_ONEZONE exists only in S3 directory buckets`}},
		{name: "reduced redundancy", in: obj(glacier.ObjectStorage{Hints: hint("REDUCED_REDUNDANCY")}),
			out:     obj(glacier.ObjectStorage{Hints: hint("REDUCED_REDUNDANCY")}),
			wantIn:  bucketPlan{Class: "REDUCED_REDUNDANCY", SourceClass: "REDUCED_REDUNDANCY"},
			wantOut: bucketPlan{Class: "REDUCED_REDUNDANCY"},
			warns:   []string{`dataset "out": objects written by task "t" stay STANDARD: no S3 lifecycle rule moves objects to REDUCED_REDUNDANCY`}},
		{name: "retired versions expire, the current one moves", in: obj(glacier.ObjectStorage{}),
			out:     obj(glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent, RetentionDays: 30}),
			wantIn:  bucketPlan{Class: "STANDARD"},
			wantOut: bucketPlan{Class: "STANDARD_IA", TransitionTo: "STANDARD_IA", TransitionDays: 30}},
		{name: "versioned expiry does not stop the transition", in: obj(glacier.ObjectStorage{}),
			out:     obj(glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent, RetentionDays: 7, Versioning: true}),
			wantIn:  bucketPlan{Class: "STANDARD"},
			wantOut: bucketPlan{Class: "STANDARD_IA", RetentionDays: 7, Versioning: true, TransitionTo: "STANDARD_IA", TransitionDays: 30}},
		{name: "unknown hint", in: obj(glacier.ObjectStorage{Hints: glacier.Hints{"aws_kms_key": "k"}}), out: obj(glacier.ObjectStorage{}),
			wantIn: bucketPlan{Class: "STANDARD"}, wantOut: bucketPlan{Class: "STANDARD"},
			warns: []string{`dataset "in": the AWS compiler does not know the hint "aws_kms_key" and ignores it; it knows aws_storage_class`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pipeline(t, serverless(0, 0, nil),
				glacier.Dataset{Name: "in", Storage: tt.in, Source: "in.csv"},
				glacier.Dataset{Name: "out", Storage: tt.out})
			dep, probs := designFor(t, p, Options{Dir: project(t)})
			errs, warns := compiletest.Problems(probs)
			assertProblems(t, errs, tt.errs)
			assertProblems(t, warns, tt.warns)
			got := map[string]bucketPlan{}
			for _, d := range dep.Datasets {
				got[d.Name] = d.Bucket
			}
			if _, ok := tt.in.(glacier.ObjectStorage); ok {
				assert.Equal(t, tt.wantIn, got["in"], "in")
			}
			if _, ok := tt.out.(glacier.ObjectStorage); ok {
				assert.Equal(t, tt.wantOut, got["out"], "out")
			}
		})
	}
}

// TestExpiryBeforeTransition: where a bucket's objects expire by age (a
// deployment without a store) before S3 may move them to their class, the
// transition is left out, with a warning.
func TestExpiryBeforeTransition(t *testing.T) {
	d := plan.Dataset{Dataset: glacier.Dataset{Name: "out",
		Storage: glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent, RetentionDays: 30}}, Producer: "t"}
	var warns []string
	warnf := func(format string, args ...any) { warns = append(warns, fmt.Sprintf(format, args...)) }
	errorf := func(format string, args ...any) { t.Errorf(format, args...) }
	assert.Equal(t, bucketPlan{Class: "STANDARD_IA", RetentionDays: 30}, planBucket(d, 30, errorf, warnf))
	assert.Equal(t, []string{"objects expire after 30 days (retention_days), before S3 may move them to STANDARD_IA after 30; they stay STANDARD"}, warns)
	warns = nil
	assert.Equal(t, bucketPlan{Class: "STANDARD_IA", TransitionTo: "STANDARD_IA", TransitionDays: 30}, planBucket(d, 0, errorf, warnf))
	assert.Empty(t, warns, "with a store the bucket's objects do not expire by age")
}
